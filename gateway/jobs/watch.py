"""The watcher: one poll of an upstream job per run; copies status, events and checkpoints."""

from __future__ import annotations

import time

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gateway.ids import new_id
from gateway.jobs.events import add_event, redactor_for
from gateway.jobs.lifecycle import EVAL_WORK, Again, Done, Outcome
from gateway.jobs.queue import enqueue
from gateway.release.gate import gateway_model_name, register
from gateway.store import tables
from gateway.upstreams.base import Upstream, UpstreamCheckpoint, UpstreamEvent, UpstreamJob


class JobWatcher:
    def __init__(
        self, sessions: async_sessionmaker, upstreams: dict[str, Upstream], *, poll_interval: float
    ) -> None:
        self._sessions = sessions
        self._upstreams = upstreams
        self._interval = poll_interval

    async def __call__(self, job_id: str) -> Outcome:
        async with self._sessions() as session:
            job = await session.get(tables.Job, job_id)
        if job is None or job.upstream_job_id is None or job.release != "pending":  # the gate has it
            return Done()
        upstream = self._upstreams[job.upstream]
        remote = await upstream.get_job(job.upstream_job_id)
        events = await upstream.list_events(job.upstream_job_id, limit=1000)
        checkpoints = await upstream.list_checkpoints(job.upstream_job_id)
        async with self._sessions() as session:
            stored = await session.get(tables.Job, job_id)
            if stored is None:
                return Done()
            await _copy_events(session, stored, events)
            await _copy_checkpoints(session, stored, checkpoints)
            finished = await self._apply(session, stored, remote)
            await session.commit()
        return Done() if finished else Again(self._interval)

    async def _apply(self, session: AsyncSession, job: tables.Job, remote: UpstreamJob) -> bool:
        """Copy the upstream's state onto the job; True when nothing more will change upstream."""
        job.trained_tokens = remote.trained_tokens
        job.estimated_finish = remote.estimated_finish
        if remote.hyperparameters:  # the values the upstream resolved ("auto" → numbers)
            job.hyperparameters = remote.hyperparameters
        if job.status == "cancelled":
            return True
        if remote.status == "succeeded":
            # Trained: the model gate decides. The job stays running (and its model hidden) until then.
            job.upstream_model = remote.fine_tuned_model
            job.status = "running"
            job.release = "evaluating"
            job.safety = {**job.safety, "eval": {"status": "queued"}}
            await session.flush()
            await register(session, job, released=False)
            add_event(
                session, job.id, "Training finished; the model gate evaluates the model before release."
            )
            await enqueue(session, EVAL_WORK, job.id)
            return True
        if remote.status in ("failed", "cancelled"):
            redact = await redactor_for(session, job)
            error = remote.error or {}
            message = redact(str(error.get("message") or f"The fine-tuning job {remote.status} upstream."))
            job.status = remote.status
            job.finished_at = remote.finished_at or int(time.time())
            if remote.status == "failed":
                job.error = {
                    "code": str(error.get("code") or "upstream_failed"),
                    "message": message,
                    "param": error.get("param"),
                }
            return True
        job.status = remote.status  # an open set: unknown upstream statuses are shown as they are
        return False


async def _copy_events(session: AsyncSession, job: tables.Job, events: list[UpstreamEvent]) -> None:
    seen = set(
        (
            await session.scalars(
                select(tables.JobEvent.upstream_event_id).where(
                    tables.JobEvent.job_id == job.id, tables.JobEvent.upstream_event_id.is_not(None)
                )
            )
        ).all()
    )
    for event in events:
        if event.id in seen:
            continue
        add_event(
            session,
            job.id,
            event.message,
            level=event.level,
            type=event.type,
            data=event.data,
            created_at=event.created_at,
            upstream_event_id=event.id,
        )


async def _copy_checkpoints(
    session: AsyncSession, job: tables.Job, checkpoints: list[UpstreamCheckpoint]
) -> None:
    known = set(
        (
            await session.scalars(
                select(tables.Checkpoint.upstream_checkpoint_id).where(tables.Checkpoint.job_id == job.id)
            )
        ).all()
    )
    for checkpoint in checkpoints:
        if checkpoint.id in known:
            continue
        session.add(
            tables.Checkpoint(
                id=new_id("ftckpt-"),
                job_id=job.id,
                upstream_checkpoint_id=checkpoint.id,
                upstream_model=checkpoint.fine_tuned_model_checkpoint,
                model=f"{job.fine_tuned_model or _pending_name(job)}:ckpt-step-{checkpoint.step_number}",
                step_number=checkpoint.step_number,
                metrics=checkpoint.metrics,
                created_at=checkpoint.created_at,
            )
        )


def _pending_name(job: tables.Job) -> str:
    """Fix the model name at the first checkpoint, so checkpoint names share it after release."""
    job.fine_tuned_model = gateway_model_name(job)
    return job.fine_tuned_model
