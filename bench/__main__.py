"""``python -m bench``: the detection benchmark, the throughput benchmark, the paper in miniature
(the model gate end to end), then the gateway under load; each rewrites its section of
``docs/benchmarks.md``. ``--quick`` is a smoke run (small files and sizes)."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from bench import DOC, SHARED_DATA, log


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: a few small files, small sizes")
    parser.add_argument("--only", choices=("detection", "throughput", "paper", "load"), default=None)
    parser.add_argument("--data-dir", type=Path, default=SHARED_DATA)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--doc", type=Path, default=DOC)
    parser.add_argument("--no-doc", action="store_true", help="print the sections, leave the doc alone")
    parser.add_argument("--json-dir", type=Path, default=None, help="also write raw results here")
    parser.add_argument(
        "--weights-dir", default=None, help="harm-embedding heads from here (default: shipped)"
    )
    parser.add_argument("--device", default="auto", help="throughput: auto | cpu | cuda")
    parser.add_argument("--guard", action="store_true", help="throughput: add a Llama-Guard-3-1B-sized model")
    parser.add_argument(
        "--max-seconds", type=float, default=None, help="throughput: stop a scan after this long"
    )
    args = parser.parse_args(argv)
    if not args.data_dir.is_dir():
        log(f"shared data sets not found at {args.data_dir}")
        return 2
    doc = None if args.no_doc else args.doc
    suffix = " --quick" if args.quick else ""
    if args.json_dir:
        args.json_dir.mkdir(parents=True, exist_ok=True)
    if args.only in (None, "detection"):
        from bench import detection

        started = time.perf_counter()
        _, body = detection.run(
            quick=args.quick,
            seed=args.seed,
            data_dir=args.data_dir,
            doc=doc,
            json_out=args.json_dir / "detection.json" if args.json_dir else None,
            command=f"python -m bench{suffix}",
            weights_dir=args.weights_dir,
        )
        print("## Detection\n\n" + body + "\n")
        log(f"[bench] detection done in {time.perf_counter() - started:.0f}s")
    if args.only in (None, "throughput"):
        from bench import throughput

        started = time.perf_counter()
        options = {"max_seconds": args.max_seconds} if args.max_seconds else {}
        _, body = throughput.run(
            quick=args.quick,
            device=args.device,
            guard=args.guard,
            doc=doc,
            json_out=args.json_dir / "throughput.json" if args.json_dir else None,
            command=f"python -m bench{suffix}",
            weights_dir=args.weights_dir,
            **options,
        )
        print("## Throughput\n\n" + body + "\n")
        log(f"[bench] throughput done in {time.perf_counter() - started:.0f}s")
    if args.only in (None, "paper"):
        from bench import paper_repro

        started = time.perf_counter()
        _, body = paper_repro.run(
            quick=args.quick,
            seed=args.seed,
            doc=doc,
            command=f"python -m bench{suffix}",
            json_out=args.json_dir / "paper_repro.json" if args.json_dir else None,
        )
        print("## The paper in miniature\n\n" + body + "\n")
        log(f"[bench] paper in miniature done in {time.perf_counter() - started:.0f}s")
    if args.only in (None, "load"):
        from bench import load

        started = time.perf_counter()
        _, body = load.run(
            quick=args.quick,
            doc=doc,
            command=f"python -m bench{suffix}",
            json_out=args.json_dir / "load.json" if args.json_dir else None,
        )
        print("## Load\n\n" + body + "\n")
        log(f"[bench] load done in {time.perf_counter() - started:.0f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
