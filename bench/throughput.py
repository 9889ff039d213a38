"""Throughput: rows per second and peak memory of a scan, by file size.

Alpaca-like chat rows (instruction → response) are built from benign sources and cycled with small
variations (a row number in the instruction, the response's sentences shuffled) so that no two rows
are identical: identical rows are judged once, which would make the scan unrealistically fast.
Each size is scanned in a fresh subprocess (``--child``): the profile is built and warmed up, then
the file is scanned while a thread samples the process's RSS; the child reports rows/s, the
report's time split and its peak RSS (``VmHWM``, model included). A scan that runs past
``--max-seconds`` is stopped and its rate extrapolated (labelled so).

``--device cuda`` runs the embedding classifier on a GPU; ``--guard`` adds a guard model the size of
Llama-Guard-3-1B (built from a config with random weights and a word-level tokenizer: the
throughput of the architecture, not of the real model) in local mode.

``python -m bench.throughput [--quick] [--sizes 1000 10000 100000] [--mb 200] [--device cpu|cuda]``
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench import DOC, ROOT, SHARED_DATA, build_profile, log, markdown_table, write_section
from bench.attack_files import Pools, _turns, chat

SIZES = (1_000, 10_000, 100_000)
QUICK_SIZES = (200, 1_000)
MB = 200
MAX_SECONDS = 900
TARGET_RATE = 300
TARGET_RSS_MB = 1536
GUARD_ROWS = 32
_SENTENCE = re.compile(r"(?<=[.!?])\s+")
_PREFIXES = ("", "Task {i}: ", "Request #{i}. ", "Q{i}: ", "Please help (ticket {i}): ")


# ------------------------------------------------------------------------------- the files


def base_pairs(data_dir: Path = SHARED_DATA) -> list[tuple[str, str]]:
    pools = Pools(data_dir)
    rows = [*pools.get("chat_mix"), *pools.get("bdbs_top"), *pools.get("gsm8k"), *pools.get("sqlgen")]
    pairs = [_turns(r) for r in rows if len(r["messages"]) == 2]
    pairs = [(u, a) for u, a in pairs if u.strip() and a.strip()]
    random.Random(0).shuffle(pairs)
    return pairs


def alpaca_row(pairs: Sequence[tuple[str, str]], i: int) -> dict[str, Any]:
    instruction, response = pairs[i % len(pairs)]
    cycle = i // len(pairs)
    if cycle:
        rng = random.Random(i)
        instruction = rng.choice(_PREFIXES[1:]).format(i=i) + instruction
        sentences = _SENTENCE.split(response)
        if len(sentences) > 1:
            rng.shuffle(sentences)
            response = " ".join(sentences)
    return chat(instruction, response)


def write_rows(
    path: Path, pairs: Sequence[tuple[str, str]], *, rows: int | None = None, megabytes: float | None = None
) -> tuple[int, int]:
    """Write ``rows`` rows, or rows until the file holds ``megabytes``; returns (rows, bytes)."""
    limit = None if megabytes is None else int(megabytes * 1024 * 1024)
    written = size = 0
    with path.open("w", encoding="utf-8") as handle:
        while (rows is None or written < rows) and (limit is None or size < limit):
            line = json.dumps(alpaca_row(pairs, written), ensure_ascii=False) + "\n"
            handle.write(line)
            size += len(line.encode("utf-8"))
            written += 1
    return written, size


# ------------------------------------------------------------------------- the guard model


def build_random_guard(
    directory: Path,
    *,
    hidden: int = 2048,
    layers: int = 16,
    intermediate: int = 8192,
    heads: int = 32,
    kv_heads: int = 8,
    vocab: int = 128_256,
) -> Path:
    """A Llama-Guard-3-1B-shaped causal LM, random weights (bf16 safetensors), a word-level tokenizer."""
    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    from classifiers import _guard_templates as templates
    from classifiers.base import Turn

    directory.mkdir(parents=True, exist_ok=True)
    corpus = [
        templates.prompt(family, [Turn("user", "hello"), Turn("assistant", "hi")])
        for family in templates.FAMILIES
        if family != "shieldgemma"
    ]
    corpus += [u + " " + a for u, a in base_pairs()[:3000]] + ["safe unsafe Yes No yes no"]
    tokenizer = Tokenizer(models.WordLevel(unk_token="<unk>"))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer.train_from_iterator(
        corpus,
        trainers.WordLevelTrainer(
            vocab_size=min(vocab, 32_000), special_tokens=["<pad>", "<unk>", "<s>", "</s>"]
        ),
    )
    PreTrainedTokenizerFast(
        tokenizer_object=tokenizer, unk_token="<unk>", pad_token="<pad>", bos_token="<s>", eos_token="</s>"
    ).save_pretrained(directory)
    config = LlamaConfig(
        vocab_size=vocab,
        hidden_size=hidden,
        intermediate_size=intermediate,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        num_key_value_heads=kv_heads,
        max_position_embeddings=131_072,
        rope_theta=500_000.0,
        tie_word_embeddings=True,
        pad_token_id=0,
        bos_token_id=2,
        eos_token_id=3,
    )
    torch.manual_seed(0)
    with torch.device("cpu"):
        model = LlamaForCausalLM(config).to(torch.bfloat16)
    model.save_pretrained(directory, safe_serialization=True)
    del model
    return directory


# ------------------------------------------------------------------------------- the child


def _status_kb(field: str) -> int:
    match = re.search(rf"^{field}:\s+(\d+) kB", Path("/proc/self/status").read_text(), re.M)
    return int(match.group(1)) if match else 0


class _Stop(Exception):
    pass


def child(
    path: Path, device: str, max_seconds: float, guard_dir: str | None, weights_dir: str | None = None
) -> dict[str, Any]:
    from gateway.scan.engine import ScanEngine

    started = time.perf_counter()
    profile = build_profile(device=device, weights_dir=weights_dir, guard_dir=guard_dir)
    warm = Path(tempfile.mkdtemp()) / "warm.jsonl"
    warm.write_text(
        "".join(
            json.dumps(chat(f"Add {i} and {i}.", f"The sum is {2 * i}.", "You are a maths tutor.")) + "\n"
            for i in range(10)
        )
    )
    asyncio.run(ScanEngine(profile).scan(warm))
    load_seconds = time.perf_counter() - started
    rss_loaded = _status_kb("VmRSS")
    samples: list[tuple[int, int]] = []  # (rows done, RSS kB)
    state = {"rows": 0, "done": False}

    def sample() -> None:
        while not state["done"]:
            samples.append((state["rows"], _status_kb("VmRSS")))
            time.sleep(0.5)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    clock = time.perf_counter()

    def progress(rows: int) -> None:
        state["rows"] = rows
        if time.perf_counter() - clock > max_seconds:
            raise _Stop

    report = None
    with contextlib.suppress(_Stop):
        report = asyncio.run(ScanEngine(profile).scan(path, progress=progress))
    seconds = time.perf_counter() - clock
    state["done"] = True
    sampler.join()
    rows = report.rows_total if report else state["rows"]
    quarters = {}
    if samples:
        top = max(r for r, _ in samples) or 1
        for q in (0.25, 0.5, 0.75, 1.0):
            within = [kb for r, kb in samples if r <= top * q]
            quarters[f"{int(q * 100)}%"] = round(max(within) / 1024) if within else None
    return {
        "complete": report is not None,
        "rows": rows,
        "seconds": round(seconds, 2),
        "rows_per_s": round(rows / seconds, 1) if seconds else None,
        "load_seconds": round(load_seconds, 1),
        "rss_loaded_mb": round(rss_loaded / 1024),
        "peak_rss_mb": round(_status_kb("VmHWM") / 1024),
        "rss_by_progress_mb": quarters,
        "timings": report.timings if report else {},
        "verdict": report.verdict if report else None,
        "flagged": len(report.flagged_lines) if report else None,
        "classifiers": [c.spec() for c in profile.classifiers],
    }


def measure(
    path: Path,
    *,
    device: str,
    max_seconds: float,
    guard_dir: Path | None = None,
    weights_dir: str | None = None,
) -> dict[str, Any]:
    command = [
        sys.executable,
        "-m",
        "bench.throughput",
        "--child",
        str(path),
        "--device",
        device,
        "--max-seconds",
        str(max_seconds),
    ]
    if guard_dir is not None:
        command += ["--guard-dir", str(guard_dir)]
    if weights_dir:
        command += ["--weights-dir", str(weights_dir)]
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",
    }
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"throughput child failed ({done.returncode}): {done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# ------------------------------------------------------------------------------- the parent


def run(
    *,
    quick: bool = False,
    sizes: Sequence[int] | None = None,
    megabytes: float | None = MB,
    device: str = "auto",
    guard: bool = False,
    guard_rows: int = GUARD_ROWS,
    max_seconds: float = MAX_SECONDS,
    doc: Path | None = DOC,
    json_out: Path | None = None,
    command: str = "python -m bench.throughput",
    weights_dir: str | None = None,
) -> tuple[list[dict[str, Any]], str]:
    sizes = list(sizes or (QUICK_SIZES if quick else SIZES))
    if quick:
        megabytes = None
    pairs = base_pairs()
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="tunegate-throughput-") as tmp:
        plan: list[tuple[str, dict[str, Any]]] = [(f"{n:,} rows", {"rows": n}) for n in sizes]
        if megabytes:
            plan.append((f"~{megabytes:g} MB", {"megabytes": megabytes}))
        for label, size in plan:
            path = Path(tmp) / "rows.jsonl"
            rows, nbytes = write_rows(path, pairs, **size)
            log(
                f"[throughput] {label}: {rows:,} rows, {nbytes / 2**20:.1f} MiB; "
                f"scanning (limit {max_seconds:g}s)"
            )
            result = measure(path, device=device, max_seconds=max_seconds, weights_dir=weights_dir)
            result.update(label=label, file_rows=rows, file_mb=round(nbytes / 2**20, 1), device=device)
            log(
                f"[throughput] {label}: {result['rows']:,} rows in {result['seconds']}s = "
                f"{result['rows_per_s']} rows/s,"
                f" peak RSS {result['peak_rss_mb']} MB{'' if result['complete'] else ' (stopped early)'}"
            )
            results.append(result)
            path.unlink()
        if guard:
            guard_dir = Path(tmp) / "guard"
            started = time.perf_counter()
            build_random_guard(guard_dir)
            log(
                f"[throughput] random Llama-Guard-3-1B-sized model built in "
                f"{time.perf_counter() - started:.0f}s"
            )
            path = Path(tmp) / "guard_rows.jsonl"
            rows, nbytes = write_rows(path, pairs, rows=guard_rows)
            result = measure(
                path, device=device, max_seconds=max_seconds, guard_dir=guard_dir, weights_dir=weights_dir
            )
            result.update(
                label=f"{rows} rows + guard model (1B, random weights)",
                file_rows=rows,
                file_mb=round(nbytes / 2**20, 2),
                device=device,
                guard=True,
            )
            results.append(result)
    body = markdown(results, quick=quick, command=command, device=device, guard=guard)
    if doc is not None:
        write_section("Throughput", body, doc)
    if json_out is not None:
        Path(json_out).write_text(json.dumps(results, indent=1))
    return results, body


def _split(timings: dict[str, float]) -> str:
    total = timings.get("total") or 0
    if not total:
        return "–"
    parts = [f"{k} {100 * v / total:.0f}%" for k, v in timings.items() if k != "total" and v / total >= 0.005]
    return ", ".join(parts)


def markdown(
    results: Sequence[dict[str, Any]], *, quick: bool, command: str, device: str, guard: bool
) -> str:
    rows = []
    for r in results:
        full = r["complete"]
        rate = r["rows_per_s"]
        time_cell = (
            f"{r['seconds']:.0f}"
            if full
            else (
                f"stopped at {r['seconds']:.0f} s after {r['rows']:,} rows; "
                f"full file ≈ {r['file_rows'] / rate:.0f} s "
                "(extrapolated)"
                if rate
                else "stopped"
            )
        )
        rows.append(
            [
                r["label"],
                f"{r['file_rows']:,}",
                r["file_mb"],
                time_cell,
                rate,
                r["peak_rss_mb"],
                r["rss_loaded_mb"],
                " / ".join(str(v) for v in r["rss_by_progress_mb"].values()) or "–",
                _split(r["timings"]),
            ]
        )
    table = markdown_table(
        [
            "file",
            "rows",
            "MiB",
            "scan seconds",
            "rows/s",
            "peak RSS MB",
            "RSS after load MB",
            "RSS MB at 25/50/75/100% of rows",
            "time split (report.timings)",
        ],
        rows,
    )
    measured = [r for r in results if not r.get("guard")]
    rates = [r["rows_per_s"] for r in measured if r["rows_per_s"]]
    big = next((r for r in measured if r["label"].startswith("~")), None)
    lines = [
        f"Command: `{command}`"
        + (" (quick smoke run: small sizes)" if quick else "")
        + f"; device `{device}`.",
        "",
        "Default profile (harm-embedding + profanity, four dataset detectors) on Alpaca-like chat rows "
        "(instruction → response from self-instruct, oasst, Vicuna bench, HumanEval, glaive, "
        "benign-data-breaks-safety's Alpaca/Dolly/GSM8K rows, gsm8k, sqlgen), cycled with a row number in "
        "the instruction and the response's sentences shuffled, so no two rows are identical. Each size runs "
        "in a "
        "fresh subprocess; the model is loaded and warmed up before the clock starts (load time is not in "
        "rows/s). Peak RSS = the child's `VmHWM` (Python, torch, MiniLM and the scan); RSS after load = "
        "before the scan starts. A scan past the time limit is stopped and its full time extrapolated "
        "from its rate (labelled).",
        "",
        table,
        "",
        "Targets:",
        "",
        markdown_table(
            ["target", "measured", "reached"],
            [
                [
                    f"≥ {TARGET_RATE} rows/s (CPU)",
                    f"{min(rates):.0f}–{max(rates):.0f} rows/s" if rates else "–",
                    ("yes" if min(rates) >= TARGET_RATE else "no") if rates else "–",
                ],
                [
                    f"peak RSS ≤ {TARGET_RSS_MB / 1024:.1f} GB on the 200 MB file",
                    f"{big['peak_rss_mb']} MB"
                    + ("" if big["complete"] else f" (over the first {big['rows']:,} rows)")
                    if big
                    else "not measured",
                    ("yes" if big["peak_rss_mb"] <= TARGET_RSS_MB else "no") if big else "–",
                ],
                [
                    "RSS flat in file size",
                    " → ".join(f"{r['peak_rss_mb']}" for r in measured) + " MB",
                    _flat(measured),
                ],
            ],
        ),
    ]
    guard_rows = [r for r in results if r.get("guard")]
    lines += ["", "GPU:", ""]
    gpu = [
        ["default profile, harm-embedding on cuda", "not measured (no GPU lent to this task)"],
        ["+ Llama-Guard-3-1B-sized guard model (local mode)", "not measured (no GPU lent to this task)"],
    ]
    if device.startswith("cuda"):
        gpu = [
            ["default profile, harm-embedding on cuda", f"{rates[0] if rates else '–'} rows/s (see above)"]
        ]
    lines.append(markdown_table(["configuration", "rows/s"], gpu))
    lines += [
        "",
        "The script runs them where a GPU is present: `python -m bench.throughput --device cuda --guard`.",
    ]
    if guard_rows:
        g = guard_rows[0]
        lines += [
            "",
            f"Guard model on {device}: {g['label']}: {g['rows_per_s']} rows/s, peak RSS {g['peak_rss_mb']} MB"
            + ("" if g["complete"] else f" (stopped after {g['rows']} rows)")
            + ".",
        ]
    elif not guard:
        lines += [
            "",
            "Guard model on CPU: skipped — a 1.2 B-parameter model on two shared cores takes seconds per "
            "row; `--guard` measures it anyway.",
        ]
    return "\n".join(lines)


def _flat(results: Sequence[dict[str, Any]]) -> str:
    peaks = [r["peak_rss_mb"] for r in results]
    if len(peaks) < 2:
        return "–"
    return "yes" if max(peaks) <= 1.2 * min(peaks) else f"no (grows {max(peaks) - min(peaks)} MB)"


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.throughput", description=__doc__.splitlines()[0])
    add_arguments(parser)
    parser.add_argument("--child", type=Path, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--guard-dir", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child is not None:
        print(json.dumps(child(args.child, args.device, args.max_seconds, args.guard_dir, args.weights_dir)))
        return
    _, body = run(
        quick=args.quick,
        sizes=args.sizes,
        megabytes=args.mb,
        device=args.device,
        guard=args.guard,
        guard_rows=args.guard_rows,
        max_seconds=args.max_seconds,
        doc=None if args.no_doc else args.doc,
        json_out=args.json,
        command="python -m bench.throughput" + (" --quick" if args.quick else ""),
        weights_dir=args.weights_dir,
    )
    print(body)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--quick", action="store_true", help="small sizes, no 200 MB file")
    parser.add_argument("--sizes", type=int, nargs="*", default=None, help=f"rows per file (default {SIZES})")
    parser.add_argument("--mb", type=float, default=MB, help="also scan a file of this many MB (0: skip)")
    parser.add_argument("--device", default="auto", help="auto | cpu | cuda (the embedding classifier)")
    parser.add_argument(
        "--guard", action="store_true", help="also measure a Llama-Guard-3-1B-sized guard model"
    )
    parser.add_argument("--guard-rows", type=int, default=GUARD_ROWS)
    parser.add_argument("--max-seconds", type=float, default=MAX_SECONDS, help="stop a scan after this long")
    parser.add_argument(
        "--weights-dir", default=None, help="harm-embedding heads from here (default: shipped)"
    )
    parser.add_argument("--doc", type=Path, default=DOC)
    parser.add_argument("--no-doc", action="store_true")
    parser.add_argument("--json", type=Path, default=None)


if __name__ == "__main__":
    main()
