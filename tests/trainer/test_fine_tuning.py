"""The whole fine-tuning flow through the real OpenAI client: upload, train, inspect, chat."""

from __future__ import annotations

import io

import pytest
from openai import OpenAI

from tests.trainer.conftest import ANSWER, Server, chat_rows, jsonl, wait_for


@pytest.fixture(scope="module")
def tuned(client: OpenAI):
    """One finished job shared by this module's tests."""
    upload = client.files.create(file=("train.jsonl", io.BytesIO(jsonl(chat_rows()))), purpose="fine-tune")
    job = client.fine_tuning.jobs.create(
        model="tiny-llama",
        training_file=upload.id,
        validation_file=upload.id,
        suffix="demo",
        seed=7,
        metadata={"tunegate_job_id": "gw-123", "team": "tests"},
        method={
            "type": "supervised",
            "supervised": {
                "hyperparameters": {"n_epochs": 6, "batch_size": 4, "learning_rate_multiplier": 10}
            },
        },
    )
    assert job.status == "validating_files"
    assert job.object == "fine_tuning.job"
    return wait_for(client, job.id, {"succeeded", "failed", "cancelled"})


def test_job_succeeds_with_openai_shape(tuned) -> None:
    assert tuned.status == "succeeded", tuned.error
    assert tuned.fine_tuned_model.startswith("ft:tiny-llama:trainer:demo:")
    assert len(tuned.fine_tuned_model.rsplit(":", 1)[1]) == 8
    assert tuned.trained_tokens and tuned.trained_tokens > 0
    assert tuned.finished_at and tuned.error is None
    assert tuned.seed == 7
    assert tuned.method.supervised.hyperparameters.n_epochs == 6
    assert tuned.hyperparameters.batch_size == 4
    assert tuned.metadata == {"tunegate_job_id": "gw-123", "team": "tests"}
    assert len(tuned.result_files) == 1


def test_result_file_has_step_metrics(client: OpenAI, tuned) -> None:
    content = client.files.content(tuned.result_files[0]).text
    assert content.startswith("step,train_loss")
    assert len(content.strip().splitlines()) == 1 + 18  # 12 rows / batch 4 = 3 steps x 6 epochs


def test_events_newest_first_with_metrics(client: OpenAI, tuned) -> None:
    events = client.fine_tuning.jobs.list_events(tuned.id, limit=100)
    messages = [e.message for e in events.data]
    assert messages[0] == "The job has successfully completed"
    assert f"New fine-tuned model created: {tuned.fine_tuned_model}" in messages
    assert any(m.startswith("Validating training file: file-") for m in messages)
    assert "Fine-tuning job started" in messages
    assert "Checkpoint created at step 18" in messages
    metrics = [e for e in events.data if e.type == "metrics"]
    assert len(metrics) == 18 and metrics[0].message.startswith("Step 18/18: training loss=")
    assert metrics[0].data["train_loss"] < metrics[-1].data["train_loss"]

    first = client.fine_tuning.jobs.list_events(tuned.id, limit=2)
    assert first.has_more and len(first.data) == 2
    rest = client.fine_tuning.jobs.list_events(tuned.id, after=first.data[-1].id, limit=100)
    assert [e.id for e in first.data + rest.data] == [e.id for e in events.data]


def test_checkpoints_listed_and_servable(client: OpenAI, tuned) -> None:
    checkpoints = client.fine_tuning.jobs.checkpoints.list(tuned.id).data
    assert [c.step_number for c in checkpoints] == [18, 15, 12]  # the last three epochs, newest first
    assert checkpoints[0].fine_tuned_model_checkpoint == f"{tuned.fine_tuned_model}:ckpt-step-18"
    assert "valid_loss" in checkpoints[0].metrics.model_dump()
    reply = client.chat.completions.create(
        model=checkpoints[1].fine_tuned_model_checkpoint,
        messages=[{"role": "user", "content": "Hi"}],
        max_tokens=8,
    )
    assert reply.choices[0].message.role == "assistant"


def test_models_lists_base_tuned_and_checkpoints(client: OpenAI, tuned) -> None:
    ids = {m.id: m.owned_by for m in client.models.list().data}
    assert ids["tiny-llama"] == "system"
    assert ids[tuned.fine_tuned_model] == "trainer"
    assert f"{tuned.fine_tuned_model}:ckpt-step-12" in ids
    assert client.models.retrieve(tuned.fine_tuned_model).id == tuned.fine_tuned_model


def test_tuned_model_learned_the_reply(client: OpenAI, tuned) -> None:
    messages = [{"role": "system", "content": "You are helpful."}, {"role": "user", "content": "Hello!"}]
    base = client.chat.completions.create(model="tiny-llama", messages=messages, max_tokens=12, temperature=0)
    ft = client.chat.completions.create(model=tuned.fine_tuned_model, messages=messages, max_tokens=12)
    assert base.object == "chat.completion" and base.choices[0].message.content != ANSWER
    assert ft.choices[0].message.content == ANSWER
    assert ft.choices[0].finish_reason == "stop"
    assert (
        ft.usage.prompt_tokens > 0
        and ft.usage.total_tokens == ft.usage.prompt_tokens + ft.usage.completion_tokens
    )


def test_streaming_chat(client: OpenAI, tuned) -> None:
    stream = client.chat.completions.create(
        model=tuned.fine_tuned_model,
        messages=[{"role": "user", "content": "Good morning!"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    assert chunks[0].choices[0].delta.role == "assistant"
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == ANSWER
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
    assert chunks[-1].usage.completion_tokens > 0


def test_sampling_with_seed_repeats(client: OpenAI) -> None:
    kwargs = {"model": "tiny-llama", "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 10}
    one = client.chat.completions.create(temperature=1.0, seed=3, **kwargs)
    two = client.chat.completions.create(temperature=1.0, seed=3, **kwargs)
    assert one.choices[0].message.content == two.choices[0].message.content
    assert one.choices[0].finish_reason in {"stop", "length"}


def test_metadata_filter_finds_the_job(client: OpenAI, tuned) -> None:
    found = client.fine_tuning.jobs.list(metadata={"tunegate_job_id": "gw-123"}).data
    assert [j.id for j in found] == [tuned.id]
    assert client.fine_tuning.jobs.list(metadata={"tunegate_job_id": "nope"}).data == []
    assert tuned.id in [j.id for j in client.fine_tuning.jobs.list(limit=100).data]


def test_files_api(client: OpenAI) -> None:
    upload = client.files.create(
        file=("x.jsonl", io.BytesIO(b'{"prompt": "a", "completion": "b"}\n')), purpose="fine-tune"
    )
    assert upload.id.startswith("file-") and upload.bytes == 35 and upload.filename == "x.jsonl"
    assert client.files.retrieve(upload.id).purpose == "fine-tune"
    assert upload.id in [f.id for f in client.files.list().data]
    assert client.files.content(upload.id).text.startswith('{"prompt"')
    assert client.files.delete(upload.id).deleted is True
    with pytest.raises(Exception) as info:
        client.files.retrieve(upload.id)
    assert info.value.status_code == 404


def test_server_state_on_disk(server: Server, tuned) -> None:
    assert (server.data_dir / "jobs" / tuned.id / "job.json").is_file()
