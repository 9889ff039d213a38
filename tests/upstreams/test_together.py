"""TogetherUpstream against recorded responses.

Together's hosted API cannot be reached from the test environment (no internet), so these tests
serve the JSON files under ``recorded/`` through ``httpx.MockTransport``. The files follow the
response shapes in Together's API reference (docs.together.ai/reference: upload-file,
post-fine-tunes, get-fine-tunes-id, fine-tunes events, get-fine-tunes-id-checkpoint) and the
``together-python`` SDK's ``FinetuneResponse``; the requests are checked against the same sources.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway.errors import InvalidRequest, UpstreamFailed
from gateway.upstreams.base import GATEWAY_JOB_ID_KEY, JobSpec, Upstream
from gateway.upstreams.together import STATUS_MAP, TogetherUpstream, job_tag

RECORDED = Path(__file__).parent / "recorded"
KEY = "together-test-key-SECRET"
JOB = "ft-3b883474-f39c-40d9-9d5a-7f97ba9eeb9f"

ROUTES = {
    ("POST", "/v1/files/upload"): "files_upload.json",
    ("GET", "/v1/fine-tunes"): "fine_tunes_list.json",
    ("POST", "/v1/fine-tunes"): "fine_tunes_create.json",
    ("GET", f"/v1/fine-tunes/{JOB}"): "fine_tunes_get.json",
    ("GET", "/v1/fine-tunes/ft-0d6c4a8e-6f0b-4f4e-9a55-2b8f7c1e9d40"): "fine_tunes_get_user_error.json",
    ("POST", f"/v1/fine-tunes/{JOB}/cancel"): "fine_tunes_cancel.json",
    ("GET", f"/v1/fine-tunes/{JOB}/events"): "fine_tunes_events.json",
    ("GET", f"/v1/fine-tunes/{JOB}/checkpoints"): "fine_tunes_checkpoints.json",
    ("GET", "/v1/models"): "models.json",
    ("POST", "/v1/chat/completions"): "chat_completion.json",
}


class Recorded:
    """Serves ``recorded/`` by route; ``overrides`` patch a response, ``fail`` queues error statuses."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.overrides: dict[tuple[str, str], dict[str, Any]] = {}
        self.fail: list[int] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.fail:
            return httpx.Response(self.fail.pop(0), json={"error": {"message": "slow down"}})
        route = (request.method, request.url.path)
        if route not in ROUTES:
            return httpx.Response(404, json={"error": {"message": f"no route {route}", "code": "not_found"}})
        body = json.loads((RECORDED / ROUTES[route]).read_text())
        if route in self.overrides:
            body = {**body, **self.overrides[route]}
        return httpx.Response(200, json=body)

    def sent(self, method: str, path: str) -> list[httpx.Request]:
        return [r for r in self.requests if r.method == method and r.url.path == path]


@pytest.fixture
def recorded() -> Recorded:
    return Recorded()


@pytest.fixture
async def together(recorded: Recorded) -> AsyncIterator[TogetherUpstream]:
    async with httpx.AsyncClient(transport=httpx.MockTransport(recorded)) as client:
        yield TogetherUpstream(api_key=KEY, client=client, backoff_base=0.001)


def spec(gateway_job_id: str = "gwjob-together-1", **fields: Any) -> JobSpec:
    defaults: dict[str, Any] = {
        "model": "meta-llama/Meta-Llama-3.1-8B-Instruct-Reference",
        "training_file": "file-bf72b951-fa1a-41af-a152-fe385dca0201",
    }
    return JobSpec(gateway_job_id=gateway_job_id, **{**defaults, **fields})


def test_implements_the_contract() -> None:
    assert isinstance(TogetherUpstream(api_key=KEY), Upstream)


async def test_upload(together: TogetherUpstream, recorded: Recorded, tmp_path: Path) -> None:
    data = tmp_path / "train.jsonl"
    data.write_bytes(b'{"messages": []}\n' * 3)

    uploaded = await together.upload_file(data, filename="train.jsonl", purpose="fine-tune")

    assert (uploaded.id, uploaded.bytes, uploaded.status) == (
        "file-bf72b951-fa1a-41af-a152-fe385dca0201",
        62,
        "processed",
    )
    [request] = recorded.sent("POST", "/v1/files/upload")
    assert request.url.host == "api.together.ai"
    assert request.headers["authorization"] == f"Bearer {KEY}"
    head = f"Content-Type: {request.headers['content-type']}\r\n\r\n".encode()
    parts = {
        part.get_param("name", header="content-disposition"): part
        for part in message_from_bytes(head + request.read(), policy=policy.HTTP).iter_parts()
    }
    assert parts["file"].get_payload(decode=True) == data.read_bytes()
    assert {name: parts[name].get_content() for name in ("purpose", "file_name", "file_type")} == {
        "purpose": "fine-tune",
        "file_name": "train.jsonl",
        "file_type": "jsonl",
    }


