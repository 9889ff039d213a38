"""Fine-tuning jobs as the client sees them: create (checks, then queue), read, control."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gateway import metrics
from gateway.auth import Principal
from gateway.errors import Conflict, InvalidRequest, NotFound
from gateway.ids import new_id
from gateway.jobs.events import add_event, redactor_for
from gateway.jobs.lifecycle import START_WORK, TERMINAL_STATUSES
from gateway.jobs.queue import enqueue
from gateway.jobs.start import invalid_file_message
from gateway.protocol.jobs import CheckpointObject, JobCreateRequest, JobEventObject
from gateway.scan.parse import check_min_examples
from gateway.settings import Settings
from gateway.store import tables
from gateway.store.pagination import page_rows
from gateway.upstreams.base import Upstream
from policies import hyperparameters as guard
from policies.loader import Policy
from policies.registry import PolicySet

# Which training-file formats each method can train on.
_FORMATS_FOR_METHOD = {
    "supervised": ("chat", "completion"),
    "dpo": ("dpo",),
    "reinforcement": ("reinforcement",),
}


class JobService:
    def __init__(
        self,
        sessions: async_sessionmaker,
        settings: Settings,
        upstreams: dict[str, Upstream],
        policies: PolicySet,
    ) -> None:
        self._sessions = sessions
        self._settings = settings
        self._upstreams = upstreams
        self._policies = policies

    async def _file_for_job(self, principal: Principal, file_id: str, param: str, method: str) -> tables.File:
        async with self._sessions() as session:
            row = await session.get(tables.File, file_id)
        if row is None or row.tenant != principal.tenant or row.deleted:
            raise NotFound(f"No such File object: {file_id}", param=param)
        if row.purpose != "fine-tune":
            raise InvalidRequest(f"File {file_id} does not have purpose 'fine-tune'.", param=param)
        if row.status == "error":
            raise InvalidRequest(
                invalid_file_message(row.status_details),
                param=param,
                code="invalid_training_file",
            )
        allowed = _FORMATS_FOR_METHOD[method]
        if row.format not in allowed:
            raise InvalidRequest(
                f"File {file_id} is in {row.format} format, but the {method} method needs "
                f"{' or '.join(allowed)} examples.",
                param=param,
                code="invalid_training_file",
            )
        return row

    async def create(self, principal: Principal, body: JobCreateRequest) -> tables.Job:
        upstream = self._settings.upstream_for_model(body.model)
        if upstream is None:
            raise InvalidRequest(
                f"Model {body.model!r} is not available for fine-tuning on this gateway. "
                "List the base models with GET /v1/models.",
                param="model",
                code="model_not_available",
            )
        method = body.resolved_method()
        kind = method["type"]
        training = await self._file_for_job(principal, body.training_file, "training_file", kind)
        check_min_examples(training.examples, param="training_file")
        if body.validation_file:
            await self._file_for_job(principal, body.validation_file, "validation_file", kind)
        policy = self._policies.match(tenant=principal.tenant, team=principal.team, model=body.model)
        checked = _guard_hyperparameters(policy, body.model, method[kind]["hyperparameters"])
        method[kind]["hyperparameters"] = checked.hyperparameters
        now = int(time.time())
        job = tables.Job(
            id=new_id("ftjob-"),
            tenant=principal.tenant,
            team=principal.team,
            model=body.model,
            training_file=body.training_file,
            validation_file=body.validation_file,
            suffix=body.suffix,
            seed=body.seed,
            job_metadata=body.metadata,
            method=method,
            hyperparameters=dict(checked.hyperparameters),
            policy=policy.ref(),
            integrations=body.integrations,
            status="validating_files",
            release="pending",
            safety={"data_scan": {"status": "pending"}, "eval": None},
            upstream=upstream,
            result_files=[],
            created_at=now,
        )
        async with self._sessions() as session:
            session.add(job)
            await session.flush()
            add_event(session, job.id, f"Created fine-tuning job: {job.id}", created_at=now)
            add_event(
                session,
                job.id,
                f"Policy {policy.name} (version {policy.version}) governs this job.",
                created_at=now,
                data={"policy": policy.ref()},
            )
            for violation in checked.violations:
                add_event(
                    session,
                    job.id,
                    f"Hyperparameter {violation.param} clamped from {violation.value:g} to "
                    f"{violation.limit:g} by policy {policy.name}.",
                    level="warn",
                    created_at=now,
                )
            add_event(session, job.id, f"Validating training file: {job.training_file}", created_at=now)
            await enqueue(session, START_WORK, job.id)
            await session.commit()
        return job

    async def get(self, principal: Principal, job_id: str) -> tables.Job:
        async with self._sessions() as session:
            row = await session.get(tables.Job, job_id)
        if row is None or row.tenant != principal.tenant:
            raise NotFound(f"No such fine-tuning job: {job_id}", param="fine_tuning_job_id")
        return row

    async def list(
        self, principal: Principal, *, after: str | None, limit: int, metadata: dict[str, str]
    ) -> tuple[list[tables.Job], bool]:
        query = select(tables.Job).where(tables.Job.tenant == principal.tenant)
        async with self._sessions() as session:
            if not metadata:
                return await page_rows(session, query, tables.Job, after=after, limit=limit)
            # Metadata filters are applied in Python: JSON operators differ between SQLite and PostgreSQL,
            # and a tenant's job list is small enough to scan page by page.
            matched: list[tables.Job] = []
            cursor = after
            while True:
                rows, more = await page_rows(session, query, tables.Job, after=cursor, limit=200)
                for row in rows:
                    meta = row.job_metadata or {}
                    if all(meta.get(k) == v for k, v in metadata.items()):
                        matched.append(row)
                        if len(matched) > limit:
                            return matched[:limit], True
                if not more or not rows:
                    return matched, False
                cursor = rows[-1].id

    async def events(
        self, principal: Principal, job_id: str, *, after: str | None, limit: int
    ) -> tuple[list[JobEventObject], bool]:
        job = await self.get(principal, job_id)
        async with self._sessions() as session:
            query = select(tables.JobEvent).where(tables.JobEvent.job_id == job.id)
            if after:
                anchor = await session.scalar(
                    select(tables.JobEvent.seq).where(
                        tables.JobEvent.job_id == job.id, tables.JobEvent.id == after
                    )
                )
                if anchor is None:
                    return [], False
                query = query.where(tables.JobEvent.seq < anchor)
            rows = list(
                (await session.scalars(query.order_by(tables.JobEvent.seq.desc()).limit(limit + 1))).all()
            )
            redact = await redactor_for(session, job)
        events = []
        for row in rows[:limit]:
            event = JobEventObject.from_row(row)
            event.message = redact(event.message)
            event.data = redact.data(event.data)
            events.append(event)
        return events, len(rows) > limit

    async def checkpoints(
        self, principal: Principal, job_id: str, *, after: str | None, limit: int
    ) -> tuple[list[CheckpointObject], bool]:
        job = await self.get(principal, job_id)
        async with self._sessions() as session:
            rows = list(
                (
                    await session.scalars(
                        select(tables.Checkpoint)
                        .where(tables.Checkpoint.job_id == job.id)
                        .order_by(tables.Checkpoint.step_number.desc())
                    )
                ).all()
            )
        if after:
            ids = [r.id for r in rows]
            rows = rows[ids.index(after) + 1 :] if after in ids else []
        released = job.release == "released"
        items = [CheckpointObject.from_row(r, released=released) for r in rows[:limit]]
        return items, len(rows) > limit

    async def safety_report(self, principal: Principal, job_id: str) -> dict[str, Any]:
        """The model gate's report; while it runs, its progress. The model name only once released."""
        job = await self.get(principal, job_id)
        body: dict[str, Any] = {"object": "fine_tuning.job.safety_report", "job_id": job.id}
        async with self._sessions() as session:
            stored = await session.get(tables.EvalReport, job.id)
        if stored is None or stored.tenant != principal.tenant:
            status = "running" if job.release == "evaluating" else "not_evaluated"
            return {**body, "status": status, "eval": job.safety.get("eval"), "release": job.release}
        report = dict(stored.report)
        if job.release == "released":
            report["model"] = job.fine_tuned_model
        return {**body, **report, "status": "completed", "release": job.release}

    async def _control(self, principal: Principal, job_id: str, action: str) -> tables.Job:
        job = await self.get(principal, job_id)
        if job.status in TERMINAL_STATUSES:
            raise Conflict(
                f"Job {job_id} has already {job.status}; it cannot be {action}d.", code="job_finished"
            )
        upstream_job: Any = None
        if job.release in ("evaluating", "review"):  # trained; only the gate's decision is left
            if action != "cancel":
                raise Conflict(
                    f"Job {job_id} has finished training and is being evaluated; it cannot be {action}d.",
                    code="job_evaluating",
                )
        elif job.upstream_job_id:
            upstream = self._upstreams[job.upstream]
            operation = {
                "cancel": upstream.cancel_job,
                "pause": upstream.pause_job,
                "resume": upstream.resume_job,
            }
            upstream_job = await operation[action](job.upstream_job_id)
        elif action != "cancel":
            raise Conflict(
                f"Job {job_id} has not started training yet; only cancel is possible now.",
                code="job_not_running",
            )
        async with self._sessions() as session:
            stored = await session.get(tables.Job, job.id)
            if stored is None:
                raise NotFound(f"No such fine-tuning job: {job_id}", param="fine_tuning_job_id")
            started_meanwhile = stored.upstream_job_id and not job.upstream_job_id
            if action == "cancel" and started_meanwhile and stored.release == "pending":
                # The job started upstream between our read and this write: cancel it there too.
                await self._upstreams[stored.upstream].cancel_job(stored.upstream_job_id)
            new_status = {"cancel": "cancelled", "pause": "paused", "resume": "running"}[action]
            if upstream_job is not None and action != "cancel":
                new_status = upstream_job.status
            stored.status = new_status
            if action == "cancel":
                stored.finished_at = int(time.time())
                if stored.release in ("evaluating", "review"):  # withdrawn before the gate decided
                    stored.release = "cancelled"
                    await _withdraw_reviews(session, stored)
            add_event(session, stored.id, f"Job {action} requested by the client.")
            await session.commit()
            return stored

    async def cancel(self, principal: Principal, job_id: str) -> tables.Job:
        return await self._control(principal, job_id, "cancel")

    async def pause(self, principal: Principal, job_id: str) -> tables.Job:
        return await self._control(principal, job_id, "pause")

    async def resume(self, principal: Principal, job_id: str) -> tables.Job:
        return await self._control(principal, job_id, "resume")


