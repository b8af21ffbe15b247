"""private launches (issue 14)

Revision ID: i14_private
Revises: i13_capacity
"""
import sqlalchemy as sa
from alembic import op

revision = "i14_private"
down_revision = "i13_capacity"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("launch") as batch_op:
        batch_op.add_column(sa.Column("private", sa.Boolean(), nullable=False, server_default=sa.text("false")))


def downgrade() -> None:
    with op.batch_alter_table("launch") as batch_op:
        batch_op.drop_column("private")
