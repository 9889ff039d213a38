"""Migrations apply on both databases, twice in parallel without harm."""

from __future__ import annotations

import asyncio

from sqlalchemy import inspect

from gateway.store.db import migrate


async def test_migrations_create_every_table(engine):
    async with engine.connect() as connection:
        names = await connection.run_sync(lambda sync: set(inspect(sync).get_table_names()))
    assert {
        "api_keys",
        "files",
        "uploads",
        "upload_parts",
        "jobs",
        "job_events",
        "checkpoints",
        "fine_tuned_models",
        "work",
        "file_forwards",
        "scans",
        "reviews",
        "audit_log",
        "eval_reports",
        "base_eval_cache",
        "ui_sessions",
        "alembic_version",
    } <= names


async def test_migrate_is_idempotent_and_safe_concurrently(engine):
    await asyncio.gather(migrate(engine), migrate(engine))
    async with engine.connect() as connection:
        version = (await connection.exec_driver_sql("SELECT version_num FROM alembic_version")).scalar_one()
    assert version == "0005"
