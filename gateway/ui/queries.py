"""What the reviewer pages show, read through the services and shaped for the templates.

Tenant and role checks stay in the services: a review is opened with ``ReviewService.show``, a
file with ``FileService.get``, a job with ``JobService.get`` (another tenant's id is a NotFound
there, exactly like a missing one). Only after such a check does this module read the rows
around the object (its scan report, its waiting jobs), always filtered by the same tenant.
Templates get plain values; nothing here decides anything.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import or_, select

from gateway.auth import Principal, Role
from gateway.errors import NotFound, PermissionDenied
from gateway.evals.report import EvalReport
from gateway.evals.stats import OVERALL
from gateway.jobs.lifecycle import TERMINAL_STATUSES
from gateway.protocol.jobs import JobObject
from gateway.scan.normalise import normalise
from gateway.services.container import Services
from gateway.services.reviews import REVIEW_STATUSES
from gateway.store import tables

QUEUE_LIMIT = 200
JOB_EVENTS_SHOWN = 12
SUBJECT_LABELS = {"file": "Training file", "job": "Fine-tuned model"}
RELEASE_LABELS = {
    "pending": "Not evaluated yet",
    "evaluating": "Being evaluated",
    "review": "Held for human review",
    "released": "Released",
    "blocked": "Blocked",
    "allowed": "Released despite failing (policy allows)",
}


# --- small formatters (also registered as template filters) ----------------------------------
def when(timestamp: int | None) -> str:
    if not timestamp:
        return "–"
    return dt.datetime.fromtimestamp(timestamp, tz=dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def age(seconds: float) -> str:
    """How long something has waited, in the largest units that matter."""
    seconds = max(0, int(seconds))
    if seconds < 60:
        return "under a minute"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{hours // 24} days"


def policy_label(policy: dict[str, Any] | None) -> str:
    if not policy:
        return "–"
    name = policy.get("name") or "?"
    version = str(policy.get("version") or "")
    return f"{name} · version {version[:8]}" if version else str(name)


def require_reviewer(principal: Principal) -> None:
    if principal.role not in (Role.REVIEWER, Role.ADMIN):
        raise PermissionDenied("The review pages need a reviewer or admin key of the tenant.")


# --- the queue --------------------------------------------------------------------------------
@dataclass
class QueueRow:
    id: str
    subject: str
    subject_label: str
    item: str  # file name or job id
    item_id: str | None
    team: str
    policy: str
    created_at: int
    waited: str
    reason: str
    status: str
    decided_by: str | None
    decision_reason: str | None
    decided_at: int | None
    waiting_jobs: int


async def queue(services: Services, principal: Principal, status: str) -> list[QueueRow]:
    """The tenant's reviews of one status (oldest pending first; newest decided first)."""
    require_reviewer(principal)
    query = select(tables.Review).where(tables.Review.tenant == principal.tenant)
    if status in REVIEW_STATUSES:
        query = query.where(tables.Review.status == status)
    order = tables.Review.created_at.asc() if status == "pending" else tables.Review.created_at.desc()
    now = dt.datetime.now(tz=dt.UTC).timestamp()
    async with services.sessions() as db:
        reviews = list((await db.scalars(query.order_by(order, tables.Review.id).limit(QUEUE_LIMIT))).all())
        file_ids = {r.file_id for r in reviews if r.file_id}
        files = {}
        waiting: dict[str, int] = {}
        if file_ids:
            for row in (
                await db.scalars(
                    select(tables.File).where(
                        tables.File.tenant == principal.tenant, tables.File.id.in_(file_ids)
                    )
                )
            ).all():
                files[row.id] = row
            jobs = await db.scalars(
                select(tables.Job).where(
                    tables.Job.tenant == principal.tenant,
                    tables.Job.status.not_in(TERMINAL_STATUSES),
                    tables.Job.training_file.in_(file_ids),
                )
            )
            for job in jobs.all():
                waiting[job.training_file] = waiting.get(job.training_file, 0) + 1
    rows = []
    for review in reviews:
        file = files.get(review.file_id or "")
        if review.subject == "file":
            item, item_id = (file.filename if file else review.file_id or "–"), review.file_id
        else:
            item, item_id = review.job_id or "–", review.job_id
        rows.append(
            QueueRow(
                id=review.id,
                subject=review.subject,
                subject_label=SUBJECT_LABELS.get(review.subject, review.subject),
                item=item,
                item_id=item_id,
                team=review.team,
                policy=policy_label(review.policy),
                created_at=review.created_at,
                waited=age((review.decided_at or now) - review.created_at),
                reason=review.reason,
                status=review.status,
                decided_by=review.decided_by,
                decision_reason=review.decision_reason,
                decided_at=review.decided_at,
                waiting_jobs=waiting.get(review.file_id or "", 0) if review.subject == "file" else 0,
            )
        )
    return rows


