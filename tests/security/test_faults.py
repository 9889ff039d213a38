"""A flaky provider: the gateway keeps every file and job, never doubles a job, and ends each one clearly.

A fault proxy (tests/support/faultproxy.py) sits between the gateway and the real trainer and,
for a seeded fraction of calls, answers 429 (with Retry-After) or 500, hangs past the gateway's
timeout, resets the connection, or truncates the JSON, before the trainer sees the call or after
it acted on it. Every route is affected: uploads, job creation and its lookup, polling, and the
model gate's chat completions (the evaluation talks to the same upstream). The checks:

- every job ends in a defined state: succeeded and released, or failed with a code and a message
  that names the cause (``upstream_unavailable``, ``model_safety_eval_failed``);
- no file is lost: each upload is retrievable and processed;
- no job is doubled: one trainer job per gateway job, matching the stored upstream id, and each
  upstream event copied once;
- no work row is left open;
- the proxy really injected every kind of fault.

A lost answer to an upload can leave an extra file at the provider (the gateway cannot know the
first copy arrived). Such orphan files are counted and printed, not treated as failures; the job
itself uses the recorded copy.
"""

from __future__ import annotations

import contextlib
import secrets
import sqlite3
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from openai import OpenAI

from tests.support.data import chat_rows, write_jsonl
from tests.support.faultproxy import KINDS, FaultProxy
from tests.support.processes import GatewayProcess, TrainerProcess
from tests.support.waiting import wait_for

FLAKY_CLASSES = ("files", "create", "find", "poll", "control", "chat", "models")
TERMINAL = ("succeeded", "failed", "cancelled")
# Failure codes that say what went wrong without the client having to guess.
CLEAR_FAILURES = {
    "upstream_unavailable": "could not be reached after several tries",
    "model_safety_eval_failed": "safety evaluation",
}
UPSTREAM_TIMEOUT = 2.0  # the gateway's per-call timeout; the proxy's hangs outlast it


def fault_gateway(workdir: Path, upstream_url: str, *, max_attempts: int = 4) -> GatewayProcess:
    """A gateway whose one upstream is ``upstream_url``; short timeouts and few tries keep runs short."""
    return GatewayProcess(
        workdir,
        trainer_url=upstream_url,
        extra_config={
            "upstreams": [
                {"name": "local", "base_url": upstream_url, "max_attempts": 4, "timeout": UPSTREAM_TIMEOUT}
            ],
            "worker": {
                "poll_interval": 0.5,
                "idle_sleep": 0.1,
                "lease_seconds": 3,
                "max_attempts": max_attempts,
            },
        },
    )


def submit(
    client: OpenAI, tmp_path: Path, prefix: str, count: int, *, first: int = 0
) -> list[tuple[str, str]]:
    """Upload ``count`` distinct files and start a one-epoch job on each: (file id, job id) pairs."""
    pairs = []
    for index in range(first, first + count):
        path = write_jsonl(tmp_path / f"{prefix}-{index}.jsonl", chat_rows(10 + index))
        with path.open("rb") as handle:
            file_id = client.files.create(file=handle, purpose="fine-tune").id
        job = client.fine_tuning.jobs.create(
            model="tiny-llama", training_file=file_id, hyperparameters={"n_epochs": 1}
        )
        pairs.append((file_id, job.id))
    return pairs


def db_rows(gateway: GatewayProcess, query: str, *args: Any) -> list[sqlite3.Row]:
    """Read the gateway's SQLite database directly (read-only)."""
    path = gateway.workdir / "data" / "tunegate.db"
    with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)) as connection:
        connection.row_factory = sqlite3.Row
        return connection.execute(query, args).fetchall()


def wait_terminal(client: OpenAI, job_ids: list[str], timeout: float = 600) -> dict[str, Any]:
    jobs = wait_for(
        lambda: [client.fine_tuning.jobs.retrieve(job_id) for job_id in job_ids],
        lambda jobs: all(job.status in TERMINAL for job in jobs),
        timeout=timeout,
        every=0.5,
    )
    return {job.id: job for job in jobs}


def trainer_jobs(trainer: TrainerProcess, job_id: str) -> list[dict[str, Any]]:
    params = {"metadata[tunegate_job_id]": job_id, "limit": 100}
    return httpx.get(f"{trainer.url}/fine_tuning/jobs", params=params, timeout=30).json()["data"]


