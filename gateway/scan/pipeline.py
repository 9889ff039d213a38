"""The scan step as background work: scan a file under its policy, record, prepare what leaves.

Each ``scans`` row is one file under one policy's scan rules. Running it builds (or reuses)
the policy's engine, scans, runs the sampling audit when the policy asks, writes the cleaned
copy when rows are dropped, and records the report. A ``review`` verdict opens a review. For
the upload-time scan the file's own status follows: ``processed`` (allowed, possibly
cleaned), ``error`` (rejected, with OpenAI's wording and the flagged lines) or still
``uploaded`` while a human decides. The engines are built on first use, so a process that
only serves HTTP never loads a model.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import anyio
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gateway import metrics
from gateway.ids import new_id
from gateway.jobs.lifecycle import Done, Outcome
from gateway.scan.engine import write_without_lines
from gateway.scan.parse import TrainingFileError
from gateway.scan.report import ScanReport
from gateway.spool import sha256_of
from gateway.store import tables
from policies.audit import run_audit
from policies.engine import EngineCache, row_thresholds
from policies.loader import Policy
from policies.registry import PolicySet

log = logging.getLogger(__name__)
MAX_LINES_IN_MESSAGE = 20
_SEVERITY = {"allow": 0, "allow_with_changes": 1, "review": 2, "reject": 3}


def rejection_details(report: ScanReport, review_id: str | None = None) -> str:
    """OpenAI's style: why, the first flagged lines and their count, and the categories."""
    if report.verdict == "review":
        held = f" ({review_id})" if review_id else ""
        head = f"The training file is held for human review{held} before it can be used"
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
    parts.append(f"Policy: {report.policy.get('name')} (version {report.policy.get('version')}).")
    return " ".join(parts)


def new_scan(file: tables.File, policy: Policy) -> tables.Scan:
    """A pending scan of ``file`` under ``policy``'s scan rules (the caller adds and queues it)."""
    return tables.Scan(
        id=new_id("scan-"),
        file_id=file.id,
        tenant=file.tenant,
        team=file.team,
        rules_key=policy.rules_key,
        policy=policy.ref(),
        status="pending",
        created_at=int(time.time()),
    )


