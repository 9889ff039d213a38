"""0003 copies each file's scan into ``scans`` and re-keys forwards on a SQLite store holding data."""

from __future__ import annotations

from alembic import command
from sqlalchemy import text

from gateway.store.db import _alembic_config, migrate


def _upgrade_to(connection, revision: str) -> None:  # type: ignore[no-untyped-def]
    command.upgrade(_alembic_config(connection), revision)


async def test_scans_move_off_files_and_queued_work_follows(tmp_path):
    from gateway.store.db import create_engine

    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'old.db'}")
    async with engine.begin() as connection:
        await connection.run_sync(_upgrade_to, "0002")
        base = (
            "INSERT INTO files (id, tenant, team, filename, purpose, bytes, sha256, spool_path, created_at, "
            "status, examples, deleted, scan, verdict, forward_path, forward_sha256) VALUES "
        )
        await connection.execute(
            text(
                base
                + "('file-done', 'acme', 'ml', 'a.jsonl', 'fine-tune', 10, 'aa', '/s/a', 1, 'processed', "
                "12, false, :report, 'allow_with_changes', '/s/a.cleaned', 'bb')"
            ),
            {"report": '{"verdict": "allow_with_changes", "policy": {"name": "builtin-default"}}'},
        )
        await connection.execute(
            text(
                base + "('file-wait', 'acme', 'ml', 'b.jsonl', 'fine-tune', 10, 'cc', '/s/b', 2, 'uploaded', "
                "12, false, NULL, NULL, NULL, NULL)"
            )
        )
        await connection.execute(
            text(
                "INSERT INTO work (id, kind, subject, due_at, attempts, created_at) "
                "VALUES ('work_1', 'scan_file', 'file-wait', 0, 0, 0)"
            )
        )
        await connection.execute(
            text(
                "INSERT INTO file_forwards (file_id, upstream, upstream_file_id, sha256, created_at) "
                "VALUES ('file-done', 'local', 'up-1', 'bb', 3)"
            )
        )
    await migrate(engine)
    async with engine.connect() as connection:
        scans = {
            row.file_id: row
            for row in (await connection.execute(text("SELECT * FROM scans"))).mappings().all()
            for row in [type("Row", (), dict(row))]
        }
        files = dict((await connection.execute(text("SELECT id, scan_id FROM files"))).all())
        work = (await connection.execute(text("SELECT subject FROM work"))).scalar_one()
        forwards = (
            await connection.execute(text("SELECT file_id, upstream, sha256 FROM file_forwards"))
        ).all()
    await engine.dispose()
    done, waiting = scans["file-done"], scans["file-wait"]
    assert (done.status, done.verdict, done.forward_path, done.forward_sha256) == (
        "done",
        "allow_with_changes",
        "/s/a.cleaned",
        "bb",
    )
    assert waiting.status == "pending" and files["file-wait"] == waiting.id and work == waiting.id
    assert files["file-done"] == done.id
    assert forwards == [("file-done", "local", "bb")]
