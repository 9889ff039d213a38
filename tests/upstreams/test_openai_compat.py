"""OpenAICompatUpstream against a real local HTTP server that injects faults (see fake_openai)."""

from __future__ import annotations

import io
import json
import pathlib
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from gateway.errors import UpstreamFailed
from gateway.upstreams.base import GATEWAY_JOB_ID_KEY, JobSpec, Upstream
from gateway.upstreams.openai_compat import OpenAICompatUpstream

from .fake_openai import FakeOpenAI, RunningServer

KEY = "sk-test-0123456789abcdefSECRET"

Calls = list[tuple[str, str, str, float]]
Make = Callable[..., OpenAICompatUpstream]


@pytest.fixture
def calls() -> Calls:
    return []


@pytest.fixture
async def make(server: RunningServer, calls: Calls) -> AsyncIterator[Callable[..., OpenAICompatUpstream]]:
    made: list[OpenAICompatUpstream] = []

    def build(**overrides: Any) -> OpenAICompatUpstream:
        options: dict[str, Any] = {
            "name": "openai",
            "base_url": server.url,
            "api_key": KEY,
            "timeout": 0.3,
            "max_attempts": 4,
            "backoff_base": 0.001,
            "on_call": lambda *call: calls.append(call),
        }
        upstream = OpenAICompatUpstream(**{**options, **overrides})
        made.append(upstream)
        return upstream

    yield build
    for upstream in made:
        await upstream.aclose()


def spec(gateway_job_id: str = "gwjob-1", **fields: Any) -> JobSpec:
    return JobSpec(gateway_job_id=gateway_job_id, model="gpt-4o-mini", training_file="file-0001", **fields)


async def test_implements_the_contract(make: Make) -> None:
    assert isinstance(make(), Upstream)


# -- retries -----------------------------------------------------------------------------------


@pytest.mark.parametrize("fault", ["429", "500", "reset", "slow", "malformed"])
async def test_retries_a_transient_fault_then_succeeds(
    fake: FakeOpenAI, make: Make, calls: Calls, fault: str
) -> None:
    job = fake.add_job()
    fake.inject("GET", f"/fine_tuning/jobs/{job['id']}", fault)

    got = await make().get_job(job["id"])

    assert got.id == job["id"] and got.status == "queued"
    assert len(fake.calls("GET", f"/fine_tuning/jobs/{job['id']}")) == 2
    assert [outcome for _, _, outcome, _ in calls] == ["retry", "ok"]
    assert all(adapter == "openai" and op == "get_job" and secs >= 0 for adapter, op, _, secs in calls)


async def test_retry_after_is_honoured(fake: FakeOpenAI, make: Make) -> None:
    fake.inject("GET", "/models", "429-ms")  # asks for 200 ms; our own backoff would be ~1 ms
    started = time.monotonic()
    assert await make().list_models() == ["gpt-4o-mini", "ft:gpt-4o-mini:acme::abc"]
    assert time.monotonic() - started >= 0.2


async def test_gives_up_after_max_attempts_with_the_last_status(
    fake: FakeOpenAI, make: Make, calls: Calls
) -> None:
    fake.inject("GET", "/models", "500", "500", "500", "500")
    with pytest.raises(UpstreamFailed) as caught:
        await make(max_attempts=3).list_models()
    assert caught.value.upstream_status == 500
    assert caught.value.message == "Upstream overloaded"
    assert caught.value.retryable
    assert len(fake.calls("GET", "/models")) == 3
    assert [outcome for _, _, outcome, _ in calls] == ["retry", "retry", "error"]


async def test_gives_up_on_timeouts_without_a_status(fake: FakeOpenAI, make: Make) -> None:
    fake.inject("GET", "/models", "slow", "slow")
    with pytest.raises(UpstreamFailed) as caught:
        await make(max_attempts=2).list_models()
    assert caught.value.upstream_status is None
    assert "timed out" in caught.value.message


async def test_malformed_json_is_retried_then_reported(fake: FakeOpenAI, make: Make) -> None:
    fake.inject("GET", "/models", "malformed", "malformed")
    with pytest.raises(UpstreamFailed) as caught:
        await make(max_attempts=2).list_models()
    assert caught.value.code == "upstream_bad_response" and caught.value.retryable
    assert len(fake.calls("GET", "/models")) == 2


