"""The review queue: what a policy held for a human, and the decisions people make on it.

Only reviewers and admins of the review's tenant read or decide; another tenant's review is a
404, exactly like a missing one. A decision is made once (a compare-and-set on the review) and
everything it changes (the review, its scan, the file, waiting jobs, the audit log) is written
in one transaction. Each subject has a decision handler: ``file`` reviews are handled here,
``job`` reviews by whoever registers one (the model gate).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gateway import metrics
from gateway.auth import Principal, Role
from gateway.errors import Conflict, InvalidRequest, NotFound, PermissionDenied
from gateway.jobs.events import add_event
from gateway.jobs.lifecycle import START_WORK, TERMINAL_STATUSES
from gateway.jobs.queue import enqueue
from gateway.jobs.start import invalid_file_message
from gateway.spool import Spool
from gateway.store import tables
from gateway.store.pagination import page_rows

REVIEW_OBJECT = "tunegate.review"
AUDIT_OBJECT = "tunegate.audit_entry"
REVIEW_STATUSES = ("pending", "approved", "rejected", "withdrawn")  # withdrawn: its job was cancelled
MAX_REASON_CHARS = 2000
MAX_ROWS_SHOWN = 50
MAX_ROW_CHARS = 4000
_DECIDERS = (Role.REVIEWER, Role.ADMIN)


@dataclass(frozen=True)
class Decision:
    """One decision on one review, as a handler sees it (inside the deciding transaction)."""

    review: tables.Review
    decision: str  # approved | rejected
    reason: str
    actor: str
    decided_at: int

    @property
    def approved(self) -> bool:
        return self.decision == "approved"


DecisionHandler = Callable[[AsyncSession, Decision], Awaitable[None]]


def actor_of(principal: Principal) -> str:
    return f"{principal.key_id} ({principal.team}, {principal.role.value})"


def review_object(review: tables.Review) -> dict[str, Any]:
    return {
        "id": review.id,
        "object": REVIEW_OBJECT,
        "subject": review.subject,
        "status": review.status,
        "file_id": review.file_id,
        "job_id": review.job_id,
        "policy": review.policy,
        "reason": review.reason,
        "created_at": review.created_at,
        "decided_by": review.decided_by,
        "decision_reason": review.decision_reason,
        "decided_at": review.decided_at,
    }


def audit_object(entry: tables.AuditEntry) -> dict[str, Any]:
    return {
        "object": AUDIT_OBJECT,
        "seq": entry.seq,
        "actor": entry.actor,
        "action": entry.action,
        "subject": entry.subject,
        "reason": entry.reason,
        "data": entry.data,
        "created_at": entry.created_at,
    }


def _check_reason(reason: str | None) -> str:
    text = (reason or "").strip()
    if not text:
        raise InvalidRequest('A decision needs a reason: send {"reason": "..."} saying why.', param="reason")
    if len(text) > MAX_REASON_CHARS:
        raise InvalidRequest(
            f"The reason is {len(text)} characters; the limit is {MAX_REASON_CHARS}.", param="reason"
        )
    return text


def _require_decider(principal: Principal, what: str) -> None:
    if principal.role not in _DECIDERS:
        raise PermissionDenied(
            f"{what} needs a reviewer or admin key of the tenant; "
            f"your key has the role {principal.role.value}."
        )


class ReviewService:
    def __init__(self, sessions: async_sessionmaker, spool: Spool) -> None:
        self._sessions = sessions
        self._spool = spool
        self._handlers: dict[str, DecisionHandler] = {"file": self._decide_file, "job": self._decide_job}

    def register(self, subject: str, handler: DecisionHandler) -> None:
        """Set what a decision on reviews of ``subject`` does (the model gate registers ``job``)."""
        self._handlers[subject] = handler

    # --- reading ---------------------------------------------------------------------------
    async def _get(self, session: AsyncSession, principal: Principal, review_id: str) -> tables.Review:
        review = await session.get(tables.Review, review_id)
        if review is None or review.tenant != principal.tenant:
            raise NotFound(f"No such review: {review_id}", param="review_id")
        _require_decider(principal, "Reading or deciding a review")
        return review

    async def list(
        self, principal: Principal, *, status: str | None, after: str | None, limit: int
    ) -> tuple[list[dict[str, Any]], bool]:
        _require_decider(principal, "The review queue")
        if status is not None and status not in REVIEW_STATUSES:
            raise InvalidRequest(
                f"Invalid value for 'status': {status!r}; use one of {', '.join(REVIEW_STATUSES)}.",
                param="status",
            )
        query = select(tables.Review).where(tables.Review.tenant == principal.tenant)
        if status:
            query = query.where(tables.Review.status == status)
        async with self._sessions() as session:
            rows, more = await page_rows(session, query, tables.Review, after=after, limit=limit)
        return [review_object(r) for r in rows], more

    async def show(self, principal: Principal, review_id: str) -> dict[str, Any]:
        async with self._sessions() as session:
            review = await self._get(session, principal, review_id)
            scan = await session.get(tables.Scan, review.scan_id) if review.scan_id else None
            file = await session.get(tables.File, review.file_id) if review.file_id else None
        body = review_object(review)
        body["scan"] = None
        body["rows"] = []
        if scan is None:
            return body
        report = scan.report or {}
        shown: dict[str, Any] = {
            "id": scan.id,
            "status": scan.status,
            "review": scan.review,
            "verdict": scan.verdict or report.get("verdict"),
            "action": scan.action,
            "rows_total": report.get("rows_total"),
            "reason": report.get("reason") or scan.details,
            "summary": report.get("summary") or {},
            "dataset_findings": report.get("dataset_findings") or [],
        }
        for optional in ("breaches", "audit"):
            if report.get(optional) is not None:
                shown[optional] = report[optional]
        body["scan"] = shown
        body["rows"] = await self._rows(report, file)
        return body

    async def _rows(self, report: dict[str, Any], file: tables.File | None) -> list[dict[str, Any]]:
        wanted: list[tuple[int, str]] = []
        seen: set[int] = set()
        for outcome, key in (("flagged", "flagged_lines"), ("borderline", "borderline_lines")):
            for line in report.get(key) or []:
                if isinstance(line, int) and line not in seen and len(wanted) < MAX_ROWS_SHOWN:
                    seen.add(line)
                    wanted.append((line, outcome))
        if not wanted:
            return []
        findings: dict[int, list[dict[str, Any]]] = {}
        for finding in report.get("findings") or []:
            line = finding.get("line")
            if line in seen:
                findings.setdefault(line, []).append(
                    {
                        "classifier": finding.get("classifier"),
                        "category": finding.get("category"),
                        "score": finding.get("score"),
                        "segment": finding.get("segment"),
                        "path": finding.get("path"),
                    }
                )
        contents: dict[int, str] = {}
        if file is not None and not file.deleted:
            contents = await anyio.to_thread.run_sync(_read_lines, Path(file.spool_path), seen)
        return [
            {
                "line": line,
                "outcome": outcome,
                "findings": findings.get(line, []),
                "content": contents.get(line),
            }
            for line, outcome in wanted
        ]

    # --- deciding --------------------------------------------------------------------------
    async def approve(self, principal: Principal, review_id: str, reason: str | None) -> dict[str, Any]:
        return await self._decide(principal, review_id, reason, "approved")

    async def reject(self, principal: Principal, review_id: str, reason: str | None) -> dict[str, Any]:
        return await self._decide(principal, review_id, reason, "rejected")

    async def _decide(
        self, principal: Principal, review_id: str, reason: str | None, decision: str
    ) -> dict[str, Any]:
        async with self._sessions() as session:
            review = await self._get(session, principal, review_id)
            text = _check_reason(reason)
            if review.status != "pending":
                raise _decided(review)
            now = int(time.time())
            actor = actor_of(principal)
            claimed = await session.execute(
                update(tables.Review)
                .where(tables.Review.id == review.id, tables.Review.status == "pending")
                .values(status=decision, decided_by=actor, decision_reason=text, decided_at=now)
                .execution_options(synchronize_session=False)
            )
            if claimed.rowcount != 1:  # type: ignore[attr-defined]  # decided meanwhile
                await session.rollback()
                stored = await session.get(tables.Review, review_id, populate_existing=True)
                raise _decided(stored or review)
            await session.refresh(review)
            handler = self._handlers.get(review.subject)
            if handler is not None:
                await handler(session, Decision(review, decision, text, actor, now))
            session.add(
                tables.AuditEntry(
                    tenant=review.tenant,
                    actor=actor,
                    action="review.approve" if decision == "approved" else "review.reject",
                    subject=review.id,
                    reason=text,
                    data={
                        "file_id": review.file_id,
                        "job_id": review.job_id,
                        "scan_id": review.scan_id,
                        "policy": review.policy,
                    },
                    created_at=now,
                )
            )
            await session.commit()
            body = review_object(review)
        metrics.REVIEWS_DECIDED.labels(subject=review.subject, decision=decision).inc()
        return body

    async def _decide_file(self, session: AsyncSession, decision: Decision) -> None:
        review = decision.review
        scan = await session.get(tables.Scan, review.scan_id) if review.scan_id else None
        if scan is not None:
            scan.review = decision.decision
        file = await session.get(tables.File, review.file_id) if review.file_id else None
        if file is None:
            return
        if scan is not None and file.scan_id == scan.id and not file.deleted:
            if decision.approved:
                file.status = "processed"
                file.status_details = None
            else:
                file.status = "error"
                file.status_details = f"Rejected in human review: {decision.reason}"
        query = select(tables.Job).where(
            tables.Job.tenant == review.tenant,
            tables.Job.status.not_in(TERMINAL_STATUSES),
            or_(tables.Job.training_file == file.id, tables.Job.validation_file == file.id),
        )
        if review.job_id:
            query = query.where(tables.Job.id == review.job_id)
        for job in (await session.scalars(query)).all():
            if decision.approved:
                add_event(
                    session, job.id, f"Training file {file.id} approved in human review: {decision.reason}"
                )
                await enqueue(session, START_WORK, job.id)
            else:
                param = "training_file" if job.training_file == file.id else "validation_file"
                message = invalid_file_message(f"Rejected in human review: {decision.reason}")
                add_event(
                    session, job.id, f"Training file {file.id} rejected in human review: {decision.reason}"
                )
                job.status = "failed"
                job.finished_at = decision.decided_at
                job.error = {"code": "invalid_training_file", "message": message, "param": param}
                add_event(session, job.id, message, level="error")

    async def _decide_job(self, session: AsyncSession, decision: Decision) -> None:
        """Until the model gate registers its own handler: the decision shows in the job's events."""
        job_id = decision.review.job_id
        job = await session.get(tables.Job, job_id) if job_id else None
        if job is not None and job.tenant == decision.review.tenant:
            verb = "approved" if decision.approved else "rejected"
            add_event(session, job.id, f"Job {verb} in human review: {decision.reason}")

    # --- the audit log ---------------------------------------------------------------------
    async def audit_log(
        self, principal: Principal, *, subject: str | None, after_seq: int | None, limit: int
    ) -> tuple[list[dict[str, Any]], bool]:
        if principal.role != Role.ADMIN:
            raise PermissionDenied(
                "The audit log needs an admin key of the tenant; "
                f"your key has the role {principal.role.value}."
            )
        query = select(tables.AuditEntry).where(tables.AuditEntry.tenant == principal.tenant)
        if subject:
            query = query.where(tables.AuditEntry.subject == subject)
        if after_seq is not None:
            query = query.where(tables.AuditEntry.seq < after_seq)
        async with self._sessions() as session:
            rows = list(
                (await session.scalars(query.order_by(tables.AuditEntry.seq.desc()).limit(limit + 1))).all()
            )
        return [audit_object(r) for r in rows[:limit]], len(rows) > limit


def _decided(review: tables.Review) -> Conflict:
    by = f" by {review.decided_by}" if review.decided_by else ""
    return Conflict(
        f"Review {review.id} was already {review.status}{by}; a review is decided once.",
        code="review_decided",
    )


def _read_lines(path: Path, wanted: set[int]) -> dict[int, str]:
    """The given 1-based lines of a spooled file (blank lines counted), each cut to MAX_ROW_CHARS."""
    found: dict[int, str] = {}
    if not wanted:
        return found
    last = max(wanted)
    try:
        with path.open("rb") as handle:
            for number, raw in enumerate(handle, start=1):
                if number in wanted:
                    text = raw.decode("utf-8", errors="replace").rstrip("\n").rstrip("\r")
                    if number == 1:
                        text = text.removeprefix("\ufeff")
                    found[number] = text[:MAX_ROW_CHARS]
                if number >= last:
                    break
    except OSError:
        return found
    return found
