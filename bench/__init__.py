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


def markdown_table(columns: list[str], rows: list[list[object]]) -> str:
    def cell(value: object) -> str:
        return str(value).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(columns) + " |", "|" + "|".join("---" for _ in columns) + "|"]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)
