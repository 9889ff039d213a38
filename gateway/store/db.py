"""The async engine, sessions, and schema migrations (Alembic, applied at startup)."""

from __future__ import annotations

import asyncio
import weakref
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import event, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
# Held while migrating so replicas starting together on PostgreSQL migrate one at a time.
_PG_MIGRATION_LOCK_ID = 7_346_219_001


def create_engine(url: str) -> AsyncEngine:
    """An engine for SQLite (file made on demand, WAL, foreign keys) or PostgreSQL."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        on_file = bool(parsed.database) and parsed.database != ":memory:"
        if on_file:
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        # Each connection is a thread; a statement holds one for about a millisecond, so a request
        # that waits 10 s for one is part of a backlog, answered 503 (gateway.app) rather than queued.
        pool = {"pool_size": 10, "max_overflow": 10, "pool_timeout": 10} if on_file else {}
        engine = create_async_engine(url, connect_args={"timeout": 30}, **pool)

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        return engine
    return create_async_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10)


def session_factory(engine: AsyncEngine) -> async_sessionmaker:
    return async_sessionmaker(engine, expire_on_commit=False)


def _alembic_config(connection: Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


def _upgrade(connection: Connection) -> None:
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _PG_MIGRATION_LOCK_ID})
    command.upgrade(_alembic_config(connection), "head")


# Alembic keeps the running migration in module-level state, so two migrations in one process
# must not interleave (their database I/O yields to each other); processes are serialised by the
# database (PostgreSQL's advisory lock, SQLite's write lock).
_MIGRATION_LOCKS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
    weakref.WeakKeyDictionary()
)


async def migrate(engine: AsyncEngine) -> None:
    """Bring the schema to the newest revision; safe to call from several processes at once."""
    lock = _MIGRATION_LOCKS.setdefault(asyncio.get_running_loop(), asyncio.Lock())
    async with lock, engine.begin() as connection:
        await connection.run_sync(_upgrade)


def migrate_sync(url: str) -> None:
    """For the CLI: ``tunegate migrate``."""

    async def run() -> None:
        engine = create_engine(url)
        try:
            await migrate(engine)
        finally:
            await engine.dispose()

    asyncio.run(run())
