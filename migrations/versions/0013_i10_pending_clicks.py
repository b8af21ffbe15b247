"""i10: pending_click, a Done or Reopen click saved before the ack and applied just after it

Revision ID: i10_pending_clicks
Revises: i10_due_columns
Create Date: 2026-11-26 04:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = 'i10_pending_clicks'
down_revision = 'i10_due_columns'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('pending_click',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('actor', sa.String(length=32), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('clicked_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('retry_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('response_url', sa.String(length=500), nullable=True),
    sa.Column('home', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pending_click'))
    )
    op.create_index('ix_pending_click_retry_at', 'pending_click', ['retry_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_pending_click_retry_at', table_name='pending_click')
    op.drop_table('pending_click')
