"""The release gate: the only place that makes a fine-tuned model name visible and servable.

A model that finished training is released, blocked or held for review by the model gate
(``gateway.release.evaluate``), following the policy's release section. Blocking fails the
job in Azure's manner (``model_safety_eval_failed``, naming the failing categories); the
model name never appears. Review keeps the job ``running`` with ``safety.release = "review"``.
"""

from __future__ import annotations

import time

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.ids import random_suffix
from gateway.jobs.events import add_event
from gateway.store import tables


def gateway_model_name(job: tables.Job) -> str:
    """``ft:{base}:{tenant}:{suffix}:{random}``, the OpenAI shape, with no upstream detail in it."""
    return f"ft:{job.model}:{job.tenant}:{job.suffix or ''}:{random_suffix(8)}"


EVAL_FAILED = "model_safety_eval_failed"


def block(job: tables.Job, failures: list[str], session: AsyncSession) -> None:
    """Fail the job: the model stays hidden and unservable; the message says why."""
    now = int(time.time())
    listed = "; ".join(failures) or "the safety evaluation did not pass"
    message = (
        "The fine-tuned model failed the post-training safety evaluation and was not released: "
        f"{listed}. See GET /v1/fine_tuning/jobs/{job.id}/safety_report."
    )
    job.status = "failed"
    job.release = "blocked"
    job.finished_at = now
    job.error = {"code": EVAL_FAILED, "message": message, "param": None}
    job.safety = {**job.safety, "release": "blocked"}
    add_event(session, job.id, message, level="error")


def hold(job: tables.Job, review_id: str, failures: list[str], session: AsyncSession) -> None:
    """Keep the job running while a human decides (the review queue)."""
    job.release = "review"
    job.safety = {**job.safety, "release": "review", "review": review_id}
    add_event(
        session,
        job.id,
        f"The safety evaluation did not pass ({'; '.join(failures)}); the model is held for human "
        f"review ({review_id}).",
        level="warn",
    )


async def register(session: AsyncSession, job: tables.Job, *, released: bool) -> None:
    """Record the job's model and checkpoint names (released or not); the only route to serving.

    Registered unreleased while the gate evaluates, so a chat request on the name is refused with
    a clear 403 rather than looking unknown; release flips them to servable.
    """
    now = int(time.time())
    job.fine_tuned_model = job.fine_tuned_model or gateway_model_name(job)
    names = [(job.fine_tuned_model, "model", job.upstream_model or "")]
    checkpoints = (
        await session.scalars(select(tables.Checkpoint).where(tables.Checkpoint.job_id == job.id))
    ).all()
    names += [(c.model, "checkpoint", c.upstream_model) for c in checkpoints]
    for name, kind, upstream_model in names:
        row = await session.get(tables.FineTunedModel, name)
        if row is None:
            row = tables.FineTunedModel(
                name=name,
                tenant=job.tenant,
                job_id=job.id,
                kind=kind,
                upstream=job.upstream,
                upstream_model=upstream_model,
                created_at=now,
            )
            session.add(row)
        row.released = released


async def release(session: AsyncSession, job: tables.Job) -> None:
    """Mark the job released and its model and checkpoints servable for its tenant."""
    await register(session, job, released=True)
    job.release = "released"
    job.status = "succeeded"
    job.finished_at = job.finished_at or int(time.time())
    job.safety = {**job.safety, "release": "released"}
    add_event(session, job.id, f"Fine-tuned model released: {job.fine_tuned_model}")


async def decide_review(session: AsyncSession, decision) -> None:
    """A human's decision on a model the gate held: approve releases it, reject blocks it."""
    job = await session.get(tables.Job, decision.review.job_id) if decision.review.job_id else None
    if job is None or job.tenant != decision.review.tenant or job.release != "review":
        return
    if decision.approved:
        add_event(session, job.id, f"Model approved in human review: {decision.reason}")
        await session.flush()
        await release(session, job)
    else:
        block(job, [f"rejected in human review: {decision.reason}"], session)