async def test_create_maps_the_openai_spec_to_a_flat_body(
    together: TogetherUpstream, recorded: Recorded
) -> None:
    hyperparameters = {"n_epochs": 3, "batch_size": 8, "learning_rate_multiplier": 2.0}
    job = await together.create_job(
        spec(
            suffix="support bot",
            seed=42,
            validation_file="file-5c1ee2d7-4c43-4a3e-b3a4-3a5b3d7c2d11",
            method={"type": "supervised", "supervised": {"hyperparameters": hyperparameters}},
        )
    )

    assert [r.method for r in recorded.requests] == ["GET", "POST"]  # the lookup comes first
    body = json.loads(recorded.sent("POST", "/v1/fine-tunes")[0].content)
    assert body == {
        "model": "meta-llama/Meta-Llama-3.1-8B-Instruct-Reference",
        "training_file": "file-bf72b951-fa1a-41af-a152-fe385dca0201",
        "validation_file": "file-5c1ee2d7-4c43-4a3e-b3a4-3a5b3d7c2d11",
        "suffix": f"support-bot-{job_tag('gwjob-together-1')}",
        "n_epochs": 3,
        "batch_size": 8,
        "learning_rate": pytest.approx(2e-5),
        "training_method": {"method": "sft"},
        "training_type": {"type": "Lora", "lora_r": 8, "lora_alpha": 16},
    }  # no seed: Together has no such field
    assert job.id == JOB and job.status == "queued"
    assert job.fine_tuned_model is None  # named already, but not trained yet
    assert job.metadata == {GATEWAY_JOB_ID_KEY: "gwjob-together-1"}
    assert job.hyperparameters == {**hyperparameters, "learning_rate_multiplier": pytest.approx(2.0)}


async def test_create_dpo_and_full_training(recorded: Recorded) -> None:
    async with httpx.AsyncClient(transport=httpx.MockTransport(recorded)) as client:
        together = TogetherUpstream(api_key=KEY, client=client, lora=False)
        method = {"type": "dpo", "dpo": {"hyperparameters": {"beta": 0.1, "n_epochs": "auto"}}}
        await together.create_job(spec(method=method))
    body = json.loads(recorded.sent("POST", "/v1/fine-tunes")[0].content)
    assert body["training_method"] == {"method": "dpo", "dpo_beta": 0.1}
    assert body["training_type"] == {"type": "Full"}
    assert "n_epochs" not in body and body["suffix"] == job_tag("gwjob-together-1")


async def test_create_refuses_methods_together_lacks(together: TogetherUpstream, recorded: Recorded) -> None:
    with pytest.raises(InvalidRequest) as caught:
        await together.create_job(spec(method={"type": "reinforcement", "reinforcement": {}}))
    assert caught.value.code == "unsupported_operation" and caught.value.param == "method"
    assert recorded.requests == []


async def test_create_finds_the_job_already_created(together: TogetherUpstream, recorded: Recorded) -> None:
    assert job_tag("gwjob-together-2") == "tg-937f8e303b08"  # the tag inside fine_tunes_list.json

    job = await together.create_job(spec("gwjob-together-2"))

    assert job.id == "ft-0d6c4a8e-6f0b-4f4e-9a55-2b8f7c1e9d40" and job.status == "queued"
    assert job.metadata == {GATEWAY_JOB_ID_KEY: "gwjob-together-2"}
    assert recorded.sent("POST", "/v1/fine-tunes") == []
    assert await together.find_job("gwjob-never-created") is None


async def test_suffix_stays_within_together_limit(together: TogetherUpstream, recorded: Recorded) -> None:
    await together.create_job(spec(suffix="a very long suffix that the user chose for this model!"))
    suffix = json.loads(recorded.sent("POST", "/v1/fine-tunes")[0].content)["suffix"]
    assert len(suffix) <= 40 and suffix.endswith(job_tag("gwjob-together-1")) and suffix.startswith("a-very")