async def pending_count(services: Services, principal: Principal) -> int:
    async with services.sessions() as db:
        rows = await db.scalars(
            select(tables.Review.id).where(
                tables.Review.tenant == principal.tenant, tables.Review.status == "pending"
            )
        )
        return len(rows.all())


# --- a file and its flagged rows --------------------------------------------------------------
@dataclass
class FindingView:
    classifier: str
    category: str
    score: float
    path: str
    segment: str
    decoded_from: str | None
    trained: bool


@dataclass
class MessageView:
    path: str
    role: str
    text: str
    flagged: bool


@dataclass
class RowView:
    line: int
    outcome: str  # flagged | borderline
    findings: list[FindingView]
    categories: list[tuple[str, float]]  # highest score per category, highest first
    messages: list[MessageView]
    raw: str | None  # the line as stored, when it is not a readable chat row
    decoded: list[tuple[str, str]]  # (how it was hidden, what it says)
    has_text: bool


@dataclass
class FileView:
    file: tables.File
    scan: dict[str, Any] | None  # status, verdict, action, reason, breaches, rows_total, policy
    rows: list[RowView]
    summary: list[tuple[str, int]]
    dataset_findings: list[dict[str, Any]]
    audit: dict[str, Any] | None
    jobs: list[tables.Job]
    flagged_total: int
    borderline_total: int
    normalisation: dict[str, int] = field(default_factory=dict)


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # content parts
        return "\n".join(
            str(part.get("text", "")) if isinstance(part, dict) else str(part) for part in content
        )
    return "" if content is None else json.dumps(content, ensure_ascii=False)


