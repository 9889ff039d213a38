"""Which model ids exist: base models, fine-tuned models of succeeded jobs, and their checkpoints."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from trainer.config import TrainerConfig
from trainer.errors import APIError
from trainer.jobdir import JobDir
from trainer.jobs import JobStore


@dataclass(frozen=True)
class ModelRef:
    id: str
    path: Path
    base_id: str  # the base model at the root, used to name models tuned from this one
    owned_by: str
    created: int

    @property
    def is_adapter(self) -> bool:
        return (self.path / "adapter_config.json").is_file()

    def card(self) -> dict[str, object]:
        return {"id": self.id, "object": "model", "created": self.created, "owned_by": self.owned_by}


class ModelRegistry:
    """Reads the job store on every call, so new models appear as soon as a job succeeds."""

    def __init__(self, config: TrainerConfig, jobs: JobStore) -> None:
        self.config = config
        self.jobs = jobs

    def all(self) -> list[ModelRef]:
        refs = [
            ModelRef(name, path, name, "system", int(path.stat().st_mtime) if path.exists() else 0)
            for name, path in (self.config.base_models or {}).items()
        ]
        for job in reversed(self.jobs.all()):
            job_dir = JobDir(self.jobs.root / job["id"])
            base_id = job_dir.spec().get("fine_tuned_model", "ft:?:").split(":")[1]
            org = job["organization_id"]
            if job["status"] == "succeeded" and job["fine_tuned_model"]:
                refs.append(
                    ModelRef(job["fine_tuned_model"], job_dir.model_dir, base_id, org, job["finished_at"])
                )
            for ckpt in job_dir.checkpoints():
                path = job_dir.path / ckpt["path"]
                if path.is_dir():
                    refs.append(
                        ModelRef(ckpt["fine_tuned_model_checkpoint"], path, base_id, org, ckpt["created_at"])
                    )
        return refs

    def resolve(self, model_id: str, *, param: str = "model", status: int = 404) -> ModelRef:
        for ref in self.all():
            if ref.id == model_id:
                return ref
        message = f"The model '{model_id}' does not exist or you do not have access to it."
        raise APIError(status, message, param=param, code="model_not_found")
