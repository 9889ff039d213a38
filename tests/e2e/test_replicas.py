"""Two gateway replicas on one PostgreSQL database: kill -9 either, the other finishes its work.

Both replicas serve HTTP and run workers. Background work lives in leased ``work`` rows, so
when a replica dies mid-step its leases expire (5 s in tests) and the survivor claims the
rows and carries on. Nothing may be lost (every file processed, every job released by the
model gate, no work row left open) and nothing may run twice upstream (one trainer job per
gateway job, one trainer file per forwarded copy).

The spool holds uploads, cleaned copies and the model gate's answer logs on local disk, and
a work row may be picked up by any replica. A multi-replica deployment therefore mounts one
shared volume as ``spool_dir`` in every replica (docs/operations.md); here both processes
get the same directory.

The first kill lands while the victim holds a job's start (forwarding the file, creating the
upstream job, or waiting for the scan): the risk there is a second upstream job. The second
prefers a moment inside the model gate, whose answers are logged so the survivor resumes.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections import Counter
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from openai import OpenAI

from tests.support.data import chat_rows, write_jsonl
from tests.support.processes import GatewayProcess
from tests.support.waiting import wait_for

FIRST_BATCH = 6
SECOND_BATCH = 4
IN_FLIGHT = ("validating_files", "queued", "running")
TERMINAL = ("succeeded", "failed", "cancelled")
JOB_WORK = ("start_job", "poll_job", "evaluate_model")  # work that moves a job along


def _fetch(pg_url: str, query: str, *args: Any) -> list[asyncpg.Record]:
    """Read the gateways' database directly (the test runs no event loop of its own)."""
    dsn = pg_url.replace("postgresql+asyncpg://", "postgresql://", 1)

    async def run() -> list[asyncpg.Record]:
        connection = await asyncpg.connect(dsn, timeout=5)
        try:
            return await connection.fetch(query, *args)
        finally:
            await connection.close()

    return asyncio.run(run())


def _leases_of(pg_url: str, replica: GatewayProcess) -> list[str]:
    """The work kinds the replica holds a live lease on (the owner is ``host:pid``)."""
    assert replica.process is not None
    rows = _fetch(
        pg_url,
        "SELECT kind FROM work WHERE done_at IS NULL AND lease_owner LIKE $1 AND lease_expires_at > $2",
        f"%:{replica.process.pid}",
        time.time(),
    )
    return [row["kind"] for row in rows]


def _submit(
    clients: list[OpenAI], tmp_path: Path, prefix: str, batch: str, count: int
) -> tuple[list[str], list[str]]:
    """Upload ``count`` files and start a job on each, alternating replicas for both."""
    file_ids, job_ids = [], []
    for index in range(count):
        client = clients[index % 2]
        rows = chat_rows(10 + index)  # distinct contents, hence distinct forwards
        path = write_jsonl(tmp_path / f"{prefix}-{batch}-{index}.jsonl", rows)
        with path.open("rb") as handle:
            file_ids.append(client.files.create(file=handle, purpose="fine-tune").id)
    for index, file_id in enumerate(file_ids):
        client = clients[(index + 1) % 2]  # the other replica than the upload's
        job = client.fine_tuning.jobs.create(
            model="tiny-llama", training_file=file_id, suffix=batch, hyperparameters={"n_epochs": 1}
        )
        job_ids.append(job.id)
    return file_ids, job_ids


def _kill_mid_work(
    pg_url: str,
    victim: GatewayProcess,
    survivor: OpenAI,
    job_ids: list[str],
    *,
    prefer: str | None = None,
    prefer_for: float = 0.0,
) -> list[str]:
    """kill -9 ``victim`` while it holds a lease on a job's work and some job is still in flight.

    With ``prefer``, wait up to ``prefer_for`` seconds for a lease on that kind of work first.
    Returns the kinds the victim held.
    """
    deadline = time.monotonic() + prefer_for
    # Claims are a race between the replicas' worker slots: the victim may hold no job work for a
    # while. After this long, any moment with jobs in flight will do (it may hold a scan, or nothing).
    settle = time.monotonic() + max(prefer_for, 20.0)

    def probe() -> list[str]:
        held = [kind for kind in _leases_of(pg_url, victim) if kind in JOB_WORK]
        patient = time.monotonic() < settle
        if (not held and patient) or (prefer and prefer not in held and time.monotonic() < deadline):
            return []
        statuses = [survivor.fine_tuning.jobs.retrieve(job_id).status for job_id in job_ids]
        if not any(status in IN_FLIGHT for status in statuses):
            return []
        return held or [kind for kind in _leases_of(pg_url, victim)] or ["(no lease at that moment)"]

    held = wait_for(probe, bool, timeout=150, every=0.05)
    victim.kill()
    return held


def _finish_all(client: OpenAI, file_ids: list[str], job_ids: list[str]) -> None:
    jobs = wait_for(
        lambda: [client.fine_tuning.jobs.retrieve(job_id) for job_id in job_ids],
        lambda jobs: all(job.status in TERMINAL for job in jobs),
        timeout=240,
        every=0.5,
    )
    for job in jobs:
        assert job.status == "succeeded", (job.id, job.status, job.error)
        assert job.fine_tuned_model
    for file_id in file_ids:
        assert client.files.retrieve(file_id).status == "processed", file_id


