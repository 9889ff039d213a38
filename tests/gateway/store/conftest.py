"""Store fixtures: every store test runs against SQLite and the local PostgreSQL."""

from __future__ import annotations

import pytest

from gateway.store.db import create_engine, migrate, session_factory
from tests.support.postgres import postgres_database


@pytest.fixture(params=["sqlite", "postgres"])
async def engine(request, tmp_path):
    if request.param == "sqlite":
        engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'store.db'}")
        await migrate(engine)
        yield engine
        await engine.dispose()
        return
    with postgres_database() as url:
        engine = create_engine(url)
        await migrate(engine)
        yield engine
        await engine.dispose()


@pytest.fixture
def sessions(engine):
    return session_factory(engine)
