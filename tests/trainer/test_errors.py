"""Refusals in OpenAI's error envelope: auth, unknown models, unsupported methods, bad data."""

from __future__ import annotations

import io

import httpx
import openai
import pytest
from openai import OpenAI

from tests.trainer.conftest import Server, chat_rows, jsonl, wait_for


@pytest.fixture(scope="module")
def training_file(client: OpenAI) -> str:
    return client.files.create(file=("t.jsonl", io.BytesIO(jsonl(chat_rows(10)))), purpose="fine-tune").id


def test_wrong_api_key_is_401(server: Server) -> None:
    with pytest.raises(openai.AuthenticationError) as info:
        server.client(api_key="wrong").models.list()
    assert info.value.code == "invalid_api_key"
    response = httpx.get(f"{server.url}/v1/models")
    assert response.status_code == 401
    assert set(response.json()["error"]) == {"message", "type", "param", "code"}


def test_dpo_is_refused(client: OpenAI, training_file: str) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        client.fine_tuning.jobs.create(
            model="tiny-llama", training_file=training_file, method={"type": "dpo", "dpo": {}}
        )
    error = info.value.body
    assert info.value.code == "unsupported_method" and error["param"] == "method"
    assert error["type"] == "invalid_request_error" and "dpo" in error["message"]


def test_unknown_base_model(client: OpenAI, training_file: str) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        client.fine_tuning.jobs.create(model="gpt-nope", training_file=training_file)
    assert info.value.code == "model_not_found" and "gpt-nope" in info.value.message


def test_unknown_chat_model_is_404(client: OpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as info:
        client.chat.completions.create(model="nope", messages=[{"role": "user", "content": "hi"}])
    assert info.value.code == "model_not_found"


def test_unknown_job_and_file(client: OpenAI) -> None:
    with pytest.raises(openai.NotFoundError):
        client.fine_tuning.jobs.retrieve("ftjob-doesnotexist")
    with pytest.raises(openai.BadRequestError) as info:
        client.fine_tuning.jobs.create(model="tiny-llama", training_file="file-missing")
    assert info.value.body["param"] == "training_file"


def test_bad_hyperparameter_and_validation_errors_are_400(
    server: Server, client: OpenAI, training_file: str
) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        client.fine_tuning.jobs.create(
            model="tiny-llama", training_file=training_file, hyperparameters={"n_epochs": 0}
        )
    assert info.value.body["param"] == "hyperparameters.n_epochs"
    response = httpx.post(
        f"{server.url}/v1/fine_tuning/jobs",
        json={"model": "tiny-llama"},
        headers={"Authorization": "Bearer test-key"},
    )
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "training_file"
    auth = {"Authorization": "Bearer test-key", "Content-Type": "application/json"}
    garbage = httpx.post(f"{server.url}/v1/chat/completions", content=b"{not json", headers=auth)
    assert garbage.status_code == 400 and garbage.json()["error"]["code"] == "invalid_json"
    missing = httpx.get(f"{server.url}/v1/no/such/route", headers=auth)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"


def test_bad_line_fails_the_job_naming_it(client: OpenAI) -> None:
    rows = jsonl(chat_rows(3)) + b'{"messages": [oops\n' + jsonl(chat_rows(2))
    upload = client.files.create(file=("bad.jsonl", io.BytesIO(rows)), purpose="fine-tune")
    job = client.fine_tuning.jobs.create(model="tiny-llama", training_file=upload.id)
    failed = wait_for(client, job.id, {"failed", "succeeded"})
    assert failed.status == "failed"
    assert failed.error.code == "invalid_training_file" and failed.error.param == "training_file"
    assert "Line 4" in failed.error.message
    events = client.fine_tuning.jobs.list_events(job.id).data
    assert events[0].level == "error" and "Line 4" in events[0].message


def test_example_without_assistant_fails(client: OpenAI) -> None:
    rows = jsonl(chat_rows(2)) + jsonl([{"messages": [{"role": "user", "content": "only a question"}]}])
    upload = client.files.create(file=("noasst.jsonl", io.BytesIO(rows)), purpose="fine-tune")
    failed = wait_for(
        client, client.fine_tuning.jobs.create(model="tiny-llama", training_file=upload.id).id, {"failed"}
    )
    assert "Line 3" in failed.error.message and "assistant" in failed.error.message
