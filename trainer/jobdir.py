"""The layout of one job's directory: the contract between the server and the training process.

The server alone writes ``job.json`` (the public job object) and ``spec.json`` (what to train).
The training process writes ``progress.json``, ``checkpoints.json``, ``result.json`` and the
model directories. Both append to ``events.jsonl``.
"""

from __future__ import annotations

import secrets
import time
from pathlib import Path
from typing import Any

from trainer.jsonio import append_jsonl, read_json, read_jsonl, write_json


class JobDir:
    """Paths and small readers/writers for ``<data_dir>/jobs/<job id>/``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.job_file = path / "job.json"
        self.spec_file = path / "spec.json"
        self.events_file = path / "events.jsonl"
        self.progress_file = path / "progress.json"
        self.checkpoints_file = path / "checkpoints.json"
        self.result_file = path / "result.json"
        self.results_csv = path / "results.csv"
        self.log_file = path / "train.log"
        self.pid_file = path / "pid"
        self.training_data = path / "train.jsonl"
        self.validation_data = path / "valid.jsonl"
        self.model_dir = path / "model"

    @property
    def job_id(self) -> str:
        return self.path.name

    def checkpoint_dir(self, step: int) -> Path:
        return self.path / "checkpoints" / f"step-{step}"

    def add_event(
        self,
        message: str,
        *,
        level: str = "info",
        type_: str = "message",
        data: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        event = {
            "object": "fine_tuning.job.event",
            "id": f"ftevent-{secrets.token_hex(12)}",
            "created_at": int(time.time()),
            "level": level,
            "message": message,
            "data": data or {},
            "type": type_,
        }
        append_jsonl(self.events_file, event)
        return event

    def events(self) -> list[dict[str, Any]]:
        """Oldest first."""
        return read_jsonl(self.events_file)

    def checkpoints(self) -> list[dict[str, Any]]:
        """Oldest first; each record also carries ``path`` (relative to the job dir)."""
        return read_json(self.checkpoints_file, [])

    def write_checkpoints(self, checkpoints: list[dict[str, Any]]) -> None:
        write_json(self.checkpoints_file, checkpoints)

    def progress(self) -> dict[str, Any]:
        return read_json(self.progress_file, {})

    def result(self) -> dict[str, Any] | None:
        return read_json(self.result_file)

    def spec(self) -> dict[str, Any]:
        return read_json(self.spec_file, {})
