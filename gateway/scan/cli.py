"""``tunegate scan FILE``: the data gate on a local file, with the same report as the HTTP route.

Exit codes: 0 allow / allow_with_changes, 1 reject, 2 review, 3 invalid file or usage.
"""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

from gateway.errors import GatewayError
from gateway.scan.engine import ScanEngine, ScanProfile
from gateway.scan.render import as_markdown, as_table
from gateway.scan.report import ScanReport

EXIT_CODES = {"allow": 0, "allow_with_changes": 0, "reject": 1, "review": 2}
EXIT_INVALID = 3


class _ProgressBar:
    """A one-line progress report on a terminal (rows scanned, rows per second)."""

    def __init__(self, total_bytes: int) -> None:
        self._started = time.perf_counter()
        self._enabled = sys.stderr.isatty()
        self._total = total_bytes

    def __call__(self, rows: int) -> None:
        if not self._enabled:
            return
        elapsed = max(time.perf_counter() - self._started, 1e-6)
        sys.stderr.write(f"\rscanning: {rows} rows, {rows / elapsed:,.0f} rows/s")
        sys.stderr.flush()

    def close(self) -> None:
        if self._enabled:
            sys.stderr.write("\n")


def render(report: ScanReport, fmt: str) -> str:
    if fmt == "json":
        return report.model_dump_json(indent=2) + "\n"
    if fmt == "markdown":
        return as_markdown(report)
    return as_table(report) + "\n"


def run_scan(path: Path, *, profile: ScanProfile, fmt: str, output: Path | None, max_line_bytes: int) -> int:
    if not path.is_file():
        print(f"tunegate scan: {path} is not a file", file=sys.stderr)
        return EXIT_INVALID
    bar = _ProgressBar(path.stat().st_size)
    try:
        report = asyncio.run(ScanEngine(profile).scan(path, max_line_bytes=max_line_bytes, progress=bar))
    except GatewayError as exc:
        bar.close()
        print(f"tunegate scan: {exc.message}", file=sys.stderr)
        return EXIT_INVALID
    bar.close()
    text = render(report, fmt)
    if output:
        output.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return EXIT_CODES[report.verdict]
