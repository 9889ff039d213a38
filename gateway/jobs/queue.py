"""Leased work rows: background work that any process can claim, and resume after a crash.

A claim is a compare-and-set on the row (``lease_owner``/``lease_expires_at``), which is
atomic on SQLite and PostgreSQL alike, so two processes never hold the same work. A process
that dies simply lets its lease expire; the next claim picks the row up again. Handlers must
therefore be idempotent per step (the upstream adapters make job creation idempotent).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gateway.ids import new_id
from gateway.store.tables import Work


@dataclass(frozen=True)
class Claimed:
    id: str
    kind: str
    subject: str
    attempts: int


def _claimable(now: float):  # type: ignore[no-untyped-def]
    return and_(
        Work.done_at.is_(None),
        Work.due_at <= now,
        or_(Work.lease_expires_at.is_(None), Work.lease_expires_at < now),
    )


async def enqueue(session: AsyncSession, kind: str, subject: str, *, delay: float = 0.0) -> None:
    """Schedule ``kind`` for ``subject`` (inside the caller's transaction); reopen it if it was done."""
    now = time.time()
    row = await session.scalar(select(Work).where(Work.kind == kind, Work.subject == subject))
    if row is None:
        session.add(
            Work(
                id=new_id("work_"), kind=kind, subject=subject, due_at=now + delay, created_at=now, attempts=0
            )
        )
    elif row.done_at is not None:
        row.done_at = None
        row.due_at = now + delay
        row.attempts = 0
        row.last_error = None


class WorkQueue:
    def __init__(self, sessions: async_sessionmaker, *, owner: str, lease_seconds: float) -> None:
        self._sessions = sessions
        self.owner = owner
        self.lease_seconds = lease_seconds

    async def claim(self, kinds: list[str], *, limit: int = 1) -> list[Claimed]:
        """Take up to ``limit`` due rows of the given kinds, oldest due first."""
        now = time.time()
        claimed: list[Claimed] = []
        async with self._sessions() as session:
            candidates = (
                await session.execute(
                    select(Work.id, Work.kind, Work.subject, Work.attempts)
                    .where(_claimable(now), Work.kind.in_(kinds))
                    .order_by(Work.due_at)
                    .limit(limit * 4)
                )
            ).all()
            for work_id, kind, subject, attempts in candidates:
                if len(claimed) >= limit:
                    break
                result = await session.execute(
                    update(Work)
                    .where(Work.id == work_id, _claimable(now))
                    .values(
                        lease_owner=self.owner,
                        lease_expires_at=now + self.lease_seconds,
                        attempts=Work.attempts + 1,
                    )
                )
                if result.rowcount == 1:  # type: ignore[attr-defined]
                    claimed.append(Claimed(work_id, kind, subject, attempts + 1))
            await session.commit()
        return claimed

    async def renew(self, work_id: str) -> bool:
        """Extend our lease; False when it was lost (another process took the work)."""
        now = time.time()
        async with self._sessions() as session:
            result = await session.execute(
                update(Work)
                .where(Work.id == work_id, Work.lease_owner == self.owner, Work.done_at.is_(None))
                .values(lease_expires_at=now + self.lease_seconds)
            )
            await session.commit()
            return result.rowcount == 1  # type: ignore[attr-defined]

    async def finish(self, work_id: str) -> None:
        async with self._sessions() as session:
            await session.execute(
                update(Work)
                .where(Work.id == work_id, Work.lease_owner == self.owner)
                .values(done_at=time.time(), lease_owner=None, lease_expires_at=None, last_error=None)
            )
            await session.commit()

    async def retry_later(
        self, work_id: str, delay: float, *, error: str | None = None, reset_attempts: bool = False
    ) -> None:
        """Release the lease and make the work due again after ``delay`` seconds."""
        values: dict[str, object] = {
            "due_at": time.time() + delay,
            "lease_owner": None,
            "lease_expires_at": None,
            "last_error": error,
        }
        if reset_attempts:
            values["attempts"] = 0
        async with self._sessions() as session:
            await session.execute(
                update(Work).where(Work.id == work_id, Work.lease_owner == self.owner).values(**values)
            )
            await session.commit()

    async def backlog(self) -> dict[str, int]:
        """Open work per kind, for the metrics."""
        async with self._sessions() as session:
            rows = await session.execute(
                select(Work.kind, func.count()).where(Work.done_at.is_(None)).group_by(Work.kind)
            )
            return {kind: count for kind, count in rows.all()}