@pytest.mark.parametrize(("together_status", "expected"), sorted(STATUS_MAP.items()))
async def test_status_mapping(
    together: TogetherUpstream, recorded: Recorded, together_status: str, expected: str
) -> None:
    recorded.overrides[("GET", f"/v1/fine-tunes/{JOB}")] = {"status": together_status}
    job = await together.get_job(JOB)
    assert job.status == expected
    trained = "acme/Meta-Llama-3.1-8B-Instruct-Reference-support-bot-tg-26639e158748"
    assert job.fine_tuned_model == (trained if expected == "succeeded" else None)
    assert (job.finished_at is not None) == (expected in ("succeeded", "failed", "cancelled"))


def test_every_documented_status_is_mapped() -> None:
    documented = {
        "pending",
        "queued",
        "running",
        "compressing",
        "uploading",
        "cancel_requested",
        "cancelled",
        "error",
        "user_error",
        "completed",
    }  # together-python FinetuneJobStatus
    assert documented <= set(STATUS_MAP)


async def test_a_failed_job_carries_the_error_event(together: TogetherUpstream) -> None:
    job = await together.get_job("ft-0d6c4a8e-6f0b-4f4e-9a55-2b8f7c1e9d40")
    assert job.status == "failed"
    message = 'Training file is invalid: line 2 has no "messages" field'
    assert job.error == {"code": "user_error", "message": message, "param": None}
    assert job.finished_at == 1736852607


async def test_events_oldest_first_with_levels(together: TogetherUpstream) -> None:
    events = await together.list_events(JOB)
    assert [e.message for e in events][:2] == [
        "Fine tune request created",
        "Job started at Tue Jan 14 10:05:02 UTC 2025",
    ]
    assert [e.level for e in events] == ["info", "info", "info", "warn", "info", "info"]
    assert events[0].created_at == 1736848931 and events[0].data == {"together_type": "JOB_PENDING"}
    assert len({e.id for e in events}) == 6
    newest = await together.list_events(JOB, limit=2)
    assert [e.data and e.data["together_type"] for e in newest] == ["EPOCH_COMPLETE", "TRAINING_COMPLETE"]


async def test_cancel(together: TogetherUpstream, recorded: Recorded) -> None:
    job = await together.cancel_job(JOB)
    assert job.status == "cancelled"
    assert len(recorded.sent("POST", f"/v1/fine-tunes/{JOB}/cancel")) == 1


@pytest.mark.parametrize("operation", ["pause_job", "resume_job"])
async def test_pause_and_resume_are_refused(
    together: TogetherUpstream, recorded: Recorded, operation: str
) -> None:
    call: Callable[[str], Any] = getattr(together, operation)
    with pytest.raises(InvalidRequest) as caught:
        await call(JOB)
    assert caught.value.code == "unsupported_operation" and "Together" in caught.value.message
    assert recorded.requests == []


async def test_checkpoints(together: TogetherUpstream) -> None:
    checkpoints = await together.list_checkpoints(JOB)
    assert [c.step_number for c in checkpoints] == [24, 48, 72]
    assert checkpoints[-1].fine_tuned_model_checkpoint == f"{JOB}:72"


async def test_models_and_chat(together: TogetherUpstream, recorded: Recorded) -> None:
    models = await together.list_models()
    assert models[1] == "acme/Meta-Llama-3.1-8B-Instruct-Reference-support-bot-tg-26639e158748"
    messages = [{"role": "user", "content": "hi"}]
    reply = await together.chat_completion({"model": models[1], "messages": messages})
    assert reply["choices"][0]["message"]["content"] == "Hello! How can I help?"
    assert recorded.sent("POST", "/v1/chat/completions")[0].url.path == "/v1/chat/completions"


async def test_retries_429_and_never_leaks_the_key(together: TogetherUpstream, recorded: Recorded) -> None:
    recorded.fail = [429, 503]
    assert (await together.get_job(JOB)).status == "running"
    recorded.fail = [500] * 4
    with pytest.raises(UpstreamFailed) as caught:
        await together.get_job(JOB)
    assert caught.value.upstream_status == 500 and KEY not in str(caught.value)
    assert len(recorded.requests) == 3 + 4
