"""The upstream contract: what the gateway needs from a fine-tuning provider.

Adapters translate between a provider's wire format and these plain records, so the rest of
the gateway never sees provider-specific shapes. Every method raises
``gateway.errors.UpstreamFailed`` when the provider fails after the adapter's retries.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

# The metadata key that makes job creation idempotent: the upstream job carries the
# gateway's job id, and a retry looks for it before creating another job.
GATEWAY_JOB_ID_KEY = "tunegate_job_id"


@dataclass(frozen=True)
class UpstreamFile:
    id: str
    bytes: int
    status: str = "processed"


@dataclass(frozen=True)
class JobSpec:
    """A fine-tuning job as the gateway asks for it, with upstream file ids."""

    gateway_job_id: str
    model: str
    training_file: str
    validation_file: str | None = None
    suffix: str | None = None
    seed: int | None = None
    method: dict[str, Any] | None = None
    hyperparameters: dict[str, Any] | None = None
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class UpstreamJob:
    id: str
    status: str  # OpenAI's statuses; treat as an open set
    fine_tuned_model: str | None = None
    trained_tokens: int | None = None
    finished_at: int | None = None
    estimated_finish: int | None = None
    result_files: tuple[str, ...] = ()
    hyperparameters: dict[str, Any] | None = None
    error: dict[str, Any] | None = None  # {"code", "message", "param"}
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class UpstreamEvent:
    id: str
    created_at: int
    level: str
    message: str
    type: str = "message"
    data: dict[str, Any] | None = None


@dataclass(frozen=True)
class UpstreamCheckpoint:
    id: str
    created_at: int
    fine_tuned_model_checkpoint: str
    step_number: int
    metrics: dict[str, Any] = field(default_factory=dict)


@runtime_checkable
class Upstream(Protocol):
    """One fine-tuning provider. Implementations live one per module in this package."""

    name: str

    async def upload_file(self, path: Path, *, filename: str, purpose: str) -> UpstreamFile: ...

    async def delete_file(self, file_id: str) -> None: ...

    async def create_job(self, spec: JobSpec) -> UpstreamJob:
        """Create the job, or return the one already created for ``spec.gateway_job_id``."""
        ...

    async def find_job(self, gateway_job_id: str) -> UpstreamJob | None: ...

    async def get_job(self, job_id: str) -> UpstreamJob: ...

    async def cancel_job(self, job_id: str) -> UpstreamJob: ...

    async def pause_job(self, job_id: str) -> UpstreamJob: ...

    async def resume_job(self, job_id: str) -> UpstreamJob: ...

    async def list_events(self, job_id: str, *, limit: int = 100) -> list[UpstreamEvent]:
        """The job's events, oldest first (at most ``limit`` of the newest)."""
        ...

    async def list_checkpoints(self, job_id: str) -> list[UpstreamCheckpoint]: ...

    async def list_models(self) -> list[str]:
        """Ids of the models this upstream serves (base models and its fine-tuned ones)."""
        ...

    async def chat_completion(self, body: dict[str, Any]) -> dict[str, Any]:
        """POST a non-streaming chat completion; ``body["model"]`` is the upstream model id."""
        ...

    def chat_completion_stream(self, body: dict[str, Any]) -> AsyncIterator[bytes]:
        """POST a streaming chat completion; yields the server-sent-event bytes as they come."""
        ...

    async def aclose(self) -> None: ...
