"""Throwaway databases on the local PostgreSQL server (``TUNEGATE_TEST_POSTGRES_URL``)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import threading
from collections.abc import AsyncIterator, Iterator

import asyncpg
import pytest

ADMIN_URL = os.environ.get("TUNEGATE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


async def _admin(statement: str) -> None:
    connection = await asyncpg.connect(ADMIN_URL, timeout=5)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


def _admin_blocking(statement: str) -> None:
    """Run an admin statement from sync code, even when the caller's thread has a running loop."""
    errors: list[BaseException] = []

    def run() -> None:
        try:
            asyncio.run(_admin(statement))
        except BaseException as exc:  # re-raised in the caller's thread
            errors.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    if errors:
        raise errors[0]


def _create(name: str) -> str:
    try:
        _admin_blocking(f'CREATE DATABASE "{name}"')
    except (OSError, asyncpg.PostgresError) as exc:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"PostgreSQL is not reachable at {ADMIN_URL}: {exc}")
    base = ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
    return f"{base}/{name}"


@contextlib.contextmanager
def postgres_database() -> Iterator[str]:
    """Create a uniquely named database, yield its SQLAlchemy asyncpg URL, drop it afterwards."""
    name = f"tunegate_test_{secrets.token_hex(6)}"
    url = _create(name)
    try:
        yield url
    finally:
        _admin_blocking(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.asynccontextmanager
async def postgres_database_async() -> AsyncIterator[str]:
    with postgres_database() as url:
        yield url
