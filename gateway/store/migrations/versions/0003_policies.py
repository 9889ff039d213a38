"""policies: scans per policy, reviews, the audit log, the policy on jobs

Each file's scan is copied from columns on ``files`` to a row in ``scans`` (one per file and
policy scan rules); forwards are keyed by the bytes sent as well, since a cleaned or
augmented copy differs per policy.

Revision ID: 0003
Revises: 0002
"""

import time

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "scans",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("file_id", sa.String(length=40), sa.ForeignKey("files.id"), nullable=False),
        sa.Column("tenant", sa.String(length=64), nullable=False),
        sa.Column("team", sa.String(length=64), nullable=False),
        sa.Column("rules_key", sa.String(length=40), nullable=False),
        sa.Column("policy", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("verdict", sa.String(length=24), nullable=True),
        sa.Column("action", sa.String(length=16), nullable=True),
        sa.Column("review", sa.String(length=16), nullable=True),
        sa.Column("details", sa.Text(), nullable=True),
        sa.Column("report", sa.JSON(), nullable=True),
        sa.Column("forward_path", sa.Text(), nullable=True),
        sa.Column("forward_sha256", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("finished_at", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("uq_scans_file_rules", "scans", ["file_id", "rules_key"], unique=True)
    op.create_table(
        "reviews",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("tenant", sa.String(length=64), nullable=False),
        sa.Column("team", sa.String(length=64), nullable=False),
        sa.Column("subject", sa.String(length=16), nullable=False),
        sa.Column("scan_id", sa.String(length=40), nullable=True),
        sa.Column("file_id", sa.String(length=40), nullable=True),
        sa.Column("job_id", sa.String(length=40), nullable=True),
        sa.Column("policy", sa.JSON(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("decided_by", sa.String(length=200), nullable=True),
        sa.Column("decision_reason", sa.Text(), nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("decided_at", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_reviews_tenant_status", "reviews", ["tenant", "status", "created_at"])
    op.create_table(
        "audit_log",
        sa.Column("seq", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("tenant", sa.String(length=64), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("subject", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("data", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("seq"),
    )
    op.create_index("ix_audit_log_tenant", "audit_log", ["tenant"])
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("policy", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("secret_prompt", sa.Text(), nullable=True))
    with op.batch_alter_table("files", schema=None) as batch_op:
        batch_op.add_column(sa.Column("scan_id", sa.String(length=40), nullable=True))
    _move_scans_off_files()
    # files.scan, verdict, forward_path and forward_sha256 stay as unused columns: dropping them
    # would rebuild ``files`` on SQLite, which the foreign keys that point at it forbid.
    _rekey_forwards()


def _move_scans_off_files() -> None:
    """Every existing file gets a scans row (pending ones keep their queued work)."""
    bind = op.get_bind()
    files = sa.table(
        "files",
        sa.column("id"),
        sa.column("tenant"),
        sa.column("team"),
        sa.column("status"),
        sa.column("status_details"),
        sa.column("scan", sa.JSON()),
        sa.column("verdict"),
        sa.column("forward_path"),
        sa.column("forward_sha256"),
        sa.column("created_at"),
        sa.column("scan_id"),
    )
    scans = sa.table(
        "scans",
        *(
            sa.column(n)
            for n in [
                "id",
                "file_id",
                "tenant",
                "team",
                "rules_key",
                "status",
                "verdict",
                "details",
                "forward_path",
                "forward_sha256",
                "created_at",
                "finished_at",
            ]
        ),
        sa.column("policy", sa.JSON()),
        sa.column("report", sa.JSON()),
    )
    work = sa.table("work", sa.column("kind"), sa.column("subject"))
    now = int(time.time())
    for row in bind.execute(sa.select(files)).mappings().all():
        scan_id = "scan-" + row["id"].removeprefix("file-")
        pending = row["status"] == "uploaded"
        report = row["scan"]
        bind.execute(
            scans.insert().values(
                id=scan_id,
                file_id=row["id"],
                tenant=row["tenant"],
                team=row["team"],
                rules_key="legacy",
                policy=(report or {}).get("policy") or {"name": "builtin-default", "version": "legacy"},
                status="pending" if pending else ("done" if report else "failed"),
                verdict=row["verdict"],
                details=row["status_details"],
                report=report,
                forward_path=row["forward_path"],
                forward_sha256=row["forward_sha256"],
                created_at=row["created_at"],
                finished_at=None if pending else now,
            )
        )
        bind.execute(files.update().where(files.c.id == row["id"]).values(scan_id=scan_id))
        bind.execute(
            work.update()
            .where(work.c.kind == "scan_file", work.c.subject == row["id"])
            .values(subject=scan_id)
        )


def _rekey_forwards() -> None:
    op.create_table(
        "file_forwards_new",
        sa.Column("file_id", sa.String(length=40), sa.ForeignKey("files.id"), nullable=False),
        sa.Column("upstream", sa.String(length=64), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("upstream_file_id", sa.String(length=256), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("file_id", "upstream", "sha256"),
    )
    op.execute(
        "INSERT INTO file_forwards_new (file_id, upstream, sha256, upstream_file_id, created_at) "
        "SELECT file_id, upstream, sha256, upstream_file_id, created_at FROM file_forwards"
    )
    op.drop_table("file_forwards")
    op.rename_table("file_forwards_new", "file_forwards")


def downgrade() -> None:
    raise NotImplementedError("0003 moves scan data into new tables; restore a backup to go back")
