"""Adapter for any API that speaks OpenAI's files and fine-tuning wire format.

One class covers OpenAI, Azure OpenAI (v1 API: ``key_header="api-key"`` plus an ``api-version``
query), Bedrock's OpenAI-compatible endpoint, vLLM and our reference trainer server: they differ
only in base URL, auth header and extra query parameters.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx

from gateway.errors import UpstreamFailed
from gateway.upstreams._http import DEFAULT_BACKOFF_BASE, DEFAULT_MAX_ATTEMPTS, OnCall, UpstreamHttp
from gateway.upstreams.base import (
    GATEWAY_JOB_ID_KEY,
    JobSpec,
    UpstreamCheckpoint,
    UpstreamEvent,
    UpstreamFile,
    UpstreamJob,
)

# The idempotency lookup scans at most this many pages when a provider ignores the metadata filter.
_FIND_PAGES = 5
_PAGE_SIZE = 100


def _job(raw: dict[str, Any]) -> UpstreamJob:
    """OpenAI's ``fine_tuning.job`` object → UpstreamJob."""
    hyperparameters = raw.get("hyperparameters")
    method = raw.get("method")
    if not hyperparameters and isinstance(method, dict):
        section = method.get(str(method.get("type")))
        hyperparameters = section.get("hyperparameters") if isinstance(section, dict) else None
    error = raw.get("error")
    metadata = raw.get("metadata")
    return UpstreamJob(
        id=_required_id(raw),
        status=str(raw.get("status") or "queued"),
        fine_tuned_model=raw.get("fine_tuned_model"),
        trained_tokens=raw.get("trained_tokens"),
        finished_at=raw.get("finished_at"),
        estimated_finish=raw.get("estimated_finish"),
        result_files=tuple(raw.get("result_files") or ()),
        hyperparameters=hyperparameters if isinstance(hyperparameters, dict) else None,
        error=error if isinstance(error, dict) and error.get("message") else None,
        metadata={str(k): str(v) for k, v in metadata.items()} if isinstance(metadata, dict) else {},
    )


def _required_id(raw: dict[str, Any]) -> str:
    if not raw.get("id"):
        raise UpstreamFailed("upstream response lacks an 'id'", code="upstream_bad_response")
    return str(raw["id"])


def _event(raw: dict[str, Any]) -> UpstreamEvent:
    return UpstreamEvent(
        id=str(raw.get("id", "")),
        created_at=int(raw.get("created_at") or 0),
        level=str(raw.get("level") or "info"),
        message=str(raw.get("message") or ""),
        type=str(raw.get("type") or "message"),
        data=raw.get("data") if isinstance(raw.get("data"), dict) else None,
    )


def _checkpoint(raw: dict[str, Any]) -> UpstreamCheckpoint:
    return UpstreamCheckpoint(
        id=str(raw.get("id", "")),
        created_at=int(raw.get("created_at") or 0),
        fine_tuned_model_checkpoint=str(raw.get("fine_tuned_model_checkpoint") or ""),
        step_number=int(raw.get("step_number") or 0),
        metrics=raw.get("metrics") if isinstance(raw.get("metrics"), dict) else {},
    )


