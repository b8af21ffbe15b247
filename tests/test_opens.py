"""Items and gates that only make sense near or after the launch date open at a template-given
offset (`opens`, docs/checklists.md): before it they cannot be answered — in Slack, on the Home
tab or over the answering API — nor decided, and they are not nudged (issue 11)."""
from __future__ import annotations

import json
from datetime import date, datetime, timezone

import pytest
from sqlmodel import select

from bot.db import unit_of_work
from bot.services import decisions, launch_edit
from bot.services.errors import Conflict
from bot.services.outbox import Kind
from bot.services.templates import TemplateError, load_templates
from bot.ticks import run_tick
from models import AuditEvent, Item, ItemState
from tests.flows import deliver, item, open_launch_via_slack, outbox, prompt_for
from tests.gate_support import gate_at, open_launch
from tests.test_answer_api import api, make_token, post  # noqa: F401  (api is a fixture)

UTC = timezone.utc
TEMPLATE = """\
kind: product
version: 1
name: Opening test launch
reminders: {first_nudge_days: 3}
gates:
  - id: readiness
    name: Readiness
    offset: -6
    items:
      - {id: kb-article, owner: knowledge, question: "Is the help article live?", action: Publish it., why: Agents link it.}
  - id: go-no-go
    name: Go/No-go
    offset: -1
    opens: -2
    items:
      - {id: war-room, owner: wfm, question: "Is the war room open?", action: Open it., why: Launch day needs it.}
      - {id: open-risks, owner: wfm, answer: text, opens: -1, question: "Which risks are open?",
         action: List them., why: The decision needs them.}
  - id: review
    name: Post-launch review
    offset: 5
    opens: 1
    items:
      - {id: retro, owner: product_manager, answer: text, question: "What did we learn?", action: Write it., why: The next launch.}
"""
LAUNCH = date(2027, 8, 16)  # a Monday; opened Mon 2 Aug (the test clock), in France


@pytest.fixture
def settings(settings, tmp_path):
    folder = tmp_path / "checklists"
    folder.mkdir()
    (folder / "product.yaml").write_text(TEMPLATE)
    return settings.model_copy(update={"checklists_dir": str(folder)})


def by_key(engine, launch_id: int, key: str) -> Item:
    with unit_of_work(engine) as session:
        return session.exec(select(Item).where(Item.launch_id == launch_id, Item.item_key == key)).one()


def test_opening_times_follow_the_template_in_business_days(standin, bot):
    launch = open_launch_via_slack(standin, bot, markets=("FR",), launch_date=LAUNCH, opened=False)
    engine = bot.rt.ctx.engine
    assert by_key(engine, launch.id, "war-room").opens_at == datetime(2027, 8, 12, tzinfo=UTC)   # Thu: -2
    assert by_key(engine, launch.id, "open-risks").opens_at == datetime(2027, 8, 13, tzinfo=UTC)  # its own -1
    assert by_key(engine, launch.id, "retro").opens_at == datetime(2027, 8, 17, tzinfo=UTC)      # Tue: +1
    assert by_key(engine, launch.id, "kb-article").opens_at is None


def test_a_locked_item_says_when_it_opens_and_refuses_a_click_until_then(standin, bot, clock):
    launch = open_launch_via_slack(standin, bot, markets=("FR",), launch_date=LAUNCH, opened=False)
    engine = bot.rt.ctx.engine
    target = by_key(engine, launch.id, "war-room")
    prompt = prompt_for(standin, bot, launch.id, "UWFM")
    shown = json.dumps(prompt["blocks"], ensure_ascii=False)
    assert "🔒 Opens Thu 12 Aug" in shown  # the button's state, not Done

    resp = standin.click(bot.url, "UWFM", prompt, "item.done", value=str(target.id))
    assert resp.status_code == 200
    standin.wait_for(lambda: standin.ephemerals(user="UWFM"))
    said = standin.ephemerals(user="UWFM")[-1]["text"]
    assert "Not yet" in said and "Thu 12 Aug 2027 (2 business days before launch)" in said
    assert item(engine, target.id).state == ItemState.OPEN
    with unit_of_work(engine) as session:
        assert not session.exec(select(AuditEvent).where(AuditEvent.action == "item.answered")).all()

    clock.set(datetime(2027, 8, 12, 8, 0, tzinfo=UTC))  # the same button, once it has opened
    standin.click(bot.url, "UWFM", prompt, "item.done", value=str(target.id))
    deliver(bot)
    assert item(engine, target.id).state == ItemState.DONE


