"""issue 12: outbox retry budget start, launch idempotency key

Revision ID: i12_reliability
Revises: i14_private
"""
import sqlalchemy as sa
from alembic import op

revision = "i12_reliability"
down_revision = "i14_private"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outboxmessage", schema=None) as batch_op:
        batch_op.add_column(sa.Column("failing_since", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("launch", schema=None) as batch_op:
        batch_op.add_column(sa.Column("idempotency_key", sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_launch_idempotency_key"), ["idempotency_key"])


def downgrade() -> None:
    with op.batch_alter_table("launch", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_launch_idempotency_key"), type_="unique")
        batch_op.drop_column("idempotency_key")
    with op.batch_alter_table("outboxmessage", schema=None) as batch_op:
        batch_op.drop_column("failing_since")
