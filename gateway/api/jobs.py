"""/v1/fine_tuning/jobs and the checkpoint permission routes (refused: sharing skips the gate)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, Response

from gateway.api.deps import PrincipalDep, ServicesDep
from gateway.errors import PermissionDenied
from gateway.protocol.common import ListPage, error_responses
from gateway.protocol.jobs import CheckpointObject, JobCreateRequest, JobEventObject, JobObject

router = APIRouter(prefix="/v1/fine_tuning", responses=error_responses(400, 401, 404))


def _metadata_filter(request: Request) -> dict[str, str]:
    """``metadata[key]=value`` query parameters, as the OpenAI SDK sends them."""
    found = {}
    for name, value in request.query_params.items():
        if name.startswith("metadata[") and name.endswith("]"):
            found[name[len("metadata[") : -1]] = value
    return found


@router.post("/jobs", response_model=JobObject, responses=error_responses(403, 502))
async def create_job(body: JobCreateRequest, principal: PrincipalDep, svc: ServicesDep) -> JobObject:
    return JobObject.from_row(await svc.jobs.create(principal, body))


@router.get("/jobs", response_model=ListPage[JobObject])
async def list_jobs(
    request: Request,
    principal: PrincipalDep,
    svc: ServicesDep,
    after: str | None = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> ListPage[JobObject]:
    rows, more = await svc.jobs.list(principal, after=after, limit=limit, metadata=_metadata_filter(request))
    return ListPage.of([JobObject.from_row(r) for r in rows], has_more=more)


@router.get("/jobs/{job_id}", response_model=JobObject)
async def retrieve_job(job_id: str, principal: PrincipalDep, svc: ServicesDep) -> JobObject:
    return JobObject.from_row(await svc.jobs.get(principal, job_id))


@router.post("/jobs/{job_id}/cancel", response_model=JobObject, responses=error_responses(409, 502))
async def cancel_job(job_id: str, principal: PrincipalDep, svc: ServicesDep) -> JobObject:
    return JobObject.from_row(await svc.jobs.cancel(principal, job_id))


@router.post("/jobs/{job_id}/pause", response_model=JobObject, responses=error_responses(409, 502))
async def pause_job(job_id: str, principal: PrincipalDep, svc: ServicesDep) -> JobObject:
    return JobObject.from_row(await svc.jobs.pause(principal, job_id))


@router.post("/jobs/{job_id}/resume", response_model=JobObject, responses=error_responses(409, 502))
async def resume_job(job_id: str, principal: PrincipalDep, svc: ServicesDep) -> JobObject:
    return JobObject.from_row(await svc.jobs.resume(principal, job_id))


@router.get("/jobs/{job_id}/events", response_model=ListPage[JobEventObject])
async def list_events(
    job_id: str,
    principal: PrincipalDep,
    svc: ServicesDep,
    after: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 20,
) -> ListPage[JobEventObject]:
    events, more = await svc.jobs.events(principal, job_id, after=after, limit=limit)
    return ListPage.of(events, has_more=more)


@router.get("/jobs/{job_id}/checkpoints", response_model=ListPage[CheckpointObject])
async def list_checkpoints(
    job_id: str,
    principal: PrincipalDep,
    svc: ServicesDep,
    after: str | None = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 10,
) -> ListPage[CheckpointObject]:
    items, more = await svc.jobs.checkpoints(principal, job_id, after=after, limit=limit)
    return ListPage.of(items, has_more=more)


@router.get(
    "/jobs/{job_id}/safety_report",
    response_model=None,
    responses={
        200: {
            "content": {
                "application/json": {"schema": {"type": "object"}},
                "text/markdown": {"schema": {"type": "string"}},
                "text/html": {"schema": {"type": "string"}},
            }
        }
    },
)
async def safety_report(
    job_id: str,
    principal: PrincipalDep,
    svc: ServicesDep,
    format: Annotated[Literal["json", "markdown", "html"], Query()] = "json",
) -> Response | dict[str, object]:
    """The model gate's report: JSON, Markdown, or a self-contained HTML page."""
    report = await svc.jobs.safety_report(principal, job_id)
    if format == "json" or report.get("status") != "completed":
        return report
    from gateway.evals.report import EvalReport, as_html, as_markdown

    parsed = EvalReport.model_validate({k: v for k, v in report.items() if k in EvalReport.model_fields})
    if format == "markdown":
        return PlainTextResponse(as_markdown(parsed), media_type="text/markdown; charset=utf-8")
    return HTMLResponse(as_html(parsed))


# One route per method, so each has its own OpenAPI operation id.
@router.get("/checkpoints/{checkpoint:path}", responses=error_responses(403))
@router.post("/checkpoints/{checkpoint:path}", responses=error_responses(403))
@router.delete("/checkpoints/{checkpoint:path}", responses=error_responses(403))
async def checkpoint_permissions(checkpoint: str, principal: PrincipalDep) -> None:
    raise PermissionDenied(
        "Sharing fine-tuned checkpoints is not available through tunegate: a shared checkpoint would "
        "skip the release gate.",
        code="checkpoint_sharing_disabled",
    )
