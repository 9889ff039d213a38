"""Pausing, resuming and cancelling a job whose training process is running."""

from __future__ import annotations

import io
import os
import time
from pathlib import Path

from openai import OpenAI

from tests.trainer.conftest import Server, chat_rows, jsonl, wait_for


def _step_count(client: OpenAI, job_id: str) -> int:
    events = client.fine_tuning.jobs.list_events(job_id, limit=1000).data
    return sum(e.type == "metrics" for e in events)


def _wait_for_steps(client: OpenAI, job_id: str, at_least: int, timeout: float = 60) -> int:
    deadline = time.time() + timeout
    while (count := _step_count(client, job_id)) < at_least:
        assert time.time() < deadline, "training made no progress"
        time.sleep(0.1)
    return count


def test_pause_resume_and_cancel_a_running_job(server: Server, client: OpenAI) -> None:
    upload = client.files.create(file=("long.jsonl", io.BytesIO(jsonl(chat_rows(80)))), purpose="fine-tune")
    job = client.fine_tuning.jobs.create(
        model="tiny-llama", training_file=upload.id, hyperparameters={"n_epochs": 50, "batch_size": 4}
    )
    wait_for(client, job.id, {"running"})
    _wait_for_steps(client, job.id, 1)

    paused = client.fine_tuning.jobs.pause(job.id)
    assert paused.status == "paused"
    time.sleep(0.3)
    frozen = _step_count(client, job.id)
    time.sleep(1.0)
    assert _step_count(client, job.id) == frozen, "a paused job kept training"

    assert client.fine_tuning.jobs.resume(job.id).status == "running"
    _wait_for_steps(client, job.id, frozen + 1)

    cancelled = client.fine_tuning.jobs.cancel(job.id)
    assert cancelled.status == "cancelled" and cancelled.fine_tuned_model is None
    pid = int((server.data_dir / "jobs" / job.id / "pid").read_text())
    assert not Path(f"/proc/{pid}").exists() or _is_zombie(pid)
    time.sleep(0.6)  # a scheduler tick must not bring it back
    assert client.fine_tuning.jobs.retrieve(job.id).status == "cancelled"
    messages = [e.message for e in client.fine_tuning.jobs.list_events(job.id, limit=5).data]
    assert "Fine-tuning job cancelled" in messages
    assert client.fine_tuning.jobs.cancel(job.id).status == "cancelled"  # idempotent


def _is_zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z"
    except OSError:
        return True


def test_cancel_a_queued_job_needs_no_process(client: OpenAI) -> None:
    upload = client.files.create(file=("q.jsonl", io.BytesIO(jsonl(chat_rows(4)))), purpose="fine-tune")
    job = client.fine_tuning.jobs.create(model="tiny-llama", training_file=upload.id)
    cancelled = client.fine_tuning.jobs.cancel(job.id)
    assert cancelled.status == "cancelled"
    assert os.environ["HF_HUB_OFFLINE"] == "1"
