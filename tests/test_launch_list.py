"""`/launch list` filters, combined, with paging, through signed slash commands."""
from __future__ import annotations

import json
import re
from datetime import timedelta

from sqlalchemy import event
from sqlmodel import select

from bot.db import unit_of_work
from bot.services import lifecycle, portfolio
from models import Gate, Item, UserProfile
from tests.gate_support import open_launch, satisfy, vote


def slash(standin, bot, user: str, text: str) -> str:
    resp = standin.send_slash_command(bot.url, text=text, user_id=user, channel_id="C0GENERAL")
    assert resp.status_code == 200, resp.text
    return json.dumps(standin.reply(resp), ensure_ascii=False)  # the page comes after an empty ack


def keys(reply: str) -> list[str]:
    return re.findall(r"\*(LR-\d+)\*", reply)


def portfolio_of(rt, clock) -> dict[str, int]:
    ids = {
        "fr_product": open_launch(rt, clock, name="FR payouts", markets=("FR",)),
        "de_market": open_launch(rt, clock, kind="market", name="Germany entry", markets=("DE",), lead="ULEAD2"),
        "us_campaign": open_launch(rt, clock, kind="campaign", name="Spring promo", markets=("US",), owner="UMKT"),
        "fr_de_held": open_launch(rt, clock, name="Cards FR DE", markets=("FR", "DE")),
    }
    with unit_of_work(rt.ctx.engine) as session:
        lifecycle.hold(session, f"LR-{ids['fr_de_held']}", "ULEAD", "budget", now=clock())
        late = session.exec(select(Item).where(Item.launch_id == ids["us_campaign"], Item.required.is_(True))
                            .order_by(Item.due_at)).first()
        late.due_at = clock() - timedelta(days=1)  # setup: one overdue item
        session.add(late)
        session.add(UserProfile(user_id="ULEAD2", real_name="Lea Martin", tz="Europe/London"))
    satisfy(rt, clock, ids["fr_product"], 0)
    vote(rt, clock, next(g for g in _gates(rt, ids["fr_product"]) if g.position == 0), "ULEAD")
    return {name: f"LR-{i}" for name, i in ids.items()}


def _gates(rt, launch_id):
    with unit_of_work(rt.ctx.engine) as session:
        return list(session.exec(select(Gate).where(Gate.launch_id == launch_id)))


def test_filters_work_alone_and_combined(standin, bot, rt, clock):
    k = portfolio_of(rt, clock)
    everything = set(k.values())
    assert set(keys(slash(standin, bot, "UPM", "list"))) == everything
    assert set(keys(slash(standin, bot, "UPM", "list kind:market"))) == {k["de_market"]}
    assert set(keys(slash(standin, bot, "UPM", "list market:fr"))) == {k["fr_product"], k["fr_de_held"]}
    assert set(keys(slash(standin, bot, "UPM", "list state:held"))) == {k["fr_de_held"]}
    assert set(keys(slash(standin, bot, "UPM", "list state:open"))) == everything - {k["fr_de_held"]}
    assert set(keys(slash(standin, bot, "UPM", "list overdue"))) == {k["us_campaign"]}
    assert set(keys(slash(standin, bot, "UPM", "list gate:planning"))) == {k["fr_product"]}
    assert set(keys(slash(standin, bot, "UPM", "list gate:Discovery"))) == everything - {k["fr_product"]}
    assert set(keys(slash(standin, bot, "UPM", "list mine"))) == everything - {k["us_campaign"]}
    assert set(keys(slash(standin, bot, "UMKT", "list mine"))) == everything  # marketing owns items in each
    assert set(keys(slash(standin, bot, "UPM", "list lead:ULEAD2"))) == {k["de_market"]}
    assert set(keys(slash(standin, bot, "UPM", "list lead:<@ULEAD2|lea>"))) == {k["de_market"]}
    assert set(keys(slash(standin, bot, "UPM", "list lead:@lea.martin"))) == {k["de_market"]}
    assert set(keys(slash(standin, bot, "UPM", "list market:FR gate:discovery state:all"))) == {k["fr_de_held"]}
    assert keys(slash(standin, bot, "UPM", "list market:US kind:product")) == []
    none = slash(standin, bot, "UPM", "list market:US kind:product")
    assert "No launches matching" in none
    held = slash(standin, bot, "UPM", "list state:held")
    assert "on hold" in held
    late = slash(standin, bot, "UPM", "list overdue")
    assert "⚠️ 1 overdue" in late


def test_unknown_filters_and_people_are_explained(standin, bot, rt, clock):
    portfolio_of(rt, clock)
    assert "I don't understand `colour:red`" in slash(standin, bot, "UPM", "list colour:red")
    assert "I don't understand `kind:rocket`" in slash(standin, bot, "UPM", "list kind:rocket")
    assert "can't tell who `@nobody`" in slash(standin, bot, "UPM", "list lead:@nobody")


def test_long_lists_page_and_reads_do_not_grow_with_launches(standin, bot, rt, clock):
    for n in range(3):
        open_launch(rt, clock, name=f"Launch {n}", markets=("FR",))
    few = _statements(rt, clock)
    for n in range(3, 23):
        open_launch(rt, clock, name=f"Launch {n}", markets=("FR",))
    many = _statements(rt, clock)
    assert many == few  # a page costs the same few statements with 3 or 23 launches
    first = slash(standin, bot, "UPM", "list market:FR")
    assert len(keys(first)) == 20 and "Showing 1–20 of 23" in first
    assert "/launch list market:FR page:2" in first
    second = slash(standin, bot, "UPM", "list market:FR page:2")
    assert len(keys(second)) == 3 and "Showing 21–23 of 23" in second and "page:3" not in second
    assert set(keys(first)).isdisjoint(keys(second))
    assert len(json.loads(first)["blocks"]) <= 50


def _statements(rt, clock) -> int:
    seen: list[str] = []

    def count(conn, cursor, statement, *args):
        seen.append(statement)

    event.listen(rt.ctx.engine, "before_cursor_execute", count)
    try:
        with unit_of_work(rt.ctx.engine) as session:
            f = portfolio.parse(session, ["market:FR", "overdue", "state:all", "gate:discovery"])
            f.overdue = False
            portfolio.list_launches(session, "UPM", f, now=clock())
    finally:
        event.remove(rt.ctx.engine, "before_cursor_execute", count)
    return len(seen)



def test_a_bug_while_reading_the_page_is_an_apology_not_silence(standin, bot, monkeypatch):
    """The page is read after the ack (answered through the response_url): a failure there
    still answers the person, and is counted like any unhandled error."""
    from bot import metrics

    def unhandled() -> float:
        return sum(s.value for m in metrics.UNHANDLED_ERRORS.collect() for s in m.samples if s.name.endswith("_total"))

    def broken(*args, **kwargs):
        raise RuntimeError("a bug in the list")

    monkeypatch.setattr(portfolio, "list_launches", broken)
    before = unhandled()
    reply = slash(standin, bot, "UPM", "list")
    assert "Sorry, something went wrong on our side" in reply and "a bug in the list" not in reply
    assert unhandled() == before + 1
    assert standin.bot_response_errors == []
