"""Indexes for the scheduler's due rows (partial) and a launch's audit events by time (issue 10)

Revision ID: i10_due_indexes
Revises: i12_reliability
"""
import sqlalchemy as sa
from alembic import op

revision = "i10_due_indexes"
down_revision = "i12_reliability"
branch_labels = None
depends_on = None

PARTIAL = (
    ("ix_item_nudge_due", "item", ["next_nudge_at"], "state = 'open' AND next_nudge_at IS NOT NULL"),
    ("ix_item_escalation_due", "item", ["due_at"], "state IN ('open', 'blocked') AND escalation_level < 2"),
    ("ix_item_waiver_expiry", "item", ["waiver_expires_at"], "waiver_expires_at IS NOT NULL"),
    ("ix_outboxmessage_due", "outboxmessage", ["next_attempt_at"], "status = 'pending'"),
)


def upgrade() -> None:
    for name, table, columns, where in PARTIAL:
        op.create_index(name, table, columns, unique=False, postgresql_where=sa.text(where),
                        sqlite_where=sa.text(where))
    op.create_index("ix_auditevent_launch_at", "auditevent", ["launch_id", "at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_auditevent_launch_at", table_name="auditevent")
    for name, table, _columns, _where in reversed(PARTIAL):
        op.drop_index(name, table_name=table)
