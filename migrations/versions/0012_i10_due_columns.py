"""i10: when a launch's digest and an item's escalation are next worth reading (launch.digest_due_at,
item.escalate_at, both indexed); item.state loses its index, which SQLite preferred to the due-time ones

Revision ID: i10_due_columns
Revises: i11_opens
Create Date: 2026-11-26 00:30:00

launch.digest_due_at NULL means "at the next pass", so it needs no backfill. item.escalate_at is the
due time of every open or blocked required item below the last level (what schedule_item sets).
"""
from alembic import op
import sqlalchemy as sa


revision = 'i10_due_columns'
down_revision = 'i11_opens'
branch_labels = None
depends_on = None


def upgrade() -> None:
    for table, column in (('launch', 'digest_due_at'), ('item', 'escalate_at')):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column(column, sa.DateTime(timezone=True), nullable=True))
        op.create_index(f'ix_{table}_{column}', table, [column], unique=False)
    op.execute("UPDATE item SET escalate_at = due_at WHERE state IN ('open', 'blocked') AND required "
               "AND escalation_level < 2")
    op.drop_index('ix_item_state', table_name='item')


def downgrade() -> None:
    op.create_index('ix_item_state', 'item', ['state'], unique=False)
    for table, column in (('item', 'escalate_at'), ('launch', 'digest_due_at')):
        op.drop_index(f'ix_{table}_{column}', table_name=table)
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column(column)
