"""Adapter for Together AI's fine-tuning API (https://docs.together.ai/reference).

Together is not OpenAI-shaped for fine-tuning: files go to ``POST /files/upload`` (multipart
``file``, ``file_name``, ``purpose``, ``file_type``), jobs to ``/fine-tunes`` with a flat body, and
job objects carry their own status names and ISO timestamps. Chat and model listing are
OpenAI-compatible. What this adapter does *not* forward, because Together has no such field:
``seed`` and user ``metadata``; pause and resume are refused.

Idempotency: Together jobs have no metadata, so the gateway job id travels in the documented
``suffix`` (up to 40 characters, part of the output model name). The gateway id itself may be too
long and carry characters a model name cannot, so we send a fixed 15-character tag,
``tg-`` + the first 12 hex digits of its SHA-256, after the user's own suffix. ``find_job`` lists
``GET /fine-tunes`` and matches the tag in each job's ``suffix`` or ``model_output_name``.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from gateway.errors import InvalidRequest, UpstreamFailed
from gateway.upstreams._http import DEFAULT_BACKOFF_BASE, DEFAULT_MAX_ATTEMPTS, OnCall, UpstreamHttp
from gateway.upstreams.base import (
    GATEWAY_JOB_ID_KEY,
    JobSpec,
    UpstreamCheckpoint,
    UpstreamEvent,
    UpstreamFile,
    UpstreamJob,
)

# OpenAI's learning_rate_multiplier scales this: Together's documented default learning_rate.
TOGETHER_BASE_LEARNING_RATE = 1e-5
_MAX_SUFFIX = 40
_UNSUPPORTED = "unsupported_operation"

STATUS_MAP = {
    "pending": "queued",
    "queued": "queued",
    "running": "running",
    "compressing": "running",
    "uploading": "running",
    "completed": "succeeded",
    "error": "failed",
    "failed": "failed",
    "user_error": "failed",
    "cancel_requested": "cancelled",
    "cancelled": "cancelled",
}
_TERMINAL = {"succeeded", "failed", "cancelled"}
# Together's event levels, old and new spellings → OpenAI's "info" / "warn" / "error".
_LEVELS = {
    "info": "info",
    "legacy_info": "info",
    "warning": "warn",
    "warn": "warn",
    "legacy_iwarning": "warn",
    "error": "error",
    "legacy_ierror": "error",
}


def job_tag(gateway_job_id: str) -> str:
    """The short, model-name-safe mark of a gateway job inside Together's ``suffix``."""
    return "tg-" + hashlib.sha256(gateway_job_id.encode()).hexdigest()[:12]


def _suffix(user_suffix: str | None, tag: str) -> str:
    cleaned = re.sub(r"[^A-Za-z0-9-]+", "-", user_suffix or "").strip("-")
    cleaned = cleaned[: _MAX_SUFFIX - len(tag) - 1].rstrip("-")
    return f"{cleaned}-{tag}" if cleaned else tag


def _unix(value: Any) -> int | None:
    """Together sends ISO-8601 strings ("2024-05-17T17:35:45.123Z"); the contract wants seconds."""
    if isinstance(value, int | float):
        return int(value)
    if not isinstance(value, str) or not value:
        return None
    try:
        return int(datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp())
    except ValueError:
        return None


def _hyperparameters(spec: JobSpec) -> tuple[str, dict[str, Any]]:
    """The OpenAI method type and its hyperparameters (legacy top-level ones underneath)."""
    method = spec.method or {"type": "supervised"}
    kind = str(method.get("type") or "supervised")
    if kind not in ("supervised", "dpo"):
        raise InvalidRequest(
            f"Together supports supervised and dpo fine-tuning, not {kind!r}",
            param="method",
            code=_UNSUPPORTED,
        )
    section = method.get(kind)
    nested = section.get("hyperparameters") if isinstance(section, dict) else None
    merged = {**(spec.hyperparameters or {}), **(nested or {})}
    return kind, {key: value for key, value in merged.items() if value is not None and value != "auto"}


