"""The load of all launches together: forecasts stacked per queue and ISO week, one query, CLI output."""
from __future__ import annotations

import json

from sqlalchemy import event

from bot.capacity.config import load_queues
from bot.capacity.forecast import demands, requirement
from bot.cli import main
from bot.db import unit_of_work
from bot.services import answers, capacity
from models import Launch, LaunchStatus
from tests.conftest import ROOT
from tests.gate_support import LAUNCH_DATE, items_of, open_launch

EXAMPLE = load_queues(ROOT / "capacity.example.yaml")


def forecast(rt, clock, launch_id: int, weeks, aht="3", sl=("80", "20"), shrinkage="30") -> None:
    (item,) = [i for i in items_of(rt, launch_id) if i.answer_kind == "forecast"]
    values = {**{f"week{n}": str(w) for n, w in enumerate(weeks, 1)}, "aht": aht, "sl_percent": sl[0],
              "sl_seconds": sl[1], "shrinkage": shrinkage}
    with unit_of_work(rt.ctx.engine) as session:
        answers.answer(session, item.id, values, actor=item.owner_id, now=clock(), settings=rt.ctx.settings)


def test_two_launches_on_one_queue_are_stacked_before_erlang(rt, clock):
    first = open_launch(rt, clock, markets=("FR", "DE"), name="Payouts")
    second = open_launch(rt, clock, markets=("FR",), name="Cards")
    forecast(rt, clock, first, [8000, 8000, 8000, 6000, 5000, 4000])
    forecast(rt, clock, second, [3000, 3000, 2000, 2000, 1000, 1000])
    with unit_of_work(rt.ctx.engine) as session:
        cells = capacity.portfolio(session, EXAMPLE, LAUNCH_DATE, weeks=8)
    by = {(c.queue.id, c.iso_week): c for c in cells}
    fr = by[("fr-phone", "2027-W46")]
    # the single-number forecast is split over the launch's markets: 4000 to FR, 4000 to DE
    assert fr.contacts == 4000 + 3000 and fr.launches == 2 and fr.collision
    assert by[("de-phone", "2027-W46")].contacts == 4000 and not by[("de-phone", "2027-W46")].collision
    alone = [requirement(d, 1) for lid in (first, second)
             for d in demands(_answer(rt, lid), _markets(rt, lid), EXAMPLE) if d.queue.id == "fr-phone"]
    assert fr.required.fte < sum(r.fte for r in alone)      # economies of scale across launches
    assert fr.required.fte > max(r.fte for r in alone)
    assert ("fr-phone", "2027-W51") in by and ("fr-phone", "2027-W52") not in by   # week 6 is the last
    with unit_of_work(rt.ctx.engine) as session:
        session.get(Launch, second).status = LaunchStatus.CANCELLED
    with unit_of_work(rt.ctx.engine) as session:
        fr_after = {(c.queue.id, c.iso_week): c for c in capacity.portfolio(session, EXAMPLE, LAUNCH_DATE)}
    assert fr_after[("fr-phone", "2027-W46")].contacts == 4000


def _answer(rt, launch_id):
    return next(i.answer for i in items_of(rt, launch_id) if i.answer_kind == "forecast")


def _markets(rt, launch_id):
    with unit_of_work(rt.ctx.engine) as session:
        return session.get(Launch, launch_id).markets


def test_portfolio_reads_every_launch_in_one_statement(rt, clock):
    for n in range(6):
        forecast(rt, clock, open_launch(rt, clock, markets=("FR",), name=f"Launch {n}"), [1000] * 6)
    statements = []
    with unit_of_work(rt.ctx.engine) as session:
        listener = lambda *args: statements.append(args[2])  # noqa: E731
        event.listen(rt.ctx.engine, "before_cursor_execute", listener)
        try:
            cells = capacity.portfolio(session, EXAMPLE, LAUNCH_DATE)
        finally:
            event.remove(rt.ctx.engine, "before_cursor_execute", listener)
    assert len([s for s in statements if s.lstrip().upper().startswith("SELECT")]) == 1
    assert {c.contacts for c in cells if c.queue.id == "fr-phone"} == {6000}


def test_cli_table_csv_and_json(rt, clock, monkeypatch, capsys, settings):
    forecast(rt, clock, open_launch(rt, clock, markets=("FR",)), [8000, 8000, 8000, 6000, 5000, 4000])
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    monkeypatch.setenv("CAPACITY_FILE", str(ROOT / "capacity.example.yaml"))
    assert main(["capacity", "--from", "2027-11-15", "--weeks", "2", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [(r["queue"], r["week"], r["contacts"]) for r in data] == [("fr-phone", "2027-W46", 8000),
                                                                      ("fr-phone", "2027-W47", 8000)]
    assert data[0]["required_fte"] > 20 and data[0]["service_level"] >= 0.8 and data[0]["abandonment"] > 0
    assert main(["capacity", "--from", "2027-11-15", "--weeks", "1", "--queue", "fr-phone"]) == 0
    table = capsys.readouterr().out
    assert table.splitlines()[0].split()[:4] == ["queue", "week", "launches", "contacts"]
    assert "fr-phone  2027-W46" in table and "8,000" in table
    assert main(["capacity", "--from", "2027-11-15", "--format", "csv"]) == 0
    assert capsys.readouterr().out.startswith("queue,week,launches,contacts,required_fte")
    assert main(["capacity", "--queue", "nope"]) == 2
    assert "no queue 'nope'" in capsys.readouterr().err


def test_monday_capacity_steps_cost_the_same_statements_for_2_or_6_launches(rt, clock):
    from datetime import datetime, timedelta, timezone

    from bot.services import capacity_ticks
    from bot.services.context import TickReport

    def monday_statements(count: int) -> int:
        for n in range(count):
            forecast(rt, clock, open_launch(rt, clock, markets=("FR",), name=f"Launch {count}-{n}"), [1000] * 6)
        statements = []
        listener = lambda *args: statements.append(args[2])  # noqa: E731
        event.listen(rt.ctx.engine, "before_cursor_execute", listener)
        try:
            with unit_of_work(rt.ctx.engine) as session:
                monday = datetime(2027, 11, 29, 9, 0, tzinfo=timezone.utc) + timedelta(days=7 * (count > 2))
                for step in (capacity_ticks.send_actuals_prompts, capacity_ticks.send_capacity_digest):
                    step(session, rt.ctx, monday, TickReport())
        finally:
            event.remove(rt.ctx.engine, "before_cursor_execute", listener)
        return len([s for s in statements if s.lstrip().upper().startswith("SELECT")])

    assert monday_statements(2) == monday_statements(6)


def test_an_unknown_queue_is_refused_by_the_service_naming_the_queues(rt, clock, standin, bot):
    """The slash command and the CLI ask the same service: a queue capacity.yaml does not have
    is refused with the list of queues (the person's text escaped), not shown as an empty table."""
    import pytest

    from bot.services.errors import NotFound

    queues = load_queues(ROOT / "capacity.example.yaml")
    with unit_of_work(rt.ctx.engine) as session:
        with pytest.raises(NotFound, match="There is no queue 'a&lt;b'. Queues: .*fr-phone"):
            capacity.portfolio(session, queues, clock().date(), queue="a<b")
    rt.ctx.settings.capacity_file = str(ROOT / "capacity.example.yaml")
    reply = standin.send_slash_command(bot.url, text="capacity nope", user_id="UWFM").json()
    assert "There is no queue 'nope'. Queues:" in reply["text"] and "fr-phone" in reply["text"]
