"""The whole road with the real openai client: upload, fine-tune on the real trainer, chat.

Gateway and trainer run as separate processes on free ports; nothing is mocked.
"""

from __future__ import annotations

import httpx

from tests.support.data import chat_rows, write_jsonl
from tests.support.waiting import wait_job


def test_upload_train_release_and_chat(gateway, tmp_path):
    client = gateway.client(gateway.create_key("acme", "ml"))
    path = write_jsonl(tmp_path / "train.jsonl", chat_rows(12))

    file = client.files.create(file=path.open("rb"), purpose="fine-tune")
    assert file.id.startswith("file-") and file.bytes == path.stat().st_size
    assert client.files.content(file.id).content == path.read_bytes()

    upload = client.uploads.upload_file_chunked(
        file=path, mime_type="application/jsonl", purpose="fine-tune", part_size=500
    )
    assert upload.status == "completed" and upload.file is not None
    assert client.files.content(upload.file.id).content == path.read_bytes()

    job = client.fine_tuning.jobs.create(
        model="tiny-llama",
        training_file=file.id,
        validation_file=upload.file.id,
        suffix="calc",
        seed=7,
        metadata={"team": "ml", "ticket": "T-1"},
        method={"type": "supervised", "supervised": {"hyperparameters": {"n_epochs": 2, "batch_size": 4}}},
    )
    assert job.status == "validating_files" and job.fine_tuned_model is None

    finished = wait_job(client, job.id)
    assert finished.status == "succeeded", finished.error
    assert finished.fine_tuned_model and finished.fine_tuned_model.startswith("ft:tiny-llama:acme:calc:")
    assert finished.safety["release"] == "released"  # type: ignore[attr-defined]
    assert finished.trained_tokens and finished.trained_tokens > 0

    events = client.fine_tuning.jobs.list_events(job.id, limit=200).data
    messages = [e.message for e in events]
    assert any("Created fine-tuning job" in m for m in messages)  # the gateway's own
    assert any("loss" in m.lower() for m in messages)  # copied from the trainer
    assert any(finished.fine_tuned_model in m for m in messages)
    upstream_job_id = _upstream_job_id(gateway, job.id)
    assert all(upstream_job_id not in m for m in messages)

    checkpoints = client.fine_tuning.jobs.checkpoints.list(job.id).data
    assert checkpoints and all(
        c.fine_tuned_model_checkpoint.startswith(finished.fine_tuned_model) for c in checkpoints
    )

    models = [m.id for m in client.models.list().data]
    assert "tiny-llama" in models and finished.fine_tuned_model in models

    for model in (finished.fine_tuned_model, checkpoints[0].fine_tuned_model_checkpoint, "tiny-llama"):
        answer = client.chat.completions.create(
            model=model,
            messages=[{"role": "user", "content": "What is 2 plus 2?"}],
            max_tokens=8,
            temperature=0,
        )
        assert answer.model == model
        assert answer.choices[0].message.role == "assistant"

    stream = client.chat.completions.create(
        model=finished.fine_tuned_model,
        messages=[{"role": "user", "content": "What is 3 plus 3?"}],
        max_tokens=5,
        stream=True,
    )
    chunks = list(stream)
    assert chunks and all(chunk.model == finished.fine_tuned_model for chunk in chunks)

    listed = client.fine_tuning.jobs.list(metadata={"ticket": "T-1"}).data
    assert [j.id for j in listed] == [job.id]
    assert client.fine_tuning.jobs.list(metadata={"ticket": "other"}).data == []

    scrape = httpx.get(gateway.url.removesuffix("/v1") + "/metrics").text
    assert 'tunegate_jobs{status="succeeded"} 1.0' in scrape
    assert "tunegate_upstream_calls_total" in scrape
    assert 'route="/v1/files"' in scrape


def _upstream_job_id(gateway, job_id: str) -> str:
    import sqlite3

    with sqlite3.connect(gateway.workdir / "data" / "tunegate.db") as db:
        (value,) = db.execute("SELECT upstream_job_id FROM jobs WHERE id = ?", (job_id,)).fetchone()
    return value
