"""`/launch edit LR-1`: moving the launch date moves every open due date (business days,
holidays of every market skipped), and each owner hears once about what moved."""
from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta, timezone

import pytest

from bot.db import unit_of_work
from models import Item, ItemState
from tests.flows import deliver, dms, events, items, modal_values, open_launch_via_slack, open_modal, text_of

# FR and DE public holidays on weekdays between now and the launch: All Saints, Armistice (FR).
HOLIDAYS = {date(2027, 11, 1), date(2027, 11, 11)}


def shift(day: date, offset: int) -> date:
    """Business days from `day`, counted by hand for FR+DE (independent of the bot's calendar)."""
    step = 1 if offset > 0 else -1
    while day.weekday() >= 5 or day in HOLIDAYS:  # offset 0 on a non-business day: the day before
        day -= timedelta(days=1)
    for _ in range(abs(offset)):
        day += timedelta(days=step)
        while day.weekday() >= 5 or day in HOLIDAYS:
            day += timedelta(days=step)
    return day


def due(day: date) -> datetime:
    return datetime.combine(day, time(17, 0), tzinfo=timezone.utc)


@pytest.fixture
def launch(standin, bot):
    return open_launch_via_slack(standin, bot)  # FR + DE, launching Mon 15 Nov 2027


def edit(standin, bot, user, key="LR-1"):
    return standin.send_slash_command(bot.url, text=f"edit {key}", user_id=user, channel_id="C0GENERAL")


def submit_date(standin, bot, user, new_date: date, reason: str | None = None):
    view = open_modal(standin, user, "launch_edit")
    entries = {"launch_date": new_date.isoformat()} | ({"reason": reason} if reason else {})
    return standin.send_view_submission(bot.url, user, "launch_edit", modal_values(view, entries),
                                        view_id=view["id"])


def test_moving_the_date_moves_every_open_due_date_and_tells_each_owner_once(standin, bot, launch):
    engine = bot.rt.ctx.engine
    answered = items(engine, launch.id, owner_id="UWFM")[0]
    with unit_of_work(engine) as session:
        row = session.get(Item, answered.id)
        row.state = ItemState.DONE
        session.add(row)
    before = {i.id: i for i in items(engine, launch.id)}
    dms_before = {p: len(dms(standin, p)) for p in ("UWFM", "UMKT", "UKB", "UCONTENTFR", "UTRAIN")}

    assert edit(standin, bot, "UPM").status_code == 200
    modal = open_modal(standin, "UPM", "launch_edit")
    picker = next(b for b in modal["blocks"] if b["block_id"] == "launch_date")
    assert picker["element"]["initial_date"] == "2027-11-15"
    resp = submit_date(standin, bot, "UPM", date(2027, 11, 22), reason="Legal review <!here>")
    assert not resp.content.strip(b"{} \n")
    deliver(bot)

    after = {i.id: i for i in items(engine, launch.id)}
    for item_id, item in after.items():
        if item_id == answered.id:
            assert item.due_at == before[item_id].due_at  # answered: keeps the date it was answered against
        else:
            assert item.due_at == due(shift(date(2027, 11, 22), item.due_offset_business_days)), item.item_key
    moved_owners = {i.owner_id for i in after.values() if i.id != answered.id and i.due_at != before[i.id].due_at}
    for person, count in dms_before.items():
        new = dms(standin, person)[count:]
        if person in moved_owners:
            (message,) = new  # one message, listing every moved item
            mine = [i for i in after.values() if i.owner_id == person and i.due_at != before[i.id].due_at]
            assert text_of(message).count("→") == min(len(mine), 15)
            assert "Legal review &lt;!here&gt;" in text_of(message)
        else:
            assert new == []
    notes = [m for m in standin.messages(launch.channel_id) if "moved the launch date" in text_of(m)]
    assert len(notes) == 1 and "Mon 22 Nov 2027" in text_of(notes[0])
    (event,) = events(engine, "launch.date_changed")
    assert event.actor == "UPM" and event.before == {"launch_date": "2027-11-15"}
    assert event.after["launch_date"] == "2027-11-22" and event.note == "Legal review <!here>"
    assert not any(c.mentions_broadcast for c in standin.calls)


def test_an_item_before_a_holiday_skips_it(standin, bot, launch):
    """Go/No-go items 3 business days before Mon 15 Nov are due Tue 9 Nov (Armistice on Thu 11)."""
    engine = bot.rt.ctx.engine
    near = [i for i in items(engine, launch.id) if i.due_offset_business_days == -3]
    assert near and all(i.due_at == due(date(2027, 11, 9)) for i in near)
    edit(standin, bot, "ULEAD")
    submit_date(standin, bot, "ULEAD", date(2027, 11, 16))
    assert all(item.due_at == due(date(2027, 11, 10)) for item in items(engine, launch.id)
               if item.due_offset_business_days == -3)  # Wed 10, still not Thu 11


def test_the_prompt_shows_the_new_dates(standin, bot, launch):
    from tests.flows import prompt_for

    before = prompt_for(standin, bot, launch.id, "UWFM")
    edit(standin, bot, "UPM")
    submit_date(standin, bot, "UPM", date(2027, 12, 6))
    deliver(bot)
    after = prompt_for(standin, bot, launch.id, "UWFM")
    assert after["ts"] == before["ts"] and text_of(after) != text_of(before)
    first = items(bot.rt.ctx.engine, launch.id, owner_id="UWFM")[0]
    assert first.due_at.strftime("%a %d %b %Y") in text_of(after)


def test_only_the_launch_owner_or_a_lead_may_move_it(standin, bot, launch):
    resp = edit(standin, bot, "UWFM").json()
    assert "Only the launch owner (<@UPM>) or a readiness lead" in json.dumps(resp)
    assert standin.views("UWFM") == []
    (refusal,) = events(bot.rt.ctx.engine, "refused.launch.edit")
    assert refusal.actor == "UWFM"
    missing = standin.send_slash_command(bot.url, text="edit", user_id="UPM", channel_id="C0G").json()
    assert "/launch edit LR-12" in json.dumps(missing)
    unknown = edit(standin, bot, "UPM", key="LR-99").json()
    assert "No launch LR-99" in json.dumps(unknown)


@pytest.mark.parametrize("new_date,needle", [
    (date(2027, 8, 1), "future"),
    (date(2027, 11, 15), "already launches"),
    (date(2027, 8, 10), "Too close"),
])
def test_bad_dates_are_refused_in_the_modal(standin, bot, launch, new_date, needle):
    before = [(i.id, i.due_at) for i in items(bot.rt.ctx.engine, launch.id)]
    edit(standin, bot, "UPM")
    body = submit_date(standin, bot, "UPM", new_date).json()
    assert body["response_action"] == "errors" and needle in body["errors"]["launch_date"]
    assert [(i.id, i.due_at) for i in items(bot.rt.ctx.engine, launch.id)] == before
    assert events(bot.rt.ctx.engine, "launch.date_changed") == []


def test_reminders_follow_the_new_dates(standin, bot, launch):
    engine = bot.rt.ctx.engine
    edit(standin, bot, "UPM")
    submit_date(standin, bot, "UPM", date(2027, 12, 6))
    for item in items(engine, launch.id, state=ItemState.OPEN):
        if item.required:
            assert item.next_nudge_at.date() == shift(item.due_at.date(), -launch.reminder_policy["first_nudge_days"])