# Minutes long: `make test-all` runs it; `make test` keeps tests/security/test_crash_trials.py's round.
@pytest.mark.slow
def test_replica_killed_mid_work_the_other_finishes_nothing_lost_nothing_twice(trainer, pg_url, tmp_path):
    shared_spool = tmp_path / "shared-spool"  # the volume every replica mounts
    replicas = [
        GatewayProcess(
            tmp_path / name,
            trainer_url=trainer.url,
            database_url=pg_url,
            extra_config={"spool_dir": str(shared_spool)},
        )
        for name in ("a", "b")
    ]
    a, b = replicas
    started = time.monotonic()
    try:
        a.start()
        b.start()
        key = a.create_key("acme", "ml")
        prefix = f"replicas-{secrets.token_hex(4)}"  # the trainer is shared by the session

        # Batch 1: A dies mid-work, B finishes everything.
        files_1, jobs_1 = _submit([a.client(key), b.client(key)], tmp_path, prefix, "one", FIRST_BATCH)
        held_by_a = _kill_mid_work(pg_url, a, b.client(key), jobs_1)
        _finish_all(b.client(key), files_1, jobs_1)
        first_done = time.monotonic()

        # Batch 2: A comes back, B dies mid-work, A finishes everything.
        a.start()
        files_2, jobs_2 = _submit([a.client(key), b.client(key)], tmp_path, prefix, "two", SECOND_BATCH)
        held_by_b = _kill_mid_work(pg_url, b, a.client(key), jobs_2, prefer="evaluate_model", prefer_for=45)
        _finish_all(a.client(key), files_2, jobs_2)
        print(
            f"\nA held {held_by_a} when killed; B held {held_by_b}; "
            f"batch 1 {first_done - started:.0f}s, all {time.monotonic() - started:.0f}s"
        )

        job_ids = jobs_1 + jobs_2
        client = a.client(key)

        # No job stuck: every work row is closed.
        open_work = _fetch(
            pg_url, "SELECT kind, subject, attempts, last_error FROM work WHERE done_at IS NULL"
        )
        assert not open_work, [dict(row) for row in open_work]

        # Nothing ran twice upstream: one trainer job per gateway job ...
        upstream_job_ids = {}
        for job_id in job_ids:
            found = httpx.get(
                f"{trainer.url}/fine_tuning/jobs", params={"metadata[tunegate_job_id]": job_id, "limit": 100}
            ).json()["data"]
            assert len(found) == 1, (job_id, [j["id"] for j in found])
            assert found[0]["metadata"]["tunegate_job_id"] == job_id
            assert found[0]["status"] == "succeeded"
            upstream_job_ids[job_id] = found[0]["id"]
        stored = _fetch(pg_url, "SELECT id, upstream_job_id FROM jobs")
        assert {row["id"]: row["upstream_job_id"] for row in stored} == upstream_job_ids

        # ... and one trainer file per distinct forwarded copy.
        forwards = _fetch(pg_url, "SELECT file_id, sha256, upstream_file_id FROM file_forwards")
        assert len({(row["file_id"], row["sha256"]) for row in forwards}) == len(forwards)
        assert {row["file_id"] for row in forwards} == set(files_1 + files_2)
        trainer_files = [
            f
            for f in httpx.get(f"{trainer.url}/files", params={"purpose": "fine-tune"}).json()["data"]
            if f["filename"].startswith(prefix)
        ]
        assert len(trainer_files) == len(forwards)
        assert {f["id"] for f in trainer_files} == {row["upstream_file_id"] for row in forwards}

        # Nothing lost, nothing doubled: events, eval reports, released models.
        for job_id in job_ids:
            job = client.fine_tuning.jobs.retrieve(job_id)
            events = _fetch(
                pg_url,
                "SELECT id, message, upstream_event_id FROM job_events WHERE job_id = $1 ORDER BY seq",
                job_id,
            )
            assert len({row["id"] for row in events}) == len(events)
            # The gateway's own milestones, each once and in order ...
            own = [row["message"] for row in events if row["upstream_event_id"] is None]
            milestones = (
                "Created fine-tuning job",
                "passed the data gate",
                "Training finished",
                "passed the safety evaluation",
                "Fine-tuned model released",
            )
            positions = [next((i for i, m in enumerate(own) if step in m), -1) for step in milestones]
            counts = Counter(milestone for m in own for milestone in milestones if milestone in m)
            assert counts == dict.fromkeys(milestones, 1), (job_id, own)
            assert positions == sorted(positions), (job_id, own)
            # ... and the upstream's creation copied once.
            theirs = [row["message"] for row in events if row["upstream_event_id"] is not None]
            assert sum("Created fine-tuning job" in m for m in theirs) == 1, (job_id, theirs)

            # Every upstream event was copied once, in the upstream's order.
            upstream_events = httpx.get(
                f"{trainer.url}/fine_tuning/jobs/{upstream_job_ids[job_id]}/events", params={"limit": 1000}
            ).json()["data"]
            copied = [row["upstream_event_id"] for row in events if row["upstream_event_id"]]
            assert copied == [event["id"] for event in reversed(upstream_events)], job_id

            listed = client.fine_tuning.jobs.list_events(job_id, limit=1000).data
            assert len(listed) == len(events)
            assert len({e.id for e in listed}) == len(listed)

            reports = _fetch(pg_url, "SELECT verdict FROM eval_reports WHERE job_id = $1", job_id)
            assert [row["verdict"] for row in reports] == ["pass"], job_id
            models = _fetch(
                pg_url,
                "SELECT name, released FROM fine_tuned_models WHERE job_id = $1 AND kind = 'model'",
                job_id,
            )
            assert [(row["name"], row["released"]) for row in models] == [(job.fine_tuned_model, True)]
    finally:
        for replica in replicas:
            replica.stop()
