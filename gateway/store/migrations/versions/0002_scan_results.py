"""scan results on files: verdict and the cleaned copy that is forwarded

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("files", schema=None) as batch_op:
        batch_op.add_column(sa.Column("verdict", sa.String(length=24), nullable=True))
        batch_op.add_column(sa.Column("forward_path", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("forward_sha256", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("files", schema=None) as batch_op:
        batch_op.drop_column("forward_sha256")
        batch_op.drop_column("forward_path")
        batch_op.drop_column("verdict")
