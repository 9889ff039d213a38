"""Turning a create-job request into a job record and a training spec, with OpenAI's checks."""

from __future__ import annotations

import secrets
import string
import time
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from trainer.config import TrainerConfig
from trainer.errors import APIError, bad_request
from trainer.files import FileStore, new_id
from trainer.registry import ModelRegistry

UNSUPPORTED_METHODS = {"dpo", "reinforcement"}


class CreateJobRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    model: str
    training_file: str
    validation_file: str | None = None
    suffix: str | None = Field(default=None, max_length=64)
    seed: int | None = None
    metadata: dict[str, str] | None = None
    method: dict[str, Any] | None = None
    hyperparameters: dict[str, Any] | None = None


def _check_metadata(metadata: dict[str, str] | None) -> None:
    if metadata is None:
        return
    if len(metadata) > 16:
        raise bad_request(
            "metadata can have at most 16 key-value pairs.", param="metadata", code="invalid_value"
        )
    for key, value in metadata.items():
        if len(key) > 64 or len(value) > 512:
            raise bad_request(
                "metadata keys are at most 64 characters and values at most 512.",
                param="metadata",
                code="invalid_value",
            )


def _check_file(files: FileStore, file_id: str, param: str) -> None:
    try:
        record = files.get(file_id)
    except APIError:
        raise bad_request(f"File {file_id} not found.", param=param, code="file_not_found") from None
    if record["purpose"] != "fine-tune":
        raise bad_request(
            f"File {file_id} does not have purpose 'fine-tune'.", param=param, code="invalid_value"
        )


def _hyperparameter(raw: dict[str, Any], name: str, default: Any, kind: type, param: str) -> Any:
    value = raw.get(name, "auto")
    if value is None or value == "auto":
        return default
    low, high = {"n_epochs": (1, 50), "batch_size": (1, 256), "learning_rate_multiplier": (1e-6, 100.0)}[name]
    ok = isinstance(value, int | float) and not isinstance(value, bool) and low <= value <= high
    if not ok or (kind is int and value != int(value)):
        raise bad_request(
            f"{name} must be 'auto' or a number from {low} to {high}.",
            param=f"{param}.{name}",
            code="invalid_value",
        )
    return kind(value)


def _method(request: CreateJobRequest, config: TrainerConfig) -> tuple[dict[str, Any], dict[str, Any]]:
    """The method object and resolved hyperparameters; only supervised is offered."""
    method = request.method or {"type": "supervised"}
    kind = method.get("type")
    if kind in UNSUPPORTED_METHODS:
        raise bad_request(
            f"Fine-tuning method '{kind}' is not supported by this server; use 'supervised'.",
            param="method",
            code="unsupported_method",
        )
    if kind != "supervised":
        raise bad_request(
            f"Unknown fine-tuning method {kind!r}; use 'supervised'.",
            param="method.type",
            code="invalid_value",
        )
    if request.method is not None:
        raw, param = (
            (method.get("supervised") or {}).get("hyperparameters") or {},
            "method.supervised.hyperparameters",
        )
    else:
        raw, param = request.hyperparameters or {}, "hyperparameters"
    hyper = {
        "n_epochs": _hyperparameter(raw, "n_epochs", config.n_epochs, int, param),
        "batch_size": _hyperparameter(raw, "batch_size", config.batch_size, int, param),
        "learning_rate_multiplier": _hyperparameter(raw, "learning_rate_multiplier", 1.0, float, param),
    }
    return {"type": "supervised", "supervised": {"hyperparameters": hyper}}, hyper


def build_job(
    request: CreateJobRequest, config: TrainerConfig, files: FileStore, registry: ModelRegistry
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The public job record (status validating_files) and the private training spec."""
    method, hyper = _method(request, config)
    base = registry.resolve(request.model, param="model", status=400)
    if config.use_lora and base.is_adapter:
        raise bad_request(
            "With LoRA, fine-tune a base model or a fully tuned model.", param="model", code="invalid_value"
        )
    _check_file(files, request.training_file, "training_file")
    if request.validation_file:
        _check_file(files, request.validation_file, "validation_file")
    _check_metadata(request.metadata)
    seed = request.seed if request.seed is not None else secrets.randbelow(2**31)
    tag = "".join(secrets.choice(string.ascii_lowercase + string.digits) for _ in range(8))
    fine_tuned_model = f"ft:{base.base_id}:{config.organization}:{request.suffix or ''}:{tag}"
    job = {
        "object": "fine_tuning.job",
        "id": new_id("ftjob"),
        "created_at": int(time.time()),
        "model": request.model,
        "organization_id": config.organization,
        "status": "validating_files",
        "training_file": request.training_file,
        "validation_file": request.validation_file,
        "result_files": [],
        "fine_tuned_model": None,
        "finished_at": None,
        "estimated_finish": None,
        "trained_tokens": None,
        "seed": seed,
        "hyperparameters": hyper,
        "method": method,
        "metadata": request.metadata,
        "error": None,
        "integrations": [],
        "user_provided_suffix": request.suffix,
    }
    spec = {
        "base_model_dir": str(base.path),
        "fine_tuned_model": fine_tuned_model,
        "seed": seed,
        "n_epochs": hyper["n_epochs"],
        "batch_size": hyper["batch_size"],
        "learning_rate": config.learning_rate * hyper["learning_rate_multiplier"],
        "max_seq_len": config.max_seq_len,
        "use_lora": config.use_lora,
        "lora_rank": config.lora_rank,
        "keep_checkpoints": config.keep_checkpoints,
    }
    return job, spec
