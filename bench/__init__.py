"""tunegate's data-gate benchmarks: detection (attack, benign and safety files) and throughput.

``python -m bench`` runs them in sequence and rewrites their sections of ``docs/benchmarks.md``
(other sections are kept). Benchmark files are built from ``../shared/data`` into a temp dir
(``bench.attack_files``); harmful rows never leave that dir: the docs carry file names and numbers.
"""

from __future__ import annotations

import os
import platform
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

# Offline, like the Makefile: no hub downloads, no LiteLLM cost-map fetch on import.
for _name, _value in (
    ("HF_HUB_OFFLINE", "1"),
    ("TRANSFORMERS_OFFLINE", "1"),
    ("LITELLM_LOCAL_MODEL_COST_MAP", "True"),
):
    os.environ.setdefault(_name, _value)

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"
DOC = ROOT / "docs" / "benchmarks.md"
DOC_TITLE = "# Benchmarks"


def machine() -> dict[str, str]:
    """CPU model, cores, RAM, Python and torch versions, and today's date (UTC)."""
    model = ""
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout
        model = next(
            (line.split(":", 1)[1].strip() for line in out.splitlines() if line.startswith("Model name")), ""
        )
    except OSError:
        pass
    ram = ""
    try:
        kib = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))
        ram = f"{kib / 1024**2:.1f} GiB"
    except (OSError, AttributeError):
        pass
    try:
        import torch

        torch_version = torch.__version__
    except ImportError:
        torch_version = "not installed"
    date = subprocess.run(["date", "-u", "+%F"], capture_output=True, text=True, check=False).stdout.strip()
    return {
        "cpu": model or platform.processor() or "unknown",
        "cores": str(os.cpu_count()),
        "ram": ram or "unknown",
        "python": platform.python_version(),
        "torch": torch_version,
        "date": date,
    }


def header() -> str:
    m = machine()
    return "\n".join(
        [
            DOC_TITLE,
            "",
            f"Measured {m['date']} on {m['cpu']}, {m['cores']} cores, {m['ram']} RAM; "
            f"Python {m['python']}, torch {m['torch']}.",
            "The cores were shared with other jobs during the runs: timings are indicative, not tight.",
            "Reproduce with `make bench` (or `.venv/bin/python -m bench`; `--quick` for a smoke run).",
            "",
        ]
    )


def write_section(title: str, body: str, doc: Path = DOC) -> None:
    """Replace (or append) the ``## title`` section of ``doc``, keeping every other section as it is."""
    sections: list[tuple[str, str]] = []
    if doc.exists():
        current, lines = None, []
        for line in doc.read_text(encoding="utf-8").splitlines():
            if line.startswith("## "):
                if current is not None:
                    sections.append((current, "\n".join(lines).rstrip()))
                current, lines = line[3:].strip(), [line]
            elif current is not None:
                lines.append(line)
        if current is not None:
            sections.append((current, "\n".join(lines).rstrip()))
    new = f"## {title}\n\n{body.strip()}"
    if any(name == title for name, _ in sections):
        sections = [(name, new if name == title else text) for name, text in sections]
    else:
        sections.append((title, new))
    doc.parent.mkdir(parents=True, exist_ok=True)
    doc.write_text(header() + "\n" + "\n\n".join(text for _, text in sections) + "\n", encoding="utf-8")


def write_section_keeping_opening(title: str, body: str, doc: Path = DOC) -> None:
    """``write_section``, but the doc's opening lines stay as they are: they say where the other
    benchmarks were measured, and this section says where it was."""
    opening = None
    if doc.exists():
        text = doc.read_text(encoding="utf-8")
        at = text.find("\n## ")
        opening = text[: at + 1] if at >= 0 else None
    write_section(title, body, doc)
    if opening:
        text = doc.read_text(encoding="utf-8")
        doc.write_text(opening + text[text.find("\n## ") + 1 :], encoding="utf-8")


def markdown_table(columns: list[str], rows: list[list[object]]) -> str:
    def cell(value: object) -> str:
        return str(value).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(columns) + " |", "|" + "|".join("---" for _ in columns) + "|"]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def build_profile(
    *, device: str = "auto", weights_dir: str | None = None, guard_dir: str | None = None
) -> Any:
    """The default profile; ``device`` / ``weights_dir`` set the harm-embedding classifier's, ``guard_dir``
    adds a local guard model. Built from the same names as ``gateway.scan.profile.default_profile``."""
    from classifiers.detectors.base import build_detector, known_detectors
    from classifiers.registry import build_classifier
    from gateway.scan.engine import ScanProfile
    from gateway.scan.profile import DEFAULT_CLASSIFIERS, DEFAULT_DETECTORS, default_profile

    if device == "auto" and not weights_dir and not guard_dir:
        return default_profile()
    embedding: dict[str, Any] = {"device": device} if device != "auto" else {}
    if weights_dir:
        embedding["weights_dir"] = str(weights_dir)
    classifiers = [
        build_classifier(name, embedding if name == "harm-embedding" else None)
        for name in DEFAULT_CLASSIFIERS
    ]
    if guard_dir:
        guard = {
            "family": "llama_guard",
            "model_path": str(guard_dir),
            "device": "cpu" if device == "auto" else device,
        }
        classifiers.append(build_classifier("guard-model", guard))
    available = known_detectors()

    def detectors() -> list[Any]:
        return [build_detector(name) for name in DEFAULT_DETECTORS if name in available]

    return ScanProfile(classifiers=classifiers, detectors=detectors)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)
