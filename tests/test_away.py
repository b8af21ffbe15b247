"""Away and backups, and the weekly summary: people say how they want to be reminded, and the
reminder and escalation steps follow it (owner → role backup → readiness lead → launch owner)."""
from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlmodel import select

from bot import metrics
from bot.db import unit_of_work
from models import Item, PersonPreference
from tests.conftest import STAKEHOLDERS
from tests.flows import events, item, menu_value, modal_values, open_home, open_modal, outbox, text_of
from tests.test_daily_reminders import BUSY, reminders, seed, tick

BUSY_BERLIN = datetime(2027, 9, 20, 9, 0, tzinfo=timezone.utc)   # 11:00 in Berlin, Monday


@pytest.fixture
def stakeholders_file(tmp_path):
    path = tmp_path / "stakeholders.yaml"
    path.write_text(STAKEHOLDERS + "backups:\n  marketing: UTRAIN\n  readiness_lead: [ULEAD2]\n")
    return path


def slash(standin, bot, user: str, text: str) -> str:
    resp = standin.send_slash_command(bot.url, text=text, user_id=user, channel_id="C0GENERAL")
    assert resp.status_code == 200, resp.text
    return json.dumps(resp.json()) if resp.content.strip() else ""


def test_away_sends_the_reminders_to_the_roles_backup_who_may_answer(standin, bot, clock):
    launch_id, = seed(bot, clock, 1)
    clock.set(BUSY_BERLIN - timedelta(days=3))
    reply = slash(standin, bot, "UMKT", "away until 2027-09-24")
    assert "away through Fri 24 Sep 2027" in reply and "backup" in reply
    tick(bot, clock, BUSY_BERLIN)
    assert reminders(standin, "UMKT") == []                      # away: not nudged
    (covering,) = reminders(standin, "UTRAIN")                   # …their role's backup is
    assert "Covering for <@UMKT>" in text_of(covering)
    mine = [i for i in _items(bot, launch_id) if i.owner_id == "UMKT" and i.state == "open"
            and f'"q-{i.id}"' in text_of(covering)]
    assert mine and f"q-{mine[0].id}" in text_of(covering)
    # The backup may answer it straight from there (the service checks it, not only the button).
    standin.click(bot.url, "UTRAIN", covering, "item.menu", value=menu_value(mine[0].id, "na"))
    view = open_modal(standin, "UTRAIN", "item_reason")
    resp = standin.send_view_submission(bot.url, "UTRAIN", "item_reason",
                                        modal_values(view, {"reason": "No campaign in this market"}),
                                        view_id=view["id"])
    assert not resp.content.strip(b"{} \n"), resp.text
    assert item(bot.rt.ctx.engine, mine[0].id).state == "na"
    assert [e.actor for e in events(bot.rt.ctx.engine, "item.marked_na")] == ["UTRAIN"]
    (event,) = events(bot.rt.ctx.engine, "person.away")
    assert (event.actor, event.after) == ("UMKT", {"user": "UMKT", "away_until": "2027-09-24"})
    home = open_home(standin, bot, "UMKT")
    assert "Away through Fri 24 Sep 2027" in json.dumps(home)
    backup_home = json.dumps(open_home(standin, bot, "UTRAIN"))  # the backup sees what they cover
    assert "Covering for <@UMKT>" in backup_home
    # Back early: reminded again from the next pass on.
    assert "back" in slash(standin, bot, "UMKT", "away off")
    assert [e.after["away_until"] for e in events(bot.rt.ctx.engine, "person.back")] == [None]


def test_only_an_admin_sets_someone_else_away(standin, bot, clock):
    clock.set(BUSY)
    refused = slash(standin, bot, "UWFM", "away <@UMKT> until 2027-10-01")
    assert "Only admins" in refused
    assert [e.actor for e in events(bot.rt.ctx.engine, "refused.person.away")] == ["UWFM"]
    assert "<@UMKT> is away" in slash(standin, bot, "UADMIN", "away <@UMKT> until 2027-10-01")
    with unit_of_work(bot.rt.ctx.engine) as session:
        pref = session.get(PersonPreference, "UMKT")
        assert (pref.away_until, pref.away_set_by) == (date(2027, 10, 1), "UADMIN")
    assert "in the past" in slash(standin, bot, "UMKT", "away until 2027-01-01")
    assert "not a date" in slash(standin, bot, "UMKT", "away until someday")


