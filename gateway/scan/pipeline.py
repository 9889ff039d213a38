"""The scan step: read a spooled training file example by example and decide whether it may leave.

Scanners plug in through ``ScanHook``; with none registered a file whose format was valid
at upload passes. The file's status moves from ``uploaded`` to ``processed`` (or ``error``),
and jobs waiting on it proceed.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import anyio
from sqlalchemy.ext.asyncio import async_sessionmaker

from gateway.jobs.lifecycle import Done, Outcome
from gateway.scan.examples import Example
from gateway.scan.parse import TrainingFileError, iter_examples
from gateway.spool import sha256_of
from gateway.store import tables

BATCH_SIZE = 256


@dataclass
class ScanReport:
    passed: bool = True
    examples: int = 0
    details: str | None = None
    findings: list[dict[str, Any]] = field(default_factory=list)


class ScanHook(Protocol):
    """One scanner over a file's examples, fed in batches, asked for its findings at the end."""

    name: str

    async def feed(self, examples: Sequence[Example]) -> None: ...

    async def finish(self, report: ScanReport) -> None: ...


class FileScanner:
    def __init__(
        self, sessions: async_sessionmaker, *, hooks: Sequence[ScanHook] = (), max_line_bytes: int
    ) -> None:
        self._sessions = sessions
        self._hooks = list(hooks)
        self._max_line_bytes = max_line_bytes

    async def __call__(self, file_id: str) -> Outcome:
        async with self._sessions() as session:
            file = await session.get(tables.File, file_id)
        if file is None or file.status != "uploaded":
            return Done()
        report = await self._scan(Path(file.spool_path), file.sha256)
        async with self._sessions() as session:
            stored = await session.get(tables.File, file_id)
            if stored is None:
                return Done()
            stored.status = "processed" if report.passed else "error"
            stored.status_details = report.details
            stored.scan = {
                "passed": report.passed,
                "examples": report.examples,
                "findings": report.findings,
                "scanned_at": int(time.time()),
                "scanners": [h.name for h in self._hooks],
            }
            await session.commit()
        return Done()

    async def _scan(self, path: Path, sha256: str) -> ScanReport:
        report = ScanReport()
        if not await anyio.Path(path).is_file() or await anyio.to_thread.run_sync(sha256_of, path) != sha256:
            report.passed = False
            report.details = "The stored file changed or disappeared after upload; upload it again."
            return report
        batches = iter_examples(path, max_line_bytes=self._max_line_bytes)
        try:
            while batch := await anyio.to_thread.run_sync(_next_batch, batches):
                report.examples += len(batch)
                for hook in self._hooks:
                    await hook.feed(batch)
        except TrainingFileError as exc:
            report.passed = False
            report.details = exc.message
            return report
        for hook in self._hooks:
            await hook.finish(report)
        return report


def _next_batch(examples: Any) -> list[Example]:
    batch: list[Example] = []
    for example in examples:
        batch.append(example)
        if len(batch) >= BATCH_SIZE:
            break
    return batch