class TogetherUpstream:
    """Together AI. LoRA is Together's default; ``lora=False`` asks for a full fine-tune."""

    def __init__(
        self,
        *,
        name: str = "together",
        base_url: str = "https://api.together.ai/v1",
        api_key: str | None,
        extra_query: dict[str, str] | None = None,
        extra_headers: dict[str, str] | None = None,
        timeout: float = 60.0,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
        backoff_base: float = DEFAULT_BACKOFF_BASE,
        on_call: OnCall | None = None,
        client: httpx.AsyncClient | None = None,
        base_learning_rate: float = TOGETHER_BASE_LEARNING_RATE,
        lora: bool = True,
        lora_r: int = 8,
        lora_alpha: int = 16,
    ) -> None:
        self.name = name
        self.base_learning_rate = base_learning_rate
        self._training_type: dict[str, Any] = (
            {"type": "Lora", "lora_r": lora_r, "lora_alpha": lora_alpha} if lora else {"type": "Full"}
        )
        self._http = UpstreamHttp(
            adapter=name,
            base_url=base_url,
            api_key=api_key,
            extra_query=extra_query,
            extra_headers=extra_headers,
            timeout=timeout,
            max_attempts=max_attempts,
            backoff_base=backoff_base,
            on_call=on_call,
            client=client,
        )

    # -- mapping -----------------------------------------------------------------------------

    def job_body(self, spec: JobSpec) -> dict[str, Any]:
        """JobSpec (OpenAI-shaped) → Together's flat ``POST /fine-tunes`` body."""
        kind, hp = _hyperparameters(spec)
        training_method: dict[str, Any] = {"method": "sft"}
        if kind == "dpo":
            training_method = {"method": "dpo"}
            if "beta" in hp:
                training_method["dpo_beta"] = hp["beta"]
        body: dict[str, Any] = {
            "model": spec.model,
            "training_file": spec.training_file,
            "validation_file": spec.validation_file,
            "suffix": _suffix(spec.suffix, job_tag(spec.gateway_job_id)),
            "n_epochs": hp.get("n_epochs"),
            "batch_size": hp.get("batch_size"),
            "learning_rate": (
                float(hp["learning_rate_multiplier"]) * self.base_learning_rate
                if "learning_rate_multiplier" in hp
                else None
            ),
            "training_method": training_method,
            "training_type": self._training_type,
        }
        return {key: value for key, value in body.items() if value is not None}

    def _job(self, raw: dict[str, Any], gateway_job_id: str | None = None) -> UpstreamJob:
        if not raw.get("id"):
            raise UpstreamFailed("Together response lacks an 'id'", code="upstream_bad_response")
        raw_status = str(raw.get("status") or "pending")
        status = STATUS_MAP.get(raw_status, raw_status)
        learning_rate = raw.get("learning_rate")
        hyperparameters = {
            "n_epochs": raw.get("n_epochs"),
            "batch_size": raw.get("batch_size"),
            "learning_rate_multiplier": (
                learning_rate / self.base_learning_rate if isinstance(learning_rate, int | float) else None
            ),
        }
        # Together names the output model at creation; like OpenAI, expose it only once it exists.
        output_name = raw.get("model_output_name") or raw.get("output_name")
        error = None
        if status == "failed":
            messages = [
                str(event.get("message"))
                for event in raw.get("events") or []
                if isinstance(event, dict) and str(event.get("level") or "").lower() == "error"
            ]
            message = messages[-1] if messages else f"Together job ended with status {raw_status!r}"
            error = {"code": raw_status, "message": message, "param": None}
        return UpstreamJob(
            id=str(raw["id"]),
            status=status,
            fine_tuned_model=output_name if status == "succeeded" else None,
            finished_at=_unix(raw.get("updated_at")) if status in _TERMINAL else None,
            hyperparameters={key: value for key, value in hyperparameters.items() if value is not None},
            error=error,
            metadata={GATEWAY_JOB_ID_KEY: gateway_job_id} if gateway_job_id else {},
        )

    # -- files -------------------------------------------------------------------------------

    async def upload_file(self, path: Path, *, filename: str, purpose: str) -> UpstreamFile:
        """Multipart upload streamed from disk (httpx reads the file in 64 KiB chunks)."""
        extension = Path(filename).suffix.lstrip(".").lower()
        fields = {
            "purpose": purpose,
            "file_name": filename,
            "file_type": extension if extension in ("jsonl", "parquet", "csv") else "jsonl",
        }
        handle = await asyncio.to_thread(path.open, "rb")
        try:
            raw = await self._http.call(
                "upload_file", "POST", "/files/upload", files={"file": (filename, handle)}, data=fields
            )
        finally:
            handle.close()
        if not raw.get("id"):
            raise UpstreamFailed("Together response lacks an 'id'", code="upstream_bad_response")
        processed = raw.get("Processed", raw.get("processed", True))
        status = "processed" if processed else "uploaded"
        return UpstreamFile(id=str(raw["id"]), bytes=int(raw.get("bytes") or 0), status=status)

    async def delete_file(self, file_id: str) -> None:
        await self._http.call("delete_file", "DELETE", f"/files/{file_id}", expect=None)

    # -- jobs --------------------------------------------------------------------------------

    async def create_job(self, spec: JobSpec) -> UpstreamJob:
        """Look for the tagged job first, then create it, as one retried unit."""
        body = self.job_body(spec)

        async def attempt() -> UpstreamJob:
            existing = await self._find_job(spec.gateway_job_id, retry=False)
            if existing is not None:
                return existing
            raw = await self._http.call("create_job", "POST", "/fine-tunes", json=body, retry=False)
            return self._job(raw, spec.gateway_job_id)

        return await self._http.retrying("create_job", attempt)

    async def find_job(self, gateway_job_id: str) -> UpstreamJob | None:
        return await self._find_job(gateway_job_id, retry=True)

    async def _find_job(self, gateway_job_id: str, *, retry: bool) -> UpstreamJob | None:
        tag = job_tag(gateway_job_id)
        page = await self._http.call("find_job", "GET", "/fine-tunes", retry=retry)
        for raw in page.get("data") or []:
            if not isinstance(raw, dict):
                continue
            names = (raw.get("suffix"), raw.get("model_output_name"), raw.get("output_name"))
            if any(isinstance(name, str) and tag in name for name in names):
                return self._job(raw, gateway_job_id)
        return None

    async def get_job(self, job_id: str) -> UpstreamJob:
        return self._job(await self._http.call("get_job", "GET", f"/fine-tunes/{job_id}"))

    async def cancel_job(self, job_id: str) -> UpstreamJob:
        return self._job(await self._http.call("cancel_job", "POST", f"/fine-tunes/{job_id}/cancel"))

    async def pause_job(self, job_id: str) -> UpstreamJob:
        raise InvalidRequest("Together does not support pausing fine-tuning jobs", code=_UNSUPPORTED)

    async def resume_job(self, job_id: str) -> UpstreamJob:
        raise InvalidRequest("Together does not support resuming fine-tuning jobs", code=_UNSUPPORTED)

    async def list_events(self, job_id: str, *, limit: int = 100) -> list[UpstreamEvent]:
        """Together returns every event in one list; keep the newest ``limit``, oldest first."""
        page = await self._http.call("list_events", "GET", f"/fine-tunes/{job_id}/events")
        events = []
        for index, raw in enumerate(item for item in page.get("data") or [] if isinstance(item, dict)):
            level = str(raw.get("level") or "info").lower()
            events.append(
                UpstreamEvent(
                    id=str(raw.get("hash") or f"{job_id}-event-{index}"),
                    created_at=_unix(raw.get("created_at")) or 0,
                    level=_LEVELS.get(level, "info"),
                    message=str(raw.get("message") or ""),
                    data={"together_type": raw["type"]} if raw.get("type") else None,
                )
            )
        events.sort(key=lambda event: event.created_at)  # stable: ties keep Together's order
        return events[-limit:] if limit > 0 else []

    async def list_checkpoints(self, job_id: str) -> list[UpstreamCheckpoint]:
        """``GET /fine-tunes/{id}/checkpoints``; ``<job id>:<step>`` is Together's checkpoint reference."""
        page = await self._http.call("list_checkpoints", "GET", f"/fine-tunes/{job_id}/checkpoints")
        checkpoints = [
            UpstreamCheckpoint(
                id=f"{job_id}:{raw.get('step') or 0}",
                created_at=_unix(raw.get("created_at")) or 0,
                fine_tuned_model_checkpoint=f"{job_id}:{raw.get('step') or 0}",
                step_number=int(raw.get("step") or 0),
                metrics={},
            )
            for raw in page.get("data") or []
            if isinstance(raw, dict)
        ]
        return sorted(checkpoints, key=lambda c: (c.step_number, c.created_at))

    # -- inference (OpenAI-compatible) ---------------------------------------------------------

    async def list_models(self) -> list[str]:
        """Together answers ``GET /models`` with a bare list; accept OpenAI's ``{"data": [...]}`` too."""
        payload = await self._http.call("list_models", "GET", "/models", expect=(list, dict))
        items = payload if isinstance(payload, list) else payload.get("data") or []
        return [str(item["id"]) for item in items if isinstance(item, dict) and "id" in item]

    async def chat_completion(self, body: dict[str, Any]) -> dict[str, Any]:
        return await self._http.call("chat_completion", "POST", "/chat/completions", json=body)

    def chat_completion_stream(self, body: dict[str, Any]) -> AsyncIterator[bytes]:
        body = {**body, "stream": True}
        return self._http.stream("chat_completion_stream", "/chat/completions", json_body=body)

    async def aclose(self) -> None:
        await self._http.aclose()
