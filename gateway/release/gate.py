"""The release gate: decides whether a fine-tuned model that finished training reaches the tenant.

Until the model gate (safety evaluation) lands, every model that trained successfully is
released at once. Release is the only place that makes a fine-tuned model name visible and
servable.
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


async def release(session: AsyncSession, job: tables.Job) -> None:
    """Mark the job released and register its model and checkpoints as servable for its tenant."""
    now = int(time.time())
    job.fine_tuned_model = job.fine_tuned_model or gateway_model_name(job)
    job.release = "released"
    job.status = "succeeded"
    job.finished_at = job.finished_at or now
    job.safety = {**job.safety, "release": "released"}
    session.add(
        tables.FineTunedModel(
            name=job.fine_tuned_model,
            tenant=job.tenant,
            job_id=job.id,
            kind="model",
            upstream=job.upstream,
            upstream_model=job.upstream_model or "",
            released=True,
            created_at=now,
        )
    )
    checkpoints = (
        await session.scalars(select(tables.Checkpoint).where(tables.Checkpoint.job_id == job.id))
    ).all()
    for checkpoint in checkpoints:
        session.add(
            tables.FineTunedModel(
                name=checkpoint.model,
                tenant=job.tenant,
                job_id=job.id,
                kind="checkpoint",
                upstream=job.upstream,
                upstream_model=checkpoint.upstream_model,
                released=True,
                created_at=now,
            )
        )
    add_event(session, job.id, f"Fine-tuned model released: {job.fine_tuned_model}")
