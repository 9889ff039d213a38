"""Fine-tuning jobs, events and checkpoints on the wire."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from gateway.errors import InvalidRequest
from gateway.protocol.common import OpenAIModel, StrictRequest
from gateway.store import tables

METHOD_TYPES = ("supervised", "dpo", "reinforcement")
_HYPERPARAMETER_RANGES: dict[str, tuple[float, float, type]] = {
    "n_epochs": (1, 50, int),
    "batch_size": (1, 256, int),
    "learning_rate_multiplier": (1e-6, 100.0, float),
    "beta": (1e-6, 2.0, float),  # DPO
    "compute_multiplier": (1e-6, 10.0, float),  # reinforcement
    "eval_interval": (1, 1000, int),
    "eval_samples": (1, 1000, int),
}


def _invalid(param: str, message: str) -> InvalidRequest:
    """Raised from validators on purpose: pydantic passes it through, so the envelope names the field."""
    return InvalidRequest(f"Invalid value for '{param}': {message}", param=param, code="invalid_value")


def _check_hyperparameters(values: dict[str, Any], where: str) -> dict[str, Any]:
    for key, value in values.items():
        if value == "auto":
            continue
        bounds = _HYPERPARAMETER_RANGES.get(key)
        if bounds is None:
            continue  # provider-specific; passed through
        low, high, kind = bounds
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or (kind is int and value != int(value))
        ):
            expected = "an integer" if kind is int else "a number"
            raise _invalid(f"{where}.{key}", f"{where}.{key} must be 'auto' or {expected}, got {value!r}")
        if not low <= value <= high:
            raise _invalid(
                f"{where}.{key}", f"{where}.{key} must be between {low:g} and {high:g}, got {value}"
            )
    return values


class JobCreateRequest(StrictRequest):
    model: str = Field(min_length=1, max_length=256)
    training_file: str = Field(min_length=1)
    validation_file: str | None = None
    suffix: str | None = Field(default=None, max_length=64)
    seed: int | None = Field(default=None, ge=0, le=2_147_483_647)
    metadata: dict[str, str] | None = None
    method: dict[str, Any] | None = None
    hyperparameters: dict[str, Any] | None = None
    integrations: list[dict[str, Any]] | None = None

    @field_validator("suffix")
    @classmethod
    def _suffix_chars(cls, value: str | None) -> str | None:
        if value is not None and not all(c.isalnum() or c in "-_" for c in value):
            raise ValueError("suffix may contain only letters, digits, '-' and '_'")
        return value

    @field_validator("metadata")
    @classmethod
    def _metadata_limits(cls, value: dict[str, str] | None) -> dict[str, str] | None:
        if value is None:
            return value
        if len(value) > 16:
            raise ValueError("metadata may hold at most 16 key-value pairs")
        for key, item in value.items():
            if len(key) > 64 or len(item) > 512:
                raise ValueError("metadata keys are at most 64 characters and values at most 512")
        return value

    @model_validator(mode="after")
    def _normalise_method(self) -> JobCreateRequest:
        if self.method is not None:
            kind = self.method.get("type")
            if kind not in METHOD_TYPES:
                raise _invalid(
                    "method.type", f"method.type must be one of {', '.join(METHOD_TYPES)}, got {kind!r}"
                )
            section = self.method.get(kind) or {}
            if not isinstance(section, dict):
                raise _invalid(f"method.{kind}", f"method.{kind} must be an object")
            hyper = section.get("hyperparameters") or {}
            if not isinstance(hyper, dict):
                raise _invalid(
                    f"method.{kind}.hyperparameters", f"method.{kind}.hyperparameters must be an object"
                )
            _check_hyperparameters(hyper, f"method.{kind}.hyperparameters")
            if self.hyperparameters:
                raise _invalid(
                    "hyperparameters",
                    "give hyperparameters either in method or in the deprecated top-level field",
                )
        elif self.hyperparameters is not None:
            _check_hyperparameters(self.hyperparameters, "hyperparameters")
        return self

    def resolved_method(self) -> dict[str, Any]:
        """The method in its modern form; legacy ``hyperparameters`` become supervised ones."""
        if self.method is not None:
            kind = self.method["type"]
            section = dict(self.method.get(kind) or {})
            section["hyperparameters"] = dict(section.get("hyperparameters") or {})
            return {**self.method, kind: section}
        return {"type": "supervised", "supervised": {"hyperparameters": dict(self.hyperparameters or {})}}


class JobError(OpenAIModel):
    code: str
    message: str
    param: str | None = None


class JobObject(OpenAIModel):
    id: str
    object: Literal["fine_tuning.job"] = "fine_tuning.job"
    created_at: int
    model: str
    organization_id: str
    status: str
    training_file: str
    validation_file: str | None
    result_files: list[str]
    fine_tuned_model: str | None
    finished_at: int | None
    estimated_finish: int | None
    trained_tokens: int | None
    seed: int | None
    hyperparameters: dict[str, Any]
    method: dict[str, Any]
    integrations: list[dict[str, Any]] | None
    metadata: dict[str, str] | None
    error: JobError | None
    safety: dict[str, Any]
    suffix: str | None = None

    @classmethod
    def from_row(cls, row: tables.Job) -> JobObject:
        released = row.release == "released"
        return cls(
            id=row.id,
            created_at=row.created_at,
            model=row.model,
            organization_id=row.tenant,
            status=row.status,
            training_file=row.training_file,
            validation_file=row.validation_file,
            result_files=list(row.result_files or []),
            fine_tuned_model=row.fine_tuned_model if released else None,
            finished_at=row.finished_at,
            estimated_finish=row.estimated_finish,
            trained_tokens=row.trained_tokens,
            seed=row.seed,
            hyperparameters=row.hyperparameters,
            method=row.method,
            integrations=row.integrations,
            metadata=row.job_metadata,
            error=JobError(**row.error) if row.error else None,
            safety={**row.safety, "release": row.release, "policy": row.policy},
            suffix=row.suffix,
        )


class JobEventObject(OpenAIModel):
    id: str
    object: Literal["fine_tuning.job.event"] = "fine_tuning.job.event"
    created_at: int
    level: str
    message: str
    type: str
    data: dict[str, Any] | None = None

    @classmethod
    def from_row(cls, row: tables.JobEvent) -> JobEventObject:
        return cls(
            id=row.id,
            created_at=row.created_at,
            level=row.level,
            message=row.message,
            type=row.type,
            data=row.data or {},
        )


class CheckpointObject(OpenAIModel):
    id: str
    object: Literal["fine_tuning.job.checkpoint"] = "fine_tuning.job.checkpoint"
    created_at: int
    fine_tuned_model_checkpoint: str | None
    fine_tuning_job_id: str
    step_number: int
    metrics: dict[str, Any]

    @classmethod
    def from_row(cls, row: tables.Checkpoint, *, released: bool) -> CheckpointObject:
        return cls(
            id=row.id,
            created_at=row.created_at,
            fine_tuned_model_checkpoint=row.model if released else None,
            fine_tuning_job_id=row.job_id,
            step_number=row.step_number,
            metrics=row.metrics,
        )
