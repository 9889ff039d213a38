"""``/v1/fine_tuning/jobs``: create, list, read, cancel, pause and resume jobs; events; checkpoints."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request

from trainer.config import TrainerConfig
from trainer.files import FileStore
from trainer.job_request import CreateJobRequest, build_job
from trainer.jobs import JobStore, page
from trainer.registry import ModelRegistry
from trainer.runner import Runner


def metadata_filter(request: Request) -> dict[str, str]:
    """``metadata[key]=value`` query parameters, as the OpenAI client sends them."""
    return {
        key[len("metadata[") : -1]: value
        for key, value in request.query_params.items()
        if key.startswith("metadata[") and key.endswith("]")
    }


def jobs_router(
    config: TrainerConfig, jobs: JobStore, files: FileStore, registry: ModelRegistry, runner: Runner
) -> APIRouter:
    router = APIRouter(prefix="/fine_tuning/jobs")

    @router.post("")
    def create_job(body: CreateJobRequest) -> dict[str, Any]:
        job, spec = build_job(body, config, files, registry)
        job_dir = jobs.create(job, spec)
        job_dir.add_event(f"Created fine-tuning job: {job['id']}")
        job_dir.add_event(f"Validating training file: {job['training_file']}")
        if job["validation_file"]:
            job_dir.add_event(f"Validating validation file: {job['validation_file']}")
        return job

    @router.get("")
    def list_jobs(
        request: Request, after: str | None = None, limit: int = Query(default=20, ge=1, le=100)
    ) -> dict[str, Any]:
        listing = page(jobs.list(metadata=metadata_filter(request)), after=after, limit=limit)
        return {"object": "list", "data": listing["data"], "has_more": listing["has_more"]}

    @router.get("/{job_id}")
    def get_job(job_id: str) -> dict[str, Any]:
        return jobs.view(jobs.get(job_id))

    @router.post("/{job_id}/cancel")
    def cancel_job(job_id: str) -> dict[str, Any]:
        return jobs.view(runner.cancel(job_id))

    @router.post("/{job_id}/pause")
    def pause_job(job_id: str) -> dict[str, Any]:
        return jobs.view(runner.pause(job_id))

    @router.post("/{job_id}/resume")
    def resume_job(job_id: str) -> dict[str, Any]:
        return jobs.view(runner.resume(job_id))

    @router.get("/{job_id}/events")
    def list_events(
        job_id: str, after: str | None = None, limit: int = Query(default=20, ge=1, le=1000)
    ) -> dict[str, Any]:
        listing = page(jobs.events(job_id), after=after, limit=limit)
        return {"object": "list", "data": listing["data"], "has_more": listing["has_more"]}

    @router.get("/{job_id}/checkpoints")
    def list_checkpoints(
        job_id: str, after: str | None = None, limit: int = Query(default=10, ge=1, le=100)
    ) -> dict[str, Any]:
        return page(jobs.checkpoints(job_id), after=after, limit=limit)

    return router