def _guard_hyperparameters(policy: Policy, model: str, hyperparameters: dict[str, Any]) -> guard.GuardResult:
    """Apply the policy's caps; a refused value is a 400 that names it, the cap and the policy."""
    result = guard.check(policy.spec.hyperparameters, model, hyperparameters)
    outcome = "rejected" if result.rejected else "clamped" if result.clamped else "passed"
    metrics.HYPERPARAMETER_GUARD.labels(policy=policy.name, outcome=outcome).inc()
    if result.rejected:
        first = result.violations[0]
        listed = "; ".join(v.describe() for v in result.violations)
        raise InvalidRequest(
            f"{listed} for {model} under policy {policy.name!r}. Lower the value or ask the platform "
            "team to change the policy.",
            param=f"hyperparameters.{first.param}",
            code="hyperparameter_not_allowed",
        )
    return result


async def _withdraw_reviews(session: AsyncSession, job: tables.Job) -> None:
    """A cancelled job's pending model review has nothing left to decide."""
    pending = await session.scalars(
        select(tables.Review).where(
            tables.Review.job_id == job.id, tables.Review.subject == "job", tables.Review.status == "pending"
        )
    )
    for review in pending:
        review.status = "withdrawn"
        review.decision_reason = "the job was cancelled"
        review.decided_at = int(time.time())
