"""Health and metrics: unauthenticated, for probes and Prometheus."""

from __future__ import annotations

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import func, select, text

from gateway import metrics
from gateway.api.deps import ServicesDep
from gateway.jobs.queue import WorkQueue
from gateway.protocol.common import error_responses
from gateway.store import tables

router = APIRouter(responses=error_responses())


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(svc: ServicesDep) -> dict[str, str]:
    async with svc.sessions() as session:
        await session.execute(text("SELECT 1"))
    return {"status": "ready"}


# Documented by hand: as the response class, PlainTextResponse would document the errors as text too.
@router.get("/metrics", responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}})
async def prometheus_metrics(svc: ServicesDep) -> Response:
    async with svc.sessions() as session:
        counts = (
            await session.execute(select(tables.Job.status, func.count()).group_by(tables.Job.status))
        ).all()
        waiting = (
            await session.execute(
                select(tables.Review.subject, func.count())
                .where(tables.Review.status == "pending")
                .group_by(tables.Review.subject)
            )
        ).all()
    metrics.JOBS.clear()
    for status, count in counts:
        metrics.JOBS.labels(status=status).set(count)
    metrics.REVIEW_QUEUE.clear()
    for subject, count in {"file": 0, "job": 0, **dict(waiting)}.items():
        metrics.REVIEW_QUEUE.labels(subject=subject).set(count)
    backlog = await WorkQueue(svc.sessions, owner="metrics", lease_seconds=1).backlog()
    metrics.WORK_BACKLOG.clear()
    for kind, count in backlog.items():
        metrics.WORK_BACKLOG.labels(kind=kind).set(count)
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
