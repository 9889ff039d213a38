"""Polling helpers with a deadline (the thing under test runs in another process)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_for(
    probe: Callable[[], T], done: Callable[[T], bool], *, timeout: float = 120, every: float = 0.3
) -> T:
    deadline = time.monotonic() + timeout
    value = probe()
    while not done(value):
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s; last value: {value!r}")
        time.sleep(every)
        value = probe()
    return value


def wait_job(client, job_id: str, statuses=("succeeded", "failed", "cancelled"), timeout: float = 180):  # type: ignore[no-untyped-def]
    return wait_for(
        lambda: client.fine_tuning.jobs.retrieve(job_id), lambda j: j.status in statuses, timeout=timeout
    )
