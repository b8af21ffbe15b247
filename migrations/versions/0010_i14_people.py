"""i14 people, not launches: away-until and the weekly-summary preference per person

Revision ID: i14_people
Revises: i15_page_dates
Create Date: 2026-11-25 20:45:00
"""
from alembic import op
import sqlalchemy as sa


revision = 'i14_people'
down_revision = 'i15_page_dates'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('personpreference',
    sa.Column('user_id', sa.String(length=32), nullable=False),
    sa.Column('away_until', sa.Date(), nullable=True),
    sa.Column('away_set_by', sa.String(length=32), nullable=True),
    sa.Column('summary_days', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_personpreference'))
    )


def downgrade() -> None:
    op.drop_table('personpreference')