async def test_400_is_not_retried_and_keeps_the_upstream_envelope(
    fake: FakeOpenAI, make: Make, calls: Calls
) -> None:
    fake.inject("POST", "/fine_tuning/jobs", "400")
    with pytest.raises(UpstreamFailed) as caught:
        await make().create_job(spec())
    failure = caught.value
    assert (failure.upstream_status, failure.code, failure.param) == (400, "model_not_found", "model")
    assert failure.message == "Invalid model" and not failure.retryable
    assert len(fake.calls("POST", "/fine_tuning/jobs")) == 1
    assert [outcome for _, op, outcome, _ in calls if op == "create_job"] == ["error"]


async def test_the_key_never_appears_in_errors(fake: FakeOpenAI, make: Make) -> None:
    fake.echo_key = KEY  # a provider that echoes the key back in its message
    fake.inject("GET", "/models", "401-echo")
    with pytest.raises(UpstreamFailed) as rejected:
        await make().list_models()
    fake.inject("GET", "/models", "reset", "reset")
    with pytest.raises(UpstreamFailed) as unreachable:
        await make(max_attempts=2).list_models()
    for failure in (rejected.value, unreachable.value):
        assert KEY not in str(failure) and KEY not in repr(failure) and KEY not in str(failure.envelope())
    assert rejected.value.upstream_status == 401 and "[redacted]" in rejected.value.message


# -- idempotent create ---------------------------------------------------------------------------


async def test_create_sends_the_spec_and_tags_the_job(fake: FakeOpenAI, make: Make) -> None:
    method = {"type": "supervised", "supervised": {"hyperparameters": {"n_epochs": 3}}}
    job = await make().create_job(
        spec(suffix="bot", seed=7, method=method, validation_file="file-0002", metadata={"team": "a"})
    )

    [post] = fake.calls("POST", "/fine_tuning/jobs")
    body = json.loads(post.body)
    assert body == {
        "model": "gpt-4o-mini",
        "training_file": "file-0001",
        "validation_file": "file-0002",
        "suffix": "bot",
        "seed": 7,
        "method": method,
        "metadata": {"team": "a", GATEWAY_JOB_ID_KEY: "gwjob-1"},
    }
    assert job.metadata[GATEWAY_JOB_ID_KEY] == "gwjob-1"
    assert job.hyperparameters == {"n_epochs": 3}


async def test_create_survives_a_lost_response_without_a_second_job(fake: FakeOpenAI, make: Make) -> None:
    fake.inject("POST", "/fine_tuning/jobs", "drop-after")  # job created, connection dropped

    job = await make().create_job(spec("gwjob-lost"))

    assert len(fake.jobs) == 1 and job.id in fake.jobs
    assert len(fake.calls("POST", "/fine_tuning/jobs")) == 1
    lookups = fake.calls("GET", "/fine_tuning/jobs")
    assert len(lookups) == 2
    assert lookups[0].query[f"metadata[{GATEWAY_JOB_ID_KEY}]"] == ["gwjob-lost"]
    again = await make().create_job(spec("gwjob-lost"))  # a later retry by the gateway
    assert again.id == job.id and len(fake.jobs) == 1


async def test_find_job_checks_metadata_when_the_filter_is_ignored(fake: FakeOpenAI, make: Make) -> None:
    fake.honour_metadata_filter = False
    fake.page_cap = 10
    target = fake.add_job({GATEWAY_JOB_ID_KEY: "gwjob-old"})
    for n in range(25):  # newer jobs push the target to the third page
        fake.add_job({GATEWAY_JOB_ID_KEY: f"other-{n}"} if n % 2 else None)

    found = await make().find_job("gwjob-old")

    assert found is not None and found.id == target["id"]
    assert await make().find_job("gwjob-unknown") is None
    job = await make().create_job(spec("gwjob-old"))
    assert job.id == target["id"] and not fake.calls("POST", "/fine_tuning/jobs")


# -- auth and wire details -------------------------------------------------------------------------


async def test_bearer_auth(fake: FakeOpenAI, make: Make) -> None:
    await make().list_models()
    [request] = fake.requests
    assert request.headers["authorization"] == f"Bearer {KEY}"


async def test_azure_style_key_header_and_api_version(fake: FakeOpenAI, tmp_path: Path, calls: Calls) -> None:
    running = RunningServer(fake, prefix="/openai/v1")
    upstream = OpenAICompatUpstream(
        name="azure",
        base_url=running.url,
        api_key=KEY,
        key_header="api-key",
        extra_query={"api-version": "2024-10-21"},
        extra_headers={"x-ms-client": "tunegate"},
        backoff_base=0.001,
    )
    data = tmp_path / "train.jsonl"
    data.write_text('{"messages": []}\n')
    try:
        await upstream.list_models()
        await upstream.upload_file(data, filename="train.jsonl", purpose="fine-tune")
        job = await upstream.create_job(spec())
        await upstream.list_events(job.id)
    finally:
        await upstream.aclose()
        running.stop()
    assert len(fake.requests) == 5
    for request in fake.requests:
        assert request.headers["api-key"] == KEY and "authorization" not in request.headers
        assert request.headers["x-ms-client"] == "tunegate"
        assert request.query["api-version"] == ["2024-10-21"]


