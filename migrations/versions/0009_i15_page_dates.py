"""i15: where an evidence page gives its own date (item.updated_date) and the date read (linkcheck.page_date)

Revision ID: i15_page_dates
Revises: i15_integrations
Create Date: 2026-11-25 20:40:00
"""
from alembic import op
import sqlalchemy as sa


revision = 'i15_page_dates'
down_revision = 'i15_integrations'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('item', schema=None) as batch_op:
        batch_op.add_column(sa.Column('updated_date', sa.String(length=120), nullable=True))
    with op.batch_alter_table('linkcheck', schema=None) as batch_op:
        batch_op.add_column(sa.Column('page_date', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('linkcheck', schema=None) as batch_op:
        batch_op.drop_column('page_date')
    with op.batch_alter_table('item', schema=None) as batch_op:
        batch_op.drop_column('updated_date')