def test_escalations_climb_the_ladder_past_an_away_lead(standin, bot, clock):
    seed(bot, clock, 2)
    clock.set(BUSY - timedelta(days=3))
    slash(standin, bot, "ULEAD", "away until 2027-09-30")
    tick(bot, clock, BUSY)
    assert reminders(standin, "ULEAD", "🚨") == []
    (message,) = reminders(standin, "ULEAD2", "🚨")             # the readiness lead's backup
    assert "as readiness lead" in text_of(message)
    assert {r.recipient for r in outbox(bot.rt.ctx.engine) if r.kind.startswith("escalation")} <= {"ULEAD2", "UPM"}


def test_an_away_lead_without_a_backup_escalates_to_the_launch_owner(standin, bot, clock):
    seed(bot, clock, 1)
    clock.set(BUSY - timedelta(days=3))
    slash(standin, bot, "ULEAD", "away until 2027-09-30")
    slash(standin, bot, "ULEAD2", "away until 2027-09-30")       # the backup is away too
    tick(bot, clock, BUSY)
    assert reminders(standin, "ULEAD", "🚨") == reminders(standin, "ULEAD2", "🚨") == []
    levels = [e.after["level"] for e in events(bot.rt.ctx.engine, "escalation.sent") if e.after["to"] == "UPM"]
    assert 1 in levels


def test_a_weekly_summary_keeps_far_items_for_monday(standin, bot, clock):
    near, far = seed(bot, clock, 2)
    engine = bot.rt.ctx.engine
    tuesday = BUSY_BERLIN + timedelta(days=1)
    with unit_of_work(engine) as session:  # the second launch's due items are due in three weeks
        moved = list(session.exec(select(Item).where(Item.launch_id == far, Item.owner_id == "UMKT",
                                                     Item.next_nudge_at <= tuesday)))
        for row in moved:
            row.due_at = tuesday + timedelta(days=21)
            session.add(row)
    assert moved
    clock.set(tuesday - timedelta(hours=2))
    home = open_home(standin, bot, "UMKT")
    assert "Daily reminders" in json.dumps(home)
    standin.click(bot.url, "UMKT", home, "person.summary")
    assert "Weekly summary" in json.dumps(open_home(standin, bot, "UMKT"))
    assert [e.after["summary_days"] for e in events(engine, "person.reminders_set")] == [5]
    tick(bot, clock, tuesday)
    (daily,) = reminders(standin, "UMKT")
    assert f"daily-{far}" not in text_of(daily) and "in 2 launches" not in daily["text"]  # only the overdue launch
    with unit_of_work(engine) as session:
        wake = {session.get(Item, i.id).next_nudge_at for i in moved}
    assert wake == {datetime(2027, 9, 27, tzinfo=timezone.utc)}  # next Monday's summary
    tick(bot, clock, BUSY_BERLIN + timedelta(days=7))
    summary = reminders(standin, "UMKT")[-1]
    assert "weekly readiness summary" in text_of(summary) and f"daily-{far}" in text_of(summary)


def _items(bot, launch_id: int) -> list[Item]:
    with unit_of_work(bot.rt.ctx.engine) as session:
        return list(session.exec(select(Item).where(Item.launch_id == launch_id).order_by(Item.id)))


def test_a_forged_summary_button_is_told_out_of_date_and_changes_nothing(standin, bot, clock):
    engine = bot.rt.ctx.engine
    before = _unhandled()
    for value in ("weekly lots", "hourly", ""):
        resp = standin.send_block_action(bot.url, "UMKT", "person.summary", value)
        assert resp.status_code == 200
    told = standin.wait_for(lambda: [e["text"] for e in standin.ephemerals(user="UMKT")]
                            if len(standin.ephemerals(user="UMKT")) >= 3 else None)
    assert all("out of date" in t for t in told)
    assert events(engine, "person.reminders_set") == []
    assert _unhandled() == before  # answered, not the last-resort error handler


def _unhandled() -> float:
    return sum(s.value for m in metrics.UNHANDLED_ERRORS.collect() for s in m.samples if s.name.endswith("_total"))