class OpenAICompatUpstream:
    """An OpenAI-compatible provider; ``base_url`` ends at the API root (``.../v1``)."""

    def __init__(
        self,
        *,
        name: str,
        base_url: str,
        api_key: str | None,
        key_header: str = "Authorization",
        extra_query: dict[str, str] | None = None,
        extra_headers: dict[str, str] | None = None,
        timeout: float = 60.0,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
        backoff_base: float = DEFAULT_BACKOFF_BASE,
        on_call: OnCall | None = None,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        self.name = name
        self._http = UpstreamHttp(
            adapter=name,
            base_url=base_url,
            api_key=api_key,
            key_header=key_header,
            extra_query=extra_query,
            extra_headers=extra_headers,
            timeout=timeout,
            max_attempts=max_attempts,
            backoff_base=backoff_base,
            on_call=on_call,
            client=client,
        )

    # -- files -------------------------------------------------------------------------------

    async def upload_file(self, path: Path, *, filename: str, purpose: str) -> UpstreamFile:
        """Multipart upload; httpx reads the open file in 64 KiB chunks, so memory stays flat."""
        handle = await asyncio.to_thread(path.open, "rb")
        try:
            raw = await self._http.call(
                "upload_file", "POST", "/files", files={"file": (filename, handle)}, data={"purpose": purpose}
            )
        finally:
            handle.close()
        return UpstreamFile(
            id=_required_id(raw),
            bytes=int(raw.get("bytes") or 0),
            status=str(raw.get("status") or "processed"),
        )

    async def delete_file(self, file_id: str) -> None:
        await self._http.call("delete_file", "DELETE", f"/files/{file_id}", expect=None)

    # -- jobs --------------------------------------------------------------------------------

    async def create_job(self, spec: JobSpec) -> UpstreamJob:
        """Look for the job first, then create it: a retried POST whose answer was lost finds it."""

        async def attempt() -> UpstreamJob:
            existing = await self._find_job(spec.gateway_job_id, retry=False)
            if existing is not None:
                return existing
            raw = await self._http.call(
                "create_job", "POST", "/fine_tuning/jobs", json=_job_body(spec), retry=False
            )
            return _job(raw)

        return await self._http.retrying("create_job", attempt)

    async def find_job(self, gateway_job_id: str) -> UpstreamJob | None:
        return await self._find_job(gateway_job_id, retry=True)

    async def _find_job(self, gateway_job_id: str, *, retry: bool) -> UpstreamJob | None:
        """Filter by metadata, and check it ourselves: some compatible servers ignore the filter."""
        params: dict[str, Any] = {f"metadata[{GATEWAY_JOB_ID_KEY}]": gateway_job_id, "limit": _PAGE_SIZE}
        for _ in range(_FIND_PAGES):
            page = await self._http.call("find_job", "GET", "/fine_tuning/jobs", params=params, retry=retry)
            jobs = [item for item in page.get("data") or [] if isinstance(item, dict)]
            for raw in jobs:
                metadata = raw.get("metadata")
                if isinstance(metadata, dict) and metadata.get(GATEWAY_JOB_ID_KEY) == gateway_job_id:
                    return _job(raw)
            if not page.get("has_more") or not jobs:
                return None
            params = {**params, "after": jobs[-1].get("id")}
        return None

    async def get_job(self, job_id: str) -> UpstreamJob:
        return _job(await self._http.call("get_job", "GET", f"/fine_tuning/jobs/{job_id}"))

    async def cancel_job(self, job_id: str) -> UpstreamJob:
        return _job(await self._http.call("cancel_job", "POST", f"/fine_tuning/jobs/{job_id}/cancel"))

    async def pause_job(self, job_id: str) -> UpstreamJob:
        return _job(await self._http.call("pause_job", "POST", f"/fine_tuning/jobs/{job_id}/pause"))

    async def resume_job(self, job_id: str) -> UpstreamJob:
        return _job(await self._http.call("resume_job", "POST", f"/fine_tuning/jobs/{job_id}/resume"))

    async def list_events(self, job_id: str, *, limit: int = 100) -> list[UpstreamEvent]:
        """OpenAI pages events newest first; collect up to ``limit`` and hand them back oldest first."""
        collected: list[dict[str, Any]] = []
        params: dict[str, Any] = {"limit": min(limit, _PAGE_SIZE)}
        path = f"/fine_tuning/jobs/{job_id}/events"
        while len(collected) < limit:
            page = await self._http.call("list_events", "GET", path, params=params)
            data = [item for item in page.get("data") or [] if isinstance(item, dict)]
            collected.extend(data)
            if not page.get("has_more") or not data:
                break
            params = {"limit": min(limit - len(collected), _PAGE_SIZE), "after": data[-1].get("id")}
        return [_event(raw) for raw in reversed(collected[:limit])]

    async def list_checkpoints(self, job_id: str) -> list[UpstreamCheckpoint]:
        """All checkpoints, earliest step first (OpenAI pages them newest first)."""
        collected: list[dict[str, Any]] = []
        params: dict[str, Any] = {"limit": _PAGE_SIZE}
        path = f"/fine_tuning/jobs/{job_id}/checkpoints"
        for _ in range(_FIND_PAGES):
            page = await self._http.call("list_checkpoints", "GET", path, params=params)
            data = [item for item in page.get("data") or [] if isinstance(item, dict)]
            collected.extend(data)
            if not page.get("has_more") or not data:
                break
            params = {"limit": _PAGE_SIZE, "after": data[-1].get("id")}
        return sorted((_checkpoint(raw) for raw in collected), key=lambda c: (c.step_number, c.created_at))

    # -- inference ---------------------------------------------------------------------------

    async def list_models(self) -> list[str]:
        page = await self._http.call("list_models", "GET", "/models")
        return [str(item["id"]) for item in page.get("data") or [] if isinstance(item, dict) and "id" in item]

    async def chat_completion(self, body: dict[str, Any]) -> dict[str, Any]:
        return await self._http.call("chat_completion", "POST", "/chat/completions", json=body)

    def chat_completion_stream(self, body: dict[str, Any]) -> AsyncIterator[bytes]:
        body = {**body, "stream": True}
        return self._http.stream("chat_completion_stream", "/chat/completions", json_body=body)

    async def aclose(self) -> None:
        await self._http.aclose()


def _job_body(spec: JobSpec) -> dict[str, Any]:
    """The POST body, with the gateway job id in metadata so ``find_job`` can recognise it."""
    body: dict[str, Any] = {
        "model": spec.model,
        "training_file": spec.training_file,
        "validation_file": spec.validation_file,
        "suffix": spec.suffix,
        "seed": spec.seed,
        "method": spec.method,
        "hyperparameters": spec.hyperparameters,
        "metadata": {**spec.metadata, GATEWAY_JOB_ID_KEY: spec.gateway_job_id},
    }
    return {key: value for key, value in body.items() if value is not None}