class FileScanner:
    def __init__(
        self,
        sessions: async_sessionmaker,
        policies: PolicySet,
        engines: EngineCache,
        *,
        max_line_bytes: int,
    ) -> None:
        self._sessions = sessions
        self._policies = policies
        self._engines = engines
        self._max_line_bytes = max_line_bytes

    async def __call__(self, scan_id: str) -> Outcome:
        async with self._sessions() as session:
            scan = await session.get(tables.Scan, scan_id)
            file = await session.get(tables.File, scan.file_id) if scan else None
        if scan is None or file is None or scan.status != "pending":
            return Done()
        path = Path(file.spool_path)
        if (
            not await anyio.Path(path).is_file()
            or await anyio.to_thread.run_sync(sha256_of, path) != file.sha256
        ):
            await self._fail(scan_id, "The stored file changed or disappeared after upload; upload it again.")
            return Done()
        policy = self._policies.current(scan.policy, tenant=file.tenant, team=file.team, model=None)
        try:
            report = await self._engines.engine_for(policy).scan(path, max_line_bytes=self._max_line_bytes)
        except TrainingFileError as exc:
            await self._fail(scan_id, exc.message)
            return Done()
        if policy.spec.audit.enabled:
            report = await self._audit(path, policy, report)
        forward_path, forward_sha = str(path), file.sha256
        if report.dropped_lines:
            cleaned = path.with_name(f"{path.name}.{scan_id}.cleaned")
            await anyio.to_thread.run_sync(write_without_lines, path, cleaned, set(report.dropped_lines))
            forward_path, forward_sha = str(cleaned), await anyio.to_thread.run_sync(sha256_of, cleaned)
        await self._record(scan_id, policy, report, (forward_path, forward_sha))
        return Done()

    async def _audit(self, path: Path, policy: Policy, report: ScanReport) -> ScanReport:
        """Run the sampling audit; a bound over the tolerance applies ``on_exceed`` (never softening)."""
        rules = policy.spec.audit
        result = await run_audit(
            path,
            rules=rules,
            judge=self._engines.judge_for(rules.judge),
            thresholds=row_thresholds(policy),
            cheap_flagged=report.flagged_lines,
            borderline=report.borderline_lines,
            rows_total=report.rows_total,
            max_line_bytes=self._max_line_bytes,
        )
        metrics.AUDIT_UPPER_BOUND.labels(policy=policy.name).observe(result.upper_bound)
        metrics.AUDITS.labels(policy=policy.name, outcome="exceeded" if result.exceeded else "within").inc()
        update: dict[str, object] = {"audit": result.model_dump(mode="json")}
        if result.exceeded:
            bound = (
                f"audit: harmful-row rate up to {result.upper_bound:.2%} at {rules.confidence:.0%} "
                f"confidence (tolerated {rules.tolerated_harmful_rate:.2%})"
            )
            update["breaches"] = [*report.breaches, bound]
            wanted = {"reject": "reject", "review": "review"}.get(rules.on_exceed)
            if wanted and _SEVERITY[wanted] > _SEVERITY[report.verdict]:
                update |= {"verdict": wanted, "action": rules.on_exceed, "reason": bound, "dropped_lines": []}
                update["dropped"] = []
            elif rules.on_exceed == "allow" and report.verdict in ("allow", "allow_with_changes"):
                update["would_have"] = "review"
        return report.model_copy(update=update)

    async def _record(
        self, scan_id: str, policy: Policy, report: ScanReport, forward: tuple[str, str]
    ) -> None:
        now = int(time.time())
        async with self._sessions() as session:
            scan = await session.get(tables.Scan, scan_id)
            file = await session.get(tables.File, scan.file_id) if scan else None
            if scan is None or file is None or scan.status != "pending":
                return
            scan.status = "done"
            scan.verdict = report.verdict
            scan.action = report.action
            scan.policy = policy.ref()
            if policy.rules_key != scan.rules_key and not await _rules_taken(session, scan, policy.rules_key):
                scan.rules_key = policy.rules_key  # a reload changed the rules since it was queued
            scan.report = {**report.model_dump(mode="json"), "scanned_at": now}
            scan.forward_path, scan.forward_sha256 = forward
            scan.finished_at = now
            review_id = None
            if report.verdict == "review":
                review_id = new_id("review-")
                scan.review = "pending"
                session.add(
                    tables.Review(
                        id=review_id,
                        tenant=scan.tenant,
                        team=scan.team,
                        subject="file",
                        scan_id=scan.id,
                        file_id=file.id,
                        job_id=None,
                        policy=policy.ref(),
                        reason=report.reason,
                        status="pending",
                        created_at=now,
                    )
                )
            allowed = report.verdict in ("allow", "allow_with_changes")
            scan.details = None if allowed else rejection_details(report, review_id)
            if file.scan_id == scan.id:
                file.status = "processed" if allowed else ("uploaded" if review_id else "error")
                file.status_details = scan.details
            await session.commit()
        metrics.SCAN_VERDICTS.labels(policy=policy.name, action=report.action, verdict=report.verdict).inc()
        for category, count in report.summary.items():
            metrics.SCAN_FINDINGS.labels(policy=policy.name, category=category).inc(count)
        for finding in report.dataset_findings:
            metrics.DATASET_FINDINGS.labels(category=finding.category).inc()
        if report.would_have:
            log.info("shadow policy %s: scan %s would have been %s", policy.name, scan_id, report.would_have)

    async def _fail(self, scan_id: str, details: str) -> None:
        async with self._sessions() as session:
            scan = await session.get(tables.Scan, scan_id)
            file = await session.get(tables.File, scan.file_id) if scan else None
            if scan is None or file is None:
                return
            scan.status, scan.details, scan.finished_at = "failed", details, int(time.time())
            if file.scan_id == scan.id:
                file.status, file.status_details = "error", details
            await session.commit()


async def _rules_taken(session: AsyncSession, scan: tables.Scan, rules_key: str) -> bool:
    """Whether another scan of the same file already ran under these rules."""
    found = await session.scalar(
        select(tables.Scan.id).where(tables.Scan.file_id == scan.file_id, tables.Scan.rules_key == rules_key)
    )
    return found is not None