def _messages(value: Any, path: str = "") -> list[tuple[str, str, str]]:
    """(path, role, text) of every chat message in a row, with the scan's path notation."""
    found: list[tuple[str, str, str]] = []
    if isinstance(value, dict):
        if isinstance(value.get("role"), str):
            text = _text_of(value.get("content"))
            for index, call in enumerate(value.get("tool_calls") or []):
                if isinstance(call, dict):
                    arguments = (call.get("function") or {}).get("arguments") or call.get("arguments")
                    text += f"\n[tool call {index}] {_text_of(arguments)}"
            found.append((path, value["role"], text))
            return found
        for key, child in value.items():
            found += _messages(child, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found += _messages(child, f"{path}[{index}]")
    return found


def _row_view(line: int, outcome: str, findings: list[FindingView], content: str | None) -> RowView:
    best: dict[str, float] = {}
    for finding in findings:
        best[finding.category] = max(best.get(finding.category, 0.0), finding.score)
    categories = sorted(best.items(), key=lambda item: -item[1])
    flagged_paths = {f.path for f in findings}
    messages: list[MessageView] = []
    raw = None
    if content is not None:
        try:
            parsed = json.loads(content)
        except ValueError:  # cut at the length limit, or not JSON at all
            parsed = None
        found = _messages(parsed) if parsed is not None else []
        messages = [
            MessageView(
                path,
                role,
                text,
                any(p == path or p.startswith(path + ".") or p.startswith(path + "[") for p in flagged_paths),
            )
            for path, role, text in found
        ]
        if not messages:
            raw = content
    methods = {f.decoded_from for f in findings if f.decoded_from}
    decoded: list[tuple[str, str]] = []
    if methods:
        texts = [m.text for m in messages] or ([raw] if raw else [])
        for text in texts:
            for hidden in normalise(text).decoded:
                if hidden.method in methods and (hidden.method, hidden.text) not in decoded:
                    decoded.append((hidden.method, hidden.text))
    return RowView(
        line=line,
        outcome=outcome,
        findings=sorted(findings, key=lambda f: -f.score),
        categories=categories,
        messages=messages,
        raw=raw,
        decoded=decoded,
        has_text=content is not None,
    )


def _findings_by_line(report: dict[str, Any], lines: set[int]) -> dict[int, list[FindingView]]:
    found: dict[int, list[FindingView]] = {}
    for item in report.get("findings") or []:
        line = item.get("line")
        if line in lines:
            found.setdefault(line, []).append(
                FindingView(
                    classifier=str(item.get("classifier") or "?"),
                    category=str(item.get("category") or "?"),
                    score=float(item.get("score") or 0.0),
                    path=str(item.get("path") or ""),
                    segment=str(item.get("segment") or ""),
                    decoded_from=item.get("decoded_from"),
                    trained=bool(item.get("trained", True)),
                )
            )
    return found


async def _file_view(
    services: Services, principal: Principal, file: tables.File, scan_id: str | None, contents: dict[int, str]
) -> FileView:
    async with services.sessions() as db:
        scan = await db.get(tables.Scan, scan_id) if scan_id else None
        if scan is not None and (scan.tenant != principal.tenant or scan.file_id != file.id):
            scan = None
        jobs = list(
            (
                await db.scalars(
                    select(tables.Job)
                    .where(
                        tables.Job.tenant == principal.tenant,
                        or_(tables.Job.training_file == file.id, tables.Job.validation_file == file.id),
                    )
                    .order_by(tables.Job.created_at.desc())
                    .limit(20)
                )
            ).all()
        )
    report = (scan.report if scan is not None else None) or {}
    wanted: list[tuple[int, str]] = []
    seen: set[int] = set()
    for outcome, key in (("flagged", "flagged_lines"), ("borderline", "borderline_lines")):
        for line in report.get(key) or []:
            if isinstance(line, int) and line not in seen and len(wanted) < 50:
                seen.add(line)
                wanted.append((line, outcome))
    by_line = _findings_by_line(report, seen)
    rows = [_row_view(line, outcome, by_line.get(line, []), contents.get(line)) for line, outcome in wanted]
    shown = None
    if scan is not None:
        shown = {
            "id": scan.id,
            "status": scan.status,
            "verdict": scan.verdict or report.get("verdict"),
            "action": scan.action or report.get("action"),
            "reason": report.get("reason") or scan.details,
            "breaches": report.get("breaches") or [],
            "rows_total": report.get("rows_total"),
            "policy": policy_label(scan.policy),
            "review": scan.review,
            "findings_total": report.get("findings_total"),
        }
    summary = sorted((report.get("summary") or {}).items(), key=lambda item: (-item[1], item[0]))
    return FileView(
        file=file,
        scan=shown,
        rows=rows,
        summary=summary,
        dataset_findings=list(report.get("dataset_findings") or []),
        audit=report.get("audit"),
        jobs=jobs,
        flagged_total=len(report.get("flagged_lines") or []),
        borderline_total=len(report.get("borderline_lines") or []),
        normalisation={k: v for k, v in (report.get("normalisation") or {}).items() if v},
    )


# --- reviews, files and jobs ------------------------------------------------------------------
@dataclass
class ReviewPage:
    review: dict[str, Any]
    file: FileView | None = None
    job: JobView | None = None


async def review_page(services: Services, principal: Principal, review_id: str) -> ReviewPage:
    shown = await services.reviews.show(principal, review_id)  # tenant and role checks
    review = {k: v for k, v in shown.items() if k not in ("scan", "rows")}
    review["policy_label"] = policy_label(review.get("policy"))
    review["subject_label"] = SUBJECT_LABELS.get(review["subject"], review["subject"])
    page = ReviewPage(review=review)
    if review["subject"] == "file" and review.get("file_id"):
        contents = {row["line"]: row["content"] for row in shown["rows"] if row.get("content") is not None}
        async with services.sessions() as db:
            file = await db.get(tables.File, review["file_id"])
        if file is not None and file.tenant == principal.tenant:
            scan_id = (shown.get("scan") or {}).get("id")
            page.file = await _file_view(services, principal, file, scan_id, contents)
    elif review["subject"] == "job" and review.get("job_id"):
        page.job = await job_view(services, principal, review["job_id"])
    return page


async def file_page(services: Services, principal: Principal, file_id: str) -> ReviewPage | FileView:
    """A file: the page of its newest review when it was held, else its scan."""
    require_reviewer(principal)
    file = await services.files.get(principal, file_id)  # tenant check
    async with services.sessions() as db:
        review_id = await db.scalar(
            select(tables.Review.id)
            .where(tables.Review.tenant == principal.tenant, tables.Review.file_id == file.id)
            .order_by(tables.Review.created_at.desc())
            .limit(1)
        )
    if review_id is not None:
        return await review_page(services, principal, review_id)
    return await _file_view(services, principal, file, file.scan_id, {})


@dataclass
class CategoryRow:
    category: str
    base_rate: float | None
    tuned_rate: float | None
    delta: float | None
    variant: str | None


@dataclass
class JobView:
    job: JobObject
    team: str
    release: str
    release_label: str
    report_status: str
    report: EvalReport | None
    categories: list[CategoryRow]
    events: list[Any]
    reviews: list[dict[str, Any]]


async def job_view(services: Services, principal: Principal, job_id: str) -> JobView:
    require_reviewer(principal)
    row = await services.jobs.get(principal, job_id)  # tenant check
    job = JobObject.from_row(row)
    body = await services.jobs.safety_report(principal, job_id)
    report = None
    categories: list[CategoryRow] = []
    if body.get("status") == "completed":
        report = EvalReport.model_validate({k: v for k, v in body.items() if k in EvalReport.model_fields})
        categories = [
            CategoryRow(
                "Overall" if d.category == OVERALL else d.category,
                d.base_rate,
                d.tuned_rate,
                d.delta,
                d.tuned_variant,
            )
            for d in report.deltas
        ]
    events, _ = await services.jobs.events(principal, job_id, after=None, limit=JOB_EVENTS_SHOWN)
    files = [f for f in (row.training_file, row.validation_file) if f]
    async with services.sessions() as db:
        reviews = (
            await db.scalars(
                select(tables.Review)
                .where(
                    tables.Review.tenant == principal.tenant,
                    or_(tables.Review.job_id == row.id, tables.Review.file_id.in_(files)),
                )
                .order_by(tables.Review.created_at.desc())
            )
        ).all()
    return JobView(
        job=job,
        team=row.team,
        release=row.release,
        release_label=(
            "Not evaluated (the job ended first)"
            if row.release == "pending" and row.status in TERMINAL_STATUSES
            else RELEASE_LABELS.get(row.release, row.release)
        ),
        report_status=str(body.get("status")),
        report=report,
        categories=categories,
        events=events,
        reviews=[
            {
                "id": r.id,
                "subject_label": SUBJECT_LABELS.get(r.subject, r.subject),
                "status": r.status,
                "reason": r.reason,
                "decided_by": r.decided_by,
                "decision_reason": r.decision_reason,
                "created_at": r.created_at,
            }
            for r in reviews
        ],
    )


def not_found(what: str, ident: str) -> NotFound:
    return NotFound(f"No such {what}: {ident}")
