"""Job records on disk, and the views the API returns (jobs, events, checkpoints, pages).

Records are plain JSON files, so jobs survive a restart of the server.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from trainer.errors import not_found
from trainer.jobdir import JobDir
from trainer.jsonio import read_json, write_json

TERMINAL = {"succeeded", "failed", "cancelled"}
ACTIVE = {"validating_files", "queued", "running", "paused"}


class JobStore:
    """One directory per job under ``root``; ``lock`` serializes every change to a record."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.lock = threading.RLock()
        root.mkdir(parents=True, exist_ok=True)

    def dir(self, job_id: str) -> JobDir:
        path = self.root / job_id
        if not (job_id.startswith("ftjob-") and job_id[6:].isalnum() and path.is_dir()):
            raise not_found(f"Fine-tuning job {job_id} not found.", param="fine_tuning_job_id")
        return JobDir(path)

    def create(self, job: dict[str, Any], spec: dict[str, Any]) -> JobDir:
        job_dir = JobDir(self.root / job["id"])
        job_dir.path.mkdir(parents=True)
        write_json(job_dir.spec_file, spec)
        write_json(job_dir.job_file, job)
        return job_dir

    def get(self, job_id: str) -> dict[str, Any]:
        job = read_json(self.dir(job_id).job_file)
        if job is None:
            raise not_found(f"Fine-tuning job {job_id} not found.", param="fine_tuning_job_id")
        return job

    def save(self, job: dict[str, Any]) -> None:
        write_json(JobDir(self.root / job["id"]).job_file, job)

    def all(self) -> list[dict[str, Any]]:
        """Every job, newest first."""
        jobs = [read_json(path / "job.json") for path in self.root.glob("ftjob-*")]
        jobs = [job for job in jobs if job]
        return sorted(jobs, key=lambda j: (j["created_at"], j["id"]), reverse=True)

    def view(self, job: dict[str, Any]) -> dict[str, Any]:
        """The job as the API shows it: live progress folded in while it trains."""
        if job["status"] not in ("running", "paused"):
            return job
        progress = JobDir(self.root / job["id"]).progress()
        return {
            **job,
            "trained_tokens": progress.get("trained_tokens", job["trained_tokens"]),
            "estimated_finish": progress.get("estimated_finish", job["estimated_finish"]),
        }

    def list(self, *, metadata: dict[str, str]) -> list[dict[str, Any]]:
        jobs = self.all()
        if metadata:
            jobs = [
                j for j in jobs if all((j.get("metadata") or {}).get(k) == v for k, v in metadata.items())
            ]
        return [self.view(j) for j in jobs]

    def events(self, job_id: str) -> list[dict[str, Any]]:
        """Newest first, as OpenAI lists them."""
        return list(reversed(self.dir(job_id).events()))

    def checkpoints(self, job_id: str) -> list[dict[str, Any]]:
        """Newest first, without the private ``path``."""
        records = self.dir(job_id).checkpoints()
        return [{k: v for k, v in c.items() if k != "path"} for c in reversed(records)]


def page(items: list[dict[str, Any]], *, after: str | None, limit: int) -> dict[str, Any]:
    """An OpenAI cursor page: the ``limit`` items that follow the one with id ``after``."""
    if after is not None:
        ids = [item["id"] for item in items]
        items = items[ids.index(after) + 1 :] if after in ids else []
    chosen = items[:limit]
    return {
        "object": "list",
        "data": chosen,
        "has_more": len(items) > limit,
        "first_id": chosen[0]["id"] if chosen else None,
        "last_id": chosen[-1]["id"] if chosen else None,
    }
