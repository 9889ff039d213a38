"""The worker loop: claims due work rows, runs their handler, keeps the lease alive meanwhile."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable

from gateway import metrics
from gateway.errors import GatewayError
from gateway.jobs.lifecycle import Again, Done, Outcome
from gateway.jobs.queue import Claimed, WorkQueue

log = logging.getLogger(__name__)

Handler = Callable[[str], Awaitable[Outcome]]
GiveUp = Callable[[str, str], Awaitable[None]]
MAX_BACKOFF_SECONDS = 60.0


class Worker:
    def __init__(
        self,
        queue: WorkQueue,
        handlers: dict[str, Handler],
        give_up: dict[str, GiveUp],
        *,
        max_attempts: int,
        idle_sleep: float,
        concurrency: int = 4,
    ) -> None:
        self._queue = queue
        self._handlers = handlers
        self._give_up = give_up
        self._max_attempts = max_attempts
        self._idle_sleep = idle_sleep
        self._concurrency = concurrency
        self._stopping = asyncio.Event()

    def stop(self) -> None:
        self._stopping.set()

    async def run(self) -> None:
        """Run until ``stop``; each slot claims and runs one item at a time."""
        await asyncio.gather(*(self._slot() for _ in range(self._concurrency)))

    async def _slot(self) -> None:
        kinds = list(self._handlers)
        while not self._stopping.is_set():
            try:
                claimed = await self._queue.claim(kinds)
            except Exception:  # the database may be briefly unavailable; try again
                log.exception("claiming work failed")
                claimed = []
            if not claimed:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), timeout=self._idle_sleep)
                continue
            await self.run_one(claimed[0])

    async def run_one(self, item: Claimed) -> None:
        started = time.perf_counter()
        handler = asyncio.create_task(self._handlers[item.kind](item.subject))
        heartbeat = asyncio.create_task(self._keep_lease(item.id, handler))
        outcome_label = "done"
        try:
            try:
                outcome = await handler
            except asyncio.CancelledError:
                if not heartbeat.done():
                    raise  # the worker itself is being cancelled
                # Lost the lease: another process owns this item now; leave it to that process.
                outcome_label = "lease_lost"
                return
            if isinstance(outcome, Again):
                outcome_label = "again"
                await self._queue.retry_later(item.id, outcome.delay, reset_attempts=not outcome.counts)
            elif isinstance(outcome, Done):
                await self._queue.finish(item.id)
        except Exception as exc:
            outcome_label = "error"
            reason = exc.message if isinstance(exc, GatewayError) else f"{type(exc).__name__}"
            log.warning(  # the detail stays in the log; clients see only ``reason``
                "work %s %s for %s failed (try %d): %s: %.500s",
                item.id,
                item.kind,
                item.subject,
                item.attempts,
                reason,
                exc,
            )
            if item.attempts >= self._max_attempts:
                outcome_label = "gave_up"
                await self._give_up[item.kind](item.subject, reason)
                await self._queue.finish(item.id)
            else:
                delay = min(MAX_BACKOFF_SECONDS, 0.5 * 2 ** (item.attempts - 1))
                await self._queue.retry_later(item.id, delay, error=reason)
        finally:
            heartbeat.cancel()
            metrics.WORK_PROCESSED.labels(kind=item.kind, outcome=outcome_label).inc()
            metrics.WORK_DURATION.labels(kind=item.kind).observe(time.perf_counter() - started)

    async def _keep_lease(self, work_id: str, handler: asyncio.Task) -> None:
        """Renew the lease while the handler runs; if it is lost, stop the handler so that two
        processes never act on one item (a later renewal may still succeed after a database blip)."""
        interval = self._queue.lease_seconds / 3
        while True:
            await asyncio.sleep(interval)
            try:
                renewed = await self._queue.renew(work_id)
            except Exception:  # the database may be briefly unavailable: try again before the lease ends
                log.exception("renewing the lease on work %s failed", work_id)
                continue
            if not renewed:
                log.warning("lost the lease on work %s; stopping its handler", work_id)
                handler.cancel()
                return