async def test_upload_streams_the_file_from_disk(
    fake: FakeOpenAI, make: Make, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    content = b"".join(b'{"messages": [{"role": "user", "content": "%d"}]}\n' % n for n in range(40_000))
    data = tmp_path / "train.jsonl"
    data.write_bytes(content)
    reads: list[int] = []

    class SpyReader(io.BufferedReader):
        def read(self, size: int | None = -1) -> bytes:
            reads.append(-1 if size is None else size)
            return super().read(size)

    monkeypatch.setattr(pathlib.Path, "open", lambda self, mode="r": SpyReader(io.FileIO(self, "rb")))

    uploaded = await make().upload_file(data, filename="train.jsonl", purpose="fine-tune")

    stored = fake.files[uploaded.id]
    assert (stored["content"], stored["filename"], stored["purpose"]) == (content, "train.jsonl", "fine-tune")
    assert uploaded.bytes == len(content) > 1_000_000 and uploaded.status == "processed"
    assert len(reads) > 10 and all(0 < size <= 64 * 1024 for size in reads)  # chunks, never the whole file


# -- events, checkpoints, the rest ------------------------------------------------------------------


async def test_events_come_back_oldest_first_across_pages(fake: FakeOpenAI, make: Make) -> None:
    fake.page_cap = 10
    job = fake.add_job()
    fake.add_events(job["id"], 24)  # 25 events in all

    events = await make().list_events(job["id"], limit=100)
    assert [e.message for e in events] == ["Created fine-tuning job"] + [f"Step {n}" for n in range(1, 25)]
    assert [e.created_at for e in events] == sorted(e.created_at for e in events)
    assert len(fake.calls("GET", f"/fine_tuning/jobs/{job['id']}/events")) == 3

    newest = await make().list_events(job["id"], limit=12)
    assert [e.message for e in newest] == [f"Step {n}" for n in range(13, 25)]


async def test_job_lifecycle_checkpoints_models_and_chat(fake: FakeOpenAI, make: Make) -> None:
    upstream = make()
    job = fake.add_job({GATEWAY_JOB_ID_KEY: "gwjob-9"}, status="running")
    assert (await upstream.pause_job(job["id"])).status == "paused"
    assert (await upstream.resume_job(job["id"])).status == "running"
    assert (await upstream.cancel_job(job["id"])).status == "cancelled"
    checkpoints = await upstream.list_checkpoints(job["id"])
    assert [c.step_number for c in checkpoints] == [10, 20, 30]
    assert checkpoints[0].fine_tuned_model_checkpoint.endswith("ckpt-step-10")
    messages = [{"role": "user", "content": "x"}]
    reply = await upstream.chat_completion({"model": "gpt-4o-mini", "messages": messages})
    assert reply["choices"][0]["message"]["content"] == "hi"
    fake.files["file-0001"] = {}
    await upstream.delete_file("file-0001")
    assert "file-0001" not in fake.files
    with pytest.raises(UpstreamFailed) as caught:
        await upstream.get_job("ftjob-missing")
    assert (caught.value.upstream_status, caught.value.code) == (404, "not_found")


async def test_stream_chat_yields_sse_bytes(fake: FakeOpenAI, make: Make) -> None:
    fake.inject("POST", "/chat/completions", "500")  # before the first byte: retried
    chunks = [chunk async for chunk in make().chat_completion_stream({"model": "m", "messages": []})]

    raw = b"".join(chunks)
    assert raw.startswith(b"data: {") and raw.endswith(b"data: [DONE]\n\n")
    assert raw.count(b"data: ") == 3
    assert len(fake.calls("POST", "/chat/completions")) == 2
    assert json.loads(fake.calls("POST", "/chat/completions")[-1].body)["stream"] is True


async def test_stream_is_not_retried_after_the_first_byte(fake: FakeOpenAI, make: Make) -> None:
    fake.inject("POST", "/chat/completions", "sse-break")
    received: list[bytes] = []
    with pytest.raises(UpstreamFailed) as caught:
        async for chunk in make().chat_completion_stream({"model": "m", "messages": []}):
            received.append(chunk)
    assert caught.value.code == "upstream_stream_broken"
    assert b"Hel" in b"".join(received)
    assert len(fake.calls("POST", "/chat/completions")) == 1