def check_invariants(
    gateway: GatewayProcess,
    client: OpenAI,
    trainer: TrainerProcess,
    prefix: str,
    pairs: list[tuple[str, str]],
) -> dict[str, Any]:
    """Nothing lost, nothing doubled, every job ended clearly. Returns outcomes and orphan file count."""
    jobs = wait_terminal(client, [job_id for _, job_id in pairs])
    outcomes: Counter[str] = Counter()
    stored = {
        row["id"]: row["upstream_job_id"] for row in db_rows(gateway, "SELECT id, upstream_job_id FROM jobs")
    }
    for file_id, job_id in pairs:
        file = client.files.retrieve(file_id)  # not lost ...
        assert file.status == "processed", (file_id, file.status)  # ... and in a defined state
        job = jobs[job_id]
        upstream = trainer_jobs(trainer, job_id)
        assert len(upstream) <= 1, (job_id, [u["id"] for u in upstream])  # never a second upstream job
        release = job.to_dict()["safety"]["release"]
        if job.status == "succeeded":
            assert release == "released" and job.fine_tuned_model, (job_id, release)
            assert [u["id"] for u in upstream] == [stored[job_id]]
            assert upstream[0]["status"] == "succeeded"
            copied = [
                row["upstream_event_id"]
                for row in db_rows(
                    gateway,
                    "SELECT upstream_event_id FROM job_events "
                    "WHERE job_id = ? AND upstream_event_id IS NOT NULL ORDER BY seq",
                    job_id,
                )
            ]
            events = httpx.get(
                f"{trainer.url}/fine_tuning/jobs/{upstream[0]['id']}/events",
                params={"limit": 1000},
                timeout=30,
            ).json()["data"]
            assert copied == [event["id"] for event in reversed(events)], job_id  # each event once
            outcomes["succeeded"] += 1
        else:
            assert job.status == "failed", (job_id, job.status)
            assert job.error is not None and job.error.code in CLEAR_FAILURES, (job_id, job.error)
            assert CLEAR_FAILURES[job.error.code] in job.error.message, job.error.message
            assert job.fine_tuned_model is None and release != "released"
            if stored[job_id] is not None:  # it reached the provider: the one upstream job is that one
                assert [u["id"] for u in upstream] == [stored[job_id]]
            outcomes[job.error.code] += 1
    open_work = db_rows(gateway, "SELECT kind, subject, attempts, last_error FROM work WHERE done_at IS NULL")
    assert not open_work, [dict(row) for row in open_work]  # nothing stuck

    forwards = db_rows(gateway, "SELECT file_id, upstream_file_id FROM file_forwards")
    mine = {file_id for file_id, _ in pairs}
    forwarded = {row["upstream_file_id"] for row in forwards if row["file_id"] in mine}
    listed = httpx.get(f"{trainer.url}/files", params={"purpose": "fine-tune"}, timeout=30).json()["data"]
    at_trainer = {f["id"] for f in listed if f["filename"].startswith(prefix)}
    assert forwarded <= at_trainer  # every recorded forward is really there
    return {"outcomes": dict(outcomes), "orphan_files": len(at_trainer - forwarded)}


@pytest.fixture
def proxy(trainer):
    proxy = FaultProxy(trainer.url, seed=8, hang_seconds=4 * UPSTREAM_TIMEOUT).start()
    yield proxy
    proxy.stop()


def test_proxy_injects_each_kind_before_or_after_the_trainer_acts(trainer, proxy):
    """The tool itself: each kind looks to a client as it would from a real provider."""
    proxy.script({"models": ["429", "500", "hang@before", "reset@after", "malformed"]})
    with httpx.Client(base_url=proxy.url, timeout=1.0) as client:
        limited = client.get("/models")
        assert limited.status_code == 429 and limited.headers["retry-after"] == "1"
        assert limited.json()["error"]["type"] == "rate_limit_error"
        broken = client.get("/models")
        assert broken.status_code == 500 and broken.json()["error"]["type"] == "server_error"
        with pytest.raises(httpx.ReadTimeout):
            client.get("/models")
        with pytest.raises((httpx.ReadError, httpx.RemoteProtocolError)):
            client.get("/models")
        truncated = client.get("/models")
        assert truncated.status_code == 200
        with pytest.raises(ValueError):
            truncated.json()
        assert client.get("/models").json()["data"]  # the script is spent: calls pass through
    assert proxy.injected == {("models", kind): 1 for kind in KINDS}
    assert proxy.forwarded["models"] == 3  # the reset and the truncation came after the trainer answered


