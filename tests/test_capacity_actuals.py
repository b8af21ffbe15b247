"""Actuals after launch: CSV import all-or-nothing with line and reason, and the accuracy it gives."""
from __future__ import annotations

import pytest
from sqlmodel import func, select

from bot.capacity.accuracy import accuracy, trend
from bot.capacity.config import Queues
from bot.cli import main
from bot.db import unit_of_work
from bot.services import actuals
from models import AuditEvent, ForecastActual
from tests.test_capacity_gate import FORECAST, _answer, _item
from tests.gate_support import open_launch


def test_wape_bias_and_per_week_error():
    acc = accuracy([8000, 8000, 8000, 6000, 5000, 4000], {1: 10000, 2: 9000, 3: 6000})
    assert [round(w.error, 3) for w in acc.weeks] == [0.25, 0.125, -0.25]
    assert acc.wape == pytest.approx((2000 + 1000 + 2000) / 25000)
    assert acc.bias == pytest.approx((24000 - 25000) / 25000) and acc.direction == "under-forecast"
    assert acc.accuracy == pytest.approx(0.8)
    assert accuracy([0] * 6, {1: 50}).weeks[0].error is None            # nothing forecast: no percentage
    assert accuracy([100] * 6, {}).wape is None and accuracy([100] * 6, {}).direction == "no actuals yet"
    assert trend([0.4, 0.35, 0.2, 0.1]) == "improving" and trend([0.1, 0.3]) == "too few launches"


def _count(rt):
    with unit_of_work(rt.ctx.engine) as session:
        return session.exec(select(func.count()).select_from(ForecastActual)).one()


def test_csv_import_is_all_or_nothing_with_line_and_reason(rt, clock, tmp_path, monkeypatch, capsys, settings):
    launch_id = open_launch(rt, clock, markets=("FR",))
    _answer(rt, clock, _item(rt, launch_id, "forecast"), FORECAST)
    other = open_launch(rt, clock, markets=("DE",), name="No forecast")
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    bad = tmp_path / "bad.csv"
    bad.write_text("launch,queue,week,contacts\n"
                   f"LR-{launch_id},fr-default,1,9000\n"
                   "LR-999,fr-default,1,10\n"
                   f"LR-{launch_id},de-default,1,10\n"
                   f"LR-{launch_id},fr-default,7,10\n"
                   f"LR-{launch_id},fr-default,6,10\n"
                   f"LR-{launch_id},fr-default,2,lots\n"
                   f"LR-{launch_id},fr-default,1,9100\n"
                   f"LR-{other},de-default,1,10\n"
                   f"LR-{launch_id},fr-default\n")
    assert main(["actuals", "import", str(bad), "--today", "2027-12-06"]) == 1
    err = capsys.readouterr().err
    for expected in ("line 3: no launch LR-999", "line 4: ", "'de-default'", "line 5: week must be 1 to 6",
                     "line 6: week 6 of", "it has no actuals yet", "line 7: contacts must be a number",
                     "line 8: ", "is already on line 2", f"line 9: LR-{other} has no answered forecast",
                     "line 10: expected 4 columns", "8 problem(s); nothing was imported"):
        assert expected in err
    assert _count(rt) == 0
    good = tmp_path / "good.csv"
    good.write_text("launch,queue,week,contacts\n"
                    f"LR-{launch_id},fr-default,1,10000\n{launch_id},fr-default,2,9000\n"
                    f"LR-{launch_id},fr-default,3,6000\n")
    assert main(["actuals", "import", str(good), "--today", "2027-12-06", "--as", "UWFM"]) == 0
    assert "3 row(s) read, 3 actual(s) new or changed" in capsys.readouterr().out
    with unit_of_work(rt.ctx.engine) as session:
        acc = actuals.accuracies(session, [launch_id], Queues({}, configured=False))[launch_id]
        assert acc.forecaster == "UMKT" and acc.total.wape == pytest.approx(0.2)
    good.write_text(f"launch,queue,week,contacts\nLR-{launch_id},fr-default,1,10500\n")
    assert main(["actuals", "import", str(good), "--today", "2027-12-06"]) == 0
    with unit_of_work(rt.ctx.engine) as session:
        events = session.exec(select(AuditEvent).where(AuditEvent.action == "actuals.recorded")
                              .order_by(AuditEvent.id)).all()
    assert events[-1].after["rows"] == [{"queue": "fr-default", "week": 1, "before": 10000, "contacts": 10500}]
    assert _count(rt) == 3


def test_track_record_per_forecaster(rt, clock, monkeypatch, capsys, settings):
    launch_id = open_launch(rt, clock, markets=("FR",))
    _answer(rt, clock, _item(rt, launch_id, "forecast"), FORECAST)
    with unit_of_work(rt.ctx.engine) as session:
        actuals.record_many(session, [actuals.Actual(launch_id, "fr-default", 1, 6000)], source="slack",
                            actor="UWFM", now=clock())
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    assert main(["forecasts"]) == 0
    out = capsys.readouterr().out
    assert "UMKT" in out and f"LR-{launch_id}" in out and "WAPE 33.3%" in out and "over-forecast" in out


def test_accuracy_item_is_computed_and_belongs_to_the_forecaster(rt, clock):
    from bot.services import answers
    from bot.services.errors import Conflict
    from tests.gate_support import items_of

    launch_id = open_launch(rt, clock, markets=("FR",))
    accuracy_item = _item(rt, launch_id, "accuracy")
    variance = next(i for i in items_of(rt, launch_id) if i.item_key == "forecast-variance")
    _answer(rt, clock, _item(rt, launch_id, "forecast"), FORECAST, actor="UPM")   # the launch owner answers it, not marketing
    owners = {i.id: i.owner_id for i in items_of(rt, launch_id)}
    assert owners[accuracy_item.id] == "UPM" and owners[variance.id] == "UPM"
    with pytest.raises(Conflict, match="no actual contacts yet"):
        with unit_of_work(rt.ctx.engine) as session:
            answers.answer(session, accuracy_item.id, {"value": "110"}, actor="UPM", now=clock(),
                           settings=rt.ctx.settings)
    with unit_of_work(rt.ctx.engine) as session:
        actuals.record_many(session, [actuals.Actual(launch_id, "fr-default", 1, 10000),
                                      actuals.Actual(launch_id, "fr-default", 2, 6000)],
                            source="slack", actor="UWFM", now=clock())
    with unit_of_work(rt.ctx.engine) as session:
        answers.answer(session, accuracy_item.id, {"value": "999"}, actor="UPM", now=clock(),
                       settings=rt.ctx.settings)
    saved = next(i for i in items_of(rt, launch_id) if i.id == accuracy_item.id)
    assert saved.answer["wape"] == pytest.approx(4000 / 16000)            # typed figures are ignored
    assert saved.answer["bias"] == 0 and [w["error"] for w in saved.answer["weeks"]] == [0.25, -0.25]
