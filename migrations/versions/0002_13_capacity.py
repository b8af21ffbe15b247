"""capacity: forecast actuals table; old single-number forecasts gain per-market rows

Revision ID: i13_capacity
Revises: 0001
"""
import json

import sqlalchemy as sa
from alembic import op

revision = "i13_capacity"
down_revision = "0001"
branch_labels = None
depends_on = None


_update = sa.text("UPDATE item SET answer = :a WHERE id = :i").bindparams(sa.bindparam("a", type_=sa.JSON))


def upgrade() -> None:
    op.create_table(
        "forecastactual",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("launch_id", sa.Integer(), nullable=False),
        sa.Column("queue", sa.String(length=64), nullable=False),
        sa.Column("week", sa.Integer(), nullable=False),
        sa.Column("contacts", sa.Float(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("entered_by", sa.String(length=32), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["launch_id"], ["launch.id"], name=op.f("fk_forecastactual_launch_id_launch")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_forecastactual")),
        sa.UniqueConstraint("launch_id", "queue", "week", name=op.f("uq_forecastactual_launch_id_queue_week")),
    )
    with op.batch_alter_table("forecastactual", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_forecastactual_launch_id"), ["launch_id"], unique=False)
    _split_old_forecasts()


def _split_old_forecasts() -> None:
    """A forecast stored as one set of six numbers for the whole launch gets a row per market
    (split evenly, the remainder to the first market), so it reads as a per-queue forecast:
    each market's row goes to that market's first queue in capacity.yaml."""
    conn = op.get_bind()
    rows = conn.execute(sa.text(
        "SELECT item.id, item.answer, launch.markets FROM item JOIN launch ON launch.id = item.launch_id "
        "WHERE item.answer_kind = 'forecast' AND item.answer IS NOT NULL")).all()
    for item_id, answer, markets in rows:
        answer = json.loads(answer) if isinstance(answer, str) else answer
        markets = json.loads(markets) if isinstance(markets, str) else markets
        if not isinstance(answer, dict) or "queues" in answer or not markets:
            continue
        weeks = [int(w or 0) for w in answer.get("weekly_contacts") or []]
        shares = [[w // len(markets) for w in weeks] for _ in markets]
        for k, w in enumerate(weeks):
            shares[0][k] += w - sum(s[k] for s in shares)
        answer["queues"] = [{"market": m, "queue": None, "weekly_contacts": s,
                             "aht_minutes": answer.get("aht_minutes")} for m, s in zip(markets, shares)]
        conn.execute(_update, {"a": answer, "i": item_id})


def downgrade() -> None:
    conn = op.get_bind()
    rows = conn.execute(sa.text("SELECT id, answer FROM item WHERE answer_kind = 'forecast' "
                                "AND answer IS NOT NULL")).all()
    for item_id, answer in rows:
        answer = json.loads(answer) if isinstance(answer, str) else answer
        if isinstance(answer, dict) and "queues" in answer:
            answer.pop("queues")
            conn.execute(_update, {"a": answer, "i": item_id})
    with op.batch_alter_table("forecastactual", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_forecastactual_launch_id"))
    op.drop_table("forecastactual")
