"""The scan step as background work: scan a spooled file, record the report, prepare what leaves.

The file's status moves from ``uploaded`` to ``processed`` (allowed, possibly cleaned) or
``error`` (rejected or held, with OpenAI's wording and the flagged lines). Jobs waiting on
the file then proceed or fail. The scan engine is built on first use, so a process that only
serves HTTP never loads a model.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import anyio
from sqlalchemy.ext.asyncio import async_sessionmaker

from gateway.jobs.lifecycle import Done, Outcome
from gateway.scan.engine import ScanEngine, ScanProfile, write_without_lines
from gateway.scan.parse import TrainingFileError
from gateway.scan.report import ScanReport
from gateway.spool import sha256_of
from gateway.store import tables

MAX_LINES_IN_MESSAGE = 20


def rejection_details(report: ScanReport) -> str:
    """OpenAI's style: why, the first flagged lines and their count, and the categories."""
    if report.verdict == "review":
        head = "The training file is held for human review before it can be used"
    else:
        head = (
            "The training file was blocked by the safety scan because it contains examples that "
            "would teach the model harmful behaviour"
        )
    parts = [f"{head} ({report.reason})."]
    lines = sorted({*report.flagged_lines, *report.borderline_lines})
    if lines:
        shown = ", ".join(str(n) for n in lines[:MAX_LINES_IN_MESSAGE])
        more = f" and {len(lines) - MAX_LINES_IN_MESSAGE} more" if len(lines) > MAX_LINES_IN_MESSAGE else ""
        parts.append(f"Flagged lines: {shown}{more} ({len(lines)} in all).")
    categories = {**report.summary}
    for finding in report.dataset_findings:
        categories[finding.category] = categories.get(finding.category, 0) + max(1, len(finding.lines))
    if categories:
        listed = ", ".join(f"{name} ({count})" for name, count in sorted(categories.items()))
        parts.append(f"Categories: {listed}.")
    return " ".join(parts)


class FileScanner:
    def __init__(
        self, sessions: async_sessionmaker, profile_factory: Callable[[], ScanProfile], *, max_line_bytes: int
    ) -> None:
        self._sessions = sessions
        self._profile_factory = profile_factory
        self._engine: ScanEngine | None = None
        self._max_line_bytes = max_line_bytes

    def engine(self) -> ScanEngine:
        if self._engine is None:
            self._engine = ScanEngine(self._profile_factory())
        return self._engine

    async def __call__(self, file_id: str) -> Outcome:
        async with self._sessions() as session:
            file = await session.get(tables.File, file_id)
        if file is None or file.status != "uploaded":
            return Done()
        path = Path(file.spool_path)
        if (
            not await anyio.Path(path).is_file()
            or await anyio.to_thread.run_sync(sha256_of, path) != file.sha256
        ):
            await self._record(
                file_id,
                status="error",
                verdict=None,
                report=None,
                details="The stored file changed or disappeared after upload; upload it again.",
            )
            return Done()
        try:
            report = await self.engine().scan(path, max_line_bytes=self._max_line_bytes)
        except TrainingFileError as exc:
            await self._record(file_id, status="error", verdict=None, report=None, details=exc.message)
            return Done()
        forward_path, forward_sha = str(path), file.sha256
        if report.verdict == "allow_with_changes":
            cleaned = path.with_name(path.name + ".cleaned")
            await anyio.to_thread.run_sync(write_without_lines, path, cleaned, set(report.dropped_lines))
            forward_path, forward_sha = str(cleaned), await anyio.to_thread.run_sync(sha256_of, cleaned)
        allowed = report.verdict in ("allow", "allow_with_changes")
        await self._record(
            file_id,
            status="processed" if allowed else "error",
            verdict=report.verdict,
            report=report,
            details=None if allowed else rejection_details(report),
            forward=(forward_path, forward_sha),
        )
        return Done()

    async def _record(
        self,
        file_id: str,
        *,
        status: str,
        verdict: str | None,
        report: ScanReport | None,
        details: str | None,
        forward: tuple[str, str] | None = None,
    ) -> None:
        async with self._sessions() as session:
            stored = await session.get(tables.File, file_id)
            if stored is None:
                return
            stored.status = status
            stored.status_details = details
            stored.verdict = verdict
            if report is not None:
                stored.scan = {**report.model_dump(mode="json"), "scanned_at": int(time.time())}
            if forward is not None:
                stored.forward_path, stored.forward_sha256 = forward
            await session.commit()
