"""i11: items and gates that open near the launch (template key `opens`): gate/item opens_offset_business_days, opens_at

Revision ID: i11_opens
Revises: i14_people
Create Date: 2026-11-25 20:40:00
"""
from alembic import op
import sqlalchemy as sa


revision = 'i11_opens'
down_revision = 'i14_people'
branch_labels = None
depends_on = None


def upgrade() -> None:
    for table in ('gate', 'item'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('opens_offset_business_days', sa.Integer(), nullable=True))
            batch_op.add_column(sa.Column('opens_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    for table in ('item', 'gate'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('opens_at')
            batch_op.drop_column('opens_offset_business_days')
