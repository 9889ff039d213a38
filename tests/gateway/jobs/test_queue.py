"""Leased work on SQLite and PostgreSQL: one owner at a time, resumable after a lost lease."""

from __future__ import annotations

import asyncio
import time

from sqlalchemy import select, update

from gateway.jobs.queue import WorkQueue, enqueue
from gateway.store.tables import Work
from tests.gateway.store.conftest import engine, sessions  # noqa: F401  (fixtures)


async def _enqueue(sessions, kind: str, subject: str, delay: float = 0.0) -> None:  # noqa: F811
    async with sessions() as session:
        await enqueue(session, kind, subject, delay=delay)
        await session.commit()


async def test_two_owners_never_claim_the_same_item(sessions):  # noqa: F811
    for i in range(30):
        await _enqueue(sessions, "poll_job", f"job-{i}")
    first = WorkQueue(sessions, owner="a", lease_seconds=30)
    second = WorkQueue(sessions, owner="b", lease_seconds=30)
    subjects: list[str] = []
    for _ in range(20):  # concurrent rounds until everything is claimed
        results = await asyncio.gather(*(queue.claim(["poll_job"], limit=3) for queue in [first, second] * 3))
        subjects += [item.subject for batch in results for item in batch]
        if len(subjects) >= 30:
            break
    assert len(subjects) == len(set(subjects))
    assert sorted(set(subjects)) == sorted(f"job-{i}" for i in range(30))


async def test_expired_lease_is_claimed_again_and_old_owner_cannot_finish(sessions):  # noqa: F811
    await _enqueue(sessions, "start_job", "job-1")
    crashed = WorkQueue(sessions, owner="crashed", lease_seconds=30)
    [item] = await crashed.claim(["start_job"])
    survivor = WorkQueue(sessions, owner="survivor", lease_seconds=30)
    assert await survivor.claim(["start_job"]) == []
    async with sessions() as session:  # the crashed process's lease runs out
        await session.execute(update(Work).values(lease_expires_at=time.time() - 1))
        await session.commit()
    [again] = await survivor.claim(["start_job"])
    assert again.id == item.id and again.attempts == 2
    await crashed.finish(item.id)  # a stale owner's finish changes nothing
    assert not await crashed.renew(item.id)
    async with sessions() as session:
        row = await session.scalar(select(Work).where(Work.id == item.id))
        assert row.done_at is None and row.lease_owner == "survivor"
    await survivor.finish(item.id)
    async with sessions() as session:
        assert (await session.scalar(select(Work).where(Work.id == item.id))).done_at is not None


async def test_retry_later_and_due_time(sessions):  # noqa: F811
    await _enqueue(sessions, "scan_file", "file-1", delay=60)
    queue = WorkQueue(sessions, owner="a", lease_seconds=30)
    assert await queue.claim(["scan_file"]) == []
    async with sessions() as session:
        await session.execute(update(Work).values(due_at=time.time() - 1))
        await session.commit()
    [item] = await queue.claim(["scan_file"])
    await queue.retry_later(item.id, 60, error="upstream 503")
    assert await queue.claim(["scan_file"]) == []
    assert (await queue.backlog()) == {"scan_file": 1}


async def test_enqueue_reopens_done_work_once(sessions):  # noqa: F811
    await _enqueue(sessions, "poll_job", "job-9")
    queue = WorkQueue(sessions, owner="a", lease_seconds=30)
    [item] = await queue.claim(["poll_job"])
    await queue.finish(item.id)
    await _enqueue(sessions, "poll_job", "job-9")
    await _enqueue(sessions, "poll_job", "job-9")
    async with sessions() as session:
        rows = (await session.scalars(select(Work))).all()
    assert len(rows) == 1 and rows[0].done_at is None


async def test_a_handler_that_loses_its_lease_is_stopped(sessions):  # noqa: F811
    """Another process took the item (our lease expired while we were stalled): we stop acting on it."""
    from gateway.jobs.lifecycle import Done
    from gateway.jobs.worker import Worker

    queue = WorkQueue(sessions, owner="a", lease_seconds=1.5)
    async with sessions() as session:
        await enqueue(session, "slow", "subject-1")
        await session.commit()
    claimed = (await queue.claim(["slow"]))[0]
    stopped = asyncio.Event()

    async def slow(_subject: str) -> Done:
        async with sessions() as session:  # another process steals the lease meanwhile
            await session.execute(update(Work).where(Work.id == claimed.id).values(lease_owner="b"))
            await session.commit()
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            stopped.set()
            raise
        return Done()

    worker = Worker(queue, {"slow": slow}, {}, max_attempts=3, idle_sleep=0.1)
    await asyncio.wait_for(worker.run_one(claimed), timeout=10)
    assert stopped.is_set()
    async with sessions() as session:
        row = await session.scalar(select(Work).where(Work.id == claimed.id))
    assert row.lease_owner == "b" and row.done_at is None  # left to the process that owns it
