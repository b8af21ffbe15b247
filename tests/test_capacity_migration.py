"""Old single-number forecasts keep working: the migration gives them per-market rows."""
from __future__ import annotations

from datetime import date

from sqlalchemy import text

from bot.capacity.config import load_queues
from bot.capacity.forecast import demands
from bot.db import downgrade, make_engine, migrate
from tests.conftest import ROOT

OLD = '{"weekly_contacts": [8000, 8000, 8000, 6000, 5001, 4000], "aht_minutes": 3, "sl_percent": 80, ' \
      '"sl_seconds": 20, "shrinkage_percent": 30}'


def test_old_forecast_is_split_per_market_and_back(db_url):
    downgrade(db_url, "0001")
    engine = make_engine(db_url)
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO launch (id, name, kind, markets, launch_date, template_kind, template_version, owner_id, "
            "readiness_lead_id, brief, status, created_at, updated_at, reminder_policy) VALUES (1, 'Old', 'product', "
            "'[\"FR\", \"DE\"]', :d, 'product', 1, 'UPM', 'ULEAD', '', 'open', :t, :t, '{}')"),
            {"d": date(2027, 11, 15), "t": "2027-08-02 08:00:00"})
        conn.execute(text(
            "INSERT INTO gate (id, launch_id, gate_key, name, position, offset_business_days, due_at, status, "
            "approver_role, quorum, allow_self_approval, fast_path, review_round) VALUES (1, 1, 'planning', "
            "'Planning', 1, -30, :t, 'pending', 'readiness_lead', 'any', false, false, 0)"),
            {"t": "2027-08-02 08:00:00"})
        conn.execute(text(
            "INSERT INTO item (id, launch_id, gate_id, item_key, question, action, why, owner_role, answer_kind, "
            "required, due_offset_business_days, due_at, state, answer, escalation_level) VALUES (1, 1, 1, "
            "'contact-volume-forecast', 'q', '', '', 'marketing', 'forecast', true, 0, :t, 'done', :a, 0)"),
            {"t": "2027-08-02 08:00:00", "a": OLD})
    migrate(db_url)
    with engine.connect() as conn:
        raw = conn.execute(text("SELECT answer FROM item WHERE id = 1")).scalar_one()
    answer = raw if isinstance(raw, dict) else __import__("json").loads(raw)
    assert answer["weekly_contacts"] == [8000, 8000, 8000, 6000, 5001, 4000]   # the total stays as it was
    assert answer["queues"] == [
        {"market": "FR", "queue": None, "weekly_contacts": [4000, 4000, 4000, 3000, 2501, 2000], "aht_minutes": 3},
        {"market": "DE", "queue": None, "weekly_contacts": [4000, 4000, 4000, 3000, 2500, 2000], "aht_minutes": 3}]
    queues = load_queues(ROOT / "capacity.example.yaml")
    rows = {d.queue.id: d for d in demands(answer, ["FR", "DE"], queues)}
    assert rows["fr-phone"].weekly_contacts[4] == 2501 and rows["de-phone"].sl_target == 0.8
    downgrade(db_url, "0001")
    with engine.connect() as conn:
        raw = conn.execute(text("SELECT answer FROM item WHERE id = 1")).scalar_one()
    assert "queues" not in (raw if isinstance(raw, dict) else __import__("json").loads(raw))
    migrate(db_url)
    engine.dispose()
