"""A gateway killed with SIGKILL mid-job resumes on restart: nothing lost, nothing run twice upstream."""

from __future__ import annotations

import httpx
import pytest

from tests.support.data import chat_rows, write_jsonl
from tests.support.waiting import wait_for, wait_job


# `make test-all` runs it; `make test` keeps test_crash_trials.py's round (kills in every phase).
@pytest.mark.slow
def test_kill_during_start_and_during_training_resumes(gateway, trainer, tmp_path):
    client = gateway.client(gateway.create_key("acme", "ml"))
    path = write_jsonl(tmp_path / "train.jsonl", chat_rows(40))
    file = client.files.create(file=path.open("rb"), purpose="fine-tune")
    job = client.fine_tuning.jobs.create(
        model="tiny-llama",
        training_file=file.id,
        method={"type": "supervised", "supervised": {"hyperparameters": {"n_epochs": 6, "batch_size": 2}}},
    )
    gateway.kill()  # right after the create: the start work is queued, maybe half done
    gateway.start()

    running = wait_for(
        lambda: client.fine_tuning.jobs.retrieve(job.id),
        lambda j: j.status == "running",
        timeout=120,
        every=0.1,
    )
    assert running.fine_tuned_model is None
    gateway.kill()  # while the trainer trains
    gateway.start()

    finished = wait_job(client, job.id)
    assert finished.status == "succeeded", finished.error
    assert finished.fine_tuned_model

    upstream_jobs = httpx.get(
        f"{trainer.url}/fine_tuning/jobs", params={"metadata[tunegate_job_id]": job.id, "limit": 100}
    ).json()["data"]
    assert len(upstream_jobs) == 1  # the job ran once upstream

    events = client.fine_tuning.jobs.list_events(job.id, limit=1000).data
    ids = [e.id for e in events]
    assert len(ids) == len(set(ids))
    copied = [(e.created_at, e.message) for e in events if "loss" in e.message.lower()]
    assert copied and len(copied) == len(set(copied))  # upstream events copied once across restarts

    reply = client.chat.completions.create(
        model=finished.fine_tuned_model, max_tokens=4, messages=[{"role": "user", "content": "1 plus 1?"}]
    )
    assert reply.choices[0].message is not None