def fail_uploads_then_check(
    client: OpenAI,
    trainer: TrainerProcess,
    proxy: FaultProxy,
    pairs: list[tuple[str, str]],
    submit_one: Callable[[], list[tuple[str, str]]],
) -> list[tuple[str, str]]:
    """Once ``pairs`` are upstream, make every upload fail: the next job fails clearly, not stuck."""
    wait_for(
        lambda: [client.fine_tuning.jobs.retrieve(job_id).status for _, job_id in pairs],
        lambda statuses: all(status != "validating_files" for status in statuses),
        timeout=300,
    )
    rates = proxy.rates
    proxy.configure(rates={**rates, "files": 1.0}, kinds_for={"files": ("500",)})
    doomed = submit_one()
    job = wait_terminal(client, [doomed[0][1]], timeout=300)[doomed[0][1]]
    proxy.configure(rates=rates)
    assert job.status == "failed"
    assert job.error.code == "upstream_unavailable"
    assert "injected" in job.error.message  # the provider's own words name the cause
    assert trainer_jobs(trainer, job.id) == []
    return doomed


@pytest.mark.timeout(900)
def test_flaky_provider_every_job_ends_clearly_nothing_lost_or_doubled(trainer, proxy, tmp_path):
    gateway = fault_gateway(tmp_path / "gw", proxy.url)
    gateway.start()
    try:
        client = gateway.client(gateway.create_key("acme", "ml"))
        prefix = f"faults-{secrets.token_hex(4)}"  # the trainer is shared by the session
        # Each kind once where it hurts most, then 20% of every call at random. The upload's answer
        # is lost after the trainer stored it (an orphan copy follows); the job is created but its
        # answer lost, so the retry must find it rather than create a second one.
        proxy.script(
            {
                "files": ["malformed"],
                "find": ["hang@before"],
                "create": ["reset@after"],
                "poll": ["429", "500"],
                "chat": ["hang@after", "reset@before"],
            }
        )
        proxy.configure(rates=dict.fromkeys(FLAKY_CLASSES, 0.2))
        flaky = submit(client, tmp_path, prefix, 1)
        doomed = fail_uploads_then_check(
            client, trainer, proxy, flaky, lambda: submit(client, tmp_path, prefix, 1, first=1)
        )

        result = check_invariants(gateway, client, trainer, prefix, flaky + doomed)
        assert result["outcomes"]["upstream_unavailable"] == 1
        assert proxy.kinds_injected() == set(KINDS), proxy.injected
        assert {route for route, _ in proxy.injected} >= {"files", "find", "create", "poll", "chat"}
        print(
            f"\nfaults: outcomes {result['outcomes']}, orphan upstream files {result['orphan_files']}, "
            f"injected {dict(proxy.injected)}, forwarded {dict(proxy.forwarded)}"
        )
    finally:
        gateway.stop()


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_flaky_provider_many_jobs_and_a_gate_that_cannot_evaluate(trainer, proxy, tmp_path):
    """Four jobs at 30% faults on every route; then uploads, and later the model gate's chat, always fail."""
    gateway = fault_gateway(tmp_path / "gw", proxy.url)
    gateway.start()
    try:
        client = gateway.client(gateway.create_key("acme", "ml"))
        prefix = f"faults-{secrets.token_hex(4)}"
        proxy.configure(rates=dict.fromkeys(FLAKY_CLASSES, 0.3))
        flaky = submit(client, tmp_path, prefix, 4)
        doomed = fail_uploads_then_check(
            client, trainer, proxy, flaky, lambda: submit(client, tmp_path, prefix, 1, first=4)
        )
        result = check_invariants(gateway, client, trainer, prefix, flaky + doomed)

        # The model gate cannot ask the tuned model anything: the job fails closed, model hidden.
        proxy.configure(rates={**proxy.rates, "chat": 1.0}, kinds_for={"chat": ("500",)})
        unevaluated = submit(client, tmp_path, prefix, 1, first=5)
        job = wait_terminal(client, [unevaluated[0][1]])[unevaluated[0][1]]
        assert job.status == "failed" and job.error.code == "model_safety_eval_failed", job.error
        # The worker names the failure's class (the provider's text stays in the log).
        assert "could not complete" in job.error.message and "Error" in job.error.message, job.error
        assert job.to_dict()["safety"]["release"] == "blocked" and job.fine_tuned_model is None
        [upstream] = trainer_jobs(trainer, job.id)  # trained once, never released
        assert upstream["status"] == "succeeded"
        proxy.configure(rates=dict.fromkeys(FLAKY_CLASSES, 0.3))

        final = check_invariants(gateway, client, trainer, prefix, flaky + doomed + unevaluated)
        assert final["outcomes"]["upstream_unavailable"] >= 1
        assert final["outcomes"]["model_safety_eval_failed"] >= 1
        assert proxy.kinds_injected() == set(KINDS), proxy.injected
        print(
            f"\nfaults (slow): first five {result['outcomes']}, all {final['outcomes']}, "
            f"orphan upstream files {final['orphan_files']}, injected {dict(proxy.injected)}, "
            f"forwarded {dict(proxy.forwarded)}"
        )
    finally:
        gateway.stop()