def test_no_nudge_before_an_item_opens(standin, bot, clock):
    """war-room is due Fri 13 Aug: three business days before would be Tue 10, but it opens Thu 12."""
    launch = open_launch_via_slack(standin, bot, markets=("FR",), launch_date=LAUNCH, opened=False)
    engine = bot.rt.ctx.engine
    for hour in range(24 * 7, 24 * 11):  # Mon 9 Aug 00:00 to Thu 12 Aug 23:00, every hour
        now = datetime(2027, 8, 2, tzinfo=UTC).replace(day=2 + hour // 24, hour=hour % 24)
        clock.set(now)
        run_tick(bot.rt.ctx, now)
        deliver(bot, now=now)
        nudged = [row.created_at for row in outbox(engine, Kind.NUDGE) if row.recipient == "UWFM"]
        assert all(at >= datetime(2027, 8, 12, tzinfo=UTC) for at in nudged), (now, nudged)
    assert [row for row in outbox(engine, Kind.NUDGE) if row.recipient == "UWFM"]  # then it comes
    assert [row for row in outbox(engine, Kind.NUDGE) if row.recipient == "UKB"]  # open items as before
    assert by_key(engine, launch.id, "war-room").state == ItemState.OPEN


def test_the_answering_api_refuses_an_item_not_yet_open(rt, clock, api):  # noqa: F811
    token = make_token(rt, clock, roles=("wfm",))
    launch_id = open_launch(rt, clock, opened=False)
    resp = post(api, launch_id, "open-risks", {"value": "none"}, token)
    assert resp.status_code == 409, resp.text
    assert "Not yet" in resp.json()["message"] and "1 business day before launch" in resp.json()["message"]
    assert by_key(rt.ctx.engine, launch_id, "open-risks").state == ItemState.OPEN


def test_a_gate_is_not_decided_before_it_opens(rt, clock):
    launch_id = open_launch(rt, clock, opened=False)  # Mon 15 Nov 2027, FR + DE
    gate = gate_at(rt, launch_id, 1)
    with unit_of_work(rt.ctx.engine) as session, pytest.raises(Conflict, match="Go/No-go can be decided from"):
        decisions.check(session, gate.id, gate.review_round, "ULEAD", clock())


def test_moving_the_launch_date_moves_the_openings(rt, clock):
    launch_id = open_launch(rt, clock, opened=False)
    before = by_key(rt.ctx.engine, launch_id, "war-room").opens_at
    with unit_of_work(rt.ctx.engine) as session:
        launch_edit.change_date(session, launch_id, date(2027, 11, 22), actor="UPM", now=clock(),
                                settings=rt.ctx.settings)
    after = by_key(rt.ctx.engine, launch_id, "war-room")
    assert after.opens_at == datetime(2027, 11, 18, tzinfo=UTC) and before == datetime(2027, 11, 10, tzinfo=UTC)
    assert after.next_nudge_at >= after.opens_at
    assert gate_at(rt, launch_id, 1).opens_at == after.opens_at


def test_an_opening_after_the_due_date_is_a_template_fault(tmp_path):
    bad = TEMPLATE.replace("    opens: -2\n", "    opens: 0\n").replace("opens: -1,", "opens: 2,")
    (tmp_path / "product.yaml").write_text(bad)
    with pytest.raises(TemplateError) as caught:
        load_templates(tmp_path)
    faults = "\n".join(str(f) for f in caught.value.faults)
    assert "gate go-no-go: opens 0 is after the gate is due (-1)" in faults
    assert "item open-risks: opens 2 is after the item is due (-1)" in faults
