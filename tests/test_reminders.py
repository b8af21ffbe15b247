"""Reminders by time travel: a launch opened today, then a scheduler pass every hour for two
weeks, asserting who is nudged, how often and at what local time — with time zones, a
public holiday, a snooze and escalations — plus what stops reminders.

These tests use a small checklist of their own (written below) so that due dates, and so
the exact reminder days, do not change when the shipped checklists are edited.
"""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from bot.db import unit_of_work
from bot.services import recipients
from bot.services.outbox import Kind
from bot.services.policy import WorkingHours
from bot.ticks import run_tick
from models import Item, ItemState, Launch, LaunchStatus, Nudge, OutboxMessage
from tests.flows import (
    deliver,
    dms,
    events,
    item,
    items,
    menu_value,
    modal_values,
    open_launch_via_slack,
    open_modal,
    outbox,
    prompt_for,
    text_of,
)

UTC = timezone.utc
TEMPLATE = """\
kind: product
version: 1
name: Reminder test launch
reminders:
  first_nudge_days: 2          # the template overrides the settings' default of 3
gates:
  - id: readiness
    name: Readiness
    offset: -6
    items:
      - {id: kb-article, owner: knowledge, answer: confirm, question: "Is the help article live?",
         action: Publish the article., why: Agents link it.}
      - {id: capacity, owner: wfm, answer: confirm, question: "Is launch week staffed?",
         action: Book the overtime., why: Queues spike.}
  - id: golive
    name: Go live
    offset: 0
    items:
      - {id: send-comms, owner: marketing, answer: confirm, question: "Are the launch emails scheduled?",
         action: Schedule the sends., why: Contacts follow sends.}
  - id: review
    name: Post-launch review
    offset: 5
    items:
      - {id: retro, owner: product_manager, answer: text, question: "What did we learn?",
         action: Write the retro., why: The next launch.}
"""


@pytest.fixture
def settings(settings, tmp_path):
    folder = tmp_path / "checklists"
    folder.mkdir()
    (folder / "product.yaml").write_text(TEMPLATE)
    return settings.model_copy(update={"checklists_dir": str(folder)})


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2027, 8, day, hour, minute, tzinfo=UTC)


def open_japan_launch(standin, bot):
    """Opened Mon 2 Aug 2027 in Japan: Readiness items fall due Thu 5 Aug, launch Mon 16 Aug.

    Wed 11 Aug is Mountain Day, a Japanese public holiday: a business day for nobody on
    this launch, whatever their own time zone.
    """
    launch = open_launch_via_slack(standin, bot, name="Payouts Japan", markets=("JP",),
                                   launch_date=datetime(2027, 8, 16).date())
    assert launch.reminder_policy["first_nudge_days"] == 2
    return launch


class Timeline:
    """Ticks the scheduler every hour and notes when each person got which kind of message."""

    def __init__(self, standin, bot, clock):
        self.standin, self.bot, self.clock = standin, bot, clock
        self.seen: dict[str, int] = {}
        self.got: dict[str, list[tuple[datetime, dict]]] = {}

    def watch(self, *channels_or_users: str) -> None:
        for who in channels_or_users:
            self.seen[who] = len(self._messages(who))
            self.got.setdefault(who, [])

    def _messages(self, who: str) -> list[dict]:
        return self.standin.messages(who if who.startswith("C") else self.standin.dm_channel_for(who))

    def run(self, until: datetime, actions: dict | None = None) -> None:
        actions = dict(actions or {})
        while self.clock() <= until:
            now = self.clock()
            run_tick(self.bot.rt.ctx, now)
            deliver(self.bot, now=now)
            for who in self.seen:
                messages = self._messages(who)
                self.got[who] += [(now, m) for m in messages[self.seen[who]:]]
                self.seen[who] = len(messages)
            if now in actions:
                actions.pop(now)()
                deliver(self.bot, now=now)
                for who in self.seen:  # what the action itself sent is not a reminder
                    self.seen[who] = len(self._messages(who))
            self.clock.advance(hours=1)

    def times(self, who: str, marker: str) -> list[datetime]:
        return [when for when, m in self.got[who] if marker in text_of(m)]

    def latest(self, who: str, marker: str) -> dict:
        return [m for _, m in self.got[who] if marker in text_of(m)][-1]


def test_two_weeks_of_reminders(standin, bot, clock):
    launch = open_japan_launch(standin, bot)
    engine = bot.rt.ctx.engine
    kb_item = items(engine, launch.id, owner_id="UKB")[0]
    timeline = Timeline(standin, bot, clock)
    timeline.watch("UKB", "UWFM", "UMKT", "ULEAD", "UPM", launch.channel_id)

    def wfm_snoozes_one_day():  # Wed 4 Aug, 10:00 in New York, from Wednesday's nudge
        nudge = timeline.latest("UWFM", "⏰")
        resp = standin.click(bot.url, "UWFM", nudge, "nudge.snooze:1d")
        assert resp.status_code == 200
        (confirmation,) = standin.wait_for(lambda: standin.ephemerals(user="UWFM"))
        assert "next reminder Fri 06 Aug 2027 09:00 EDT" in confirmation["text"]

    def kb_answers():  # Thu 12 Aug, 19:00 in Tokyo, from that morning's nudge
        nudge = timeline.latest("UKB", "⏰")
        assert standin.click(bot.url, "UKB", nudge, "item.done", value=str(kb_item.id)).status_code == 200

    timeline.run(until=at(16, 23), actions={at(4, 14): wfm_snoozes_one_day, at(12, 10): kb_answers})

    # Tokyo: 09:00 JST is 00:00 UTC. Every business day from 2 business days before the due
    # day (Tue 3), skipping the weekend and Mountain Day (Wed 11), until answered (Thu 12).
    assert timeline.times("UKB", "⏰") == [at(d, 0) for d in (3, 4, 5, 6, 9, 10, 12)]
    assert all(t.astimezone(ZoneInfo("Asia/Tokyo")).hour == 9 for t in timeline.times("UKB", "⏰"))
    # New York: 09:00 EDT is 13:00 UTC. Snoozed for a day on Wed 4: nothing on Thu 5.
    assert timeline.times("UWFM", "⏰") == [at(d, 13) for d in (3, 4, 6, 9, 10, 12, 13, 16)]
    # Berlin (07:00 UTC): the Go live item is due Mon 16, first nudged two business days
    # before — Thu 12, because Wed 11 is not a business day on this launch.
    assert timeline.times("UMKT", "⏰") == [at(d, 7) for d in (12, 13, 16)]
    # One grouped message per person and day, never one per item: both overdue items in one.
    (lead_time,) = timeline.times("ULEAD", "🚨")
    assert lead_time == at(9, 8)  # 2 business days overdue, 09:00 in London
    lead_message = text_of(timeline.latest("ULEAD", "🚨"))
    assert "<@UKB>" in lead_message and "<@UWFM>" in lead_message
    (owner_time,) = timeline.times("UPM", "🚨")
    assert owner_time == at(12, 7)  # 4 business days overdue (Mountain Day not counted), 09:00 in Paris
    owner_menus = [[o["text"]["text"] for o in b["accessory"]["options"]]
                   for b in timeline.latest("UPM", "🚨")["blocks"] if "accessory" in b]
    assert owner_menus and all(m == ["Reassign…", "Add a delegate…"] for m in owner_menus)  # waiving is the lead's
    # Digests: only once something is overdue (Fri 6 on), at 09:00 London, never on the holiday.
    assert timeline.times(launch.channel_id, "Daily digest") == [at(d, 8) for d in (6, 9, 10, 12, 13, 16)]
    digest = text_of(timeline.latest(launch.channel_id, "Daily digest"))
    assert "<@UWFM>" in digest and "Overdue (1)" in digest and "Readiness" in digest
    # The record: every reminder is in the audit trail.
    assert len(events(engine, "nudge.sent")) == 7 + 8 + 3
    assert [e.after["level"] for e in events(engine, "escalation.sent")] == [1, 2]
    assert len(events(engine, "digest.sent")) == 6
    assert len(events(engine, "snooze.set")) == 1


def escalations_to(standin, user: str) -> list[dict]:
    return [m for m in dms(standin, user) if "🚨" in text_of(m)]


def test_the_lead_reassigns_or_waives_straight_from_an_escalation(standin, bot, clock):
    launch = open_japan_launch(standin, bot)
    engine = bot.rt.ctx.engine
    kb_item = items(engine, launch.id, owner_id="UKB")[0]
    wfm_item = items(engine, launch.id, owner_id="UWFM")[0]
    for now in (at(9, 8), at(9, 9)):  # the first pass looks up time zones; 09:00 in London is 08:00 UTC
        clock.set(now)
        run_tick(bot.rt.ctx, now)
        deliver(bot, now=now)
    (escalation,) = escalations_to(standin, "ULEAD")
    menus = {b["block_id"]: [o["text"]["text"] for o in b["accessory"]["options"]]
             for b in escalation["blocks"] if b.get("accessory", {}).get("type") == "overflow"}
    assert menus == {f"overdue-{i.id}": ["Reassign…", "Add a delegate…", "Waive…"] for i in (kb_item, wfm_item)}

    standin.click(bot.url, "ULEAD", escalation, "item.menu", value=menu_value(wfm_item.id, "waive"))
    view = open_modal(standin, "ULEAD", "item_waive")
    standin.send_view_submission(bot.url, "ULEAD", "item_waive",
                                 modal_values(view, {"reason": "Covered by the shared support team"}),
                                 view_id=view["id"])
    standin.click(bot.url, "ULEAD", escalation, "item.menu", value=menu_value(kb_item.id, "reassign"))
    view = open_modal(standin, "ULEAD", "item_reassign")
    standin.send_view_submission(bot.url, "ULEAD", "item_reassign", modal_values(view, {"user": "UTRAIN"}),
                                 view_id=view["id"])
    deliver(bot, now=clock())
    waived, moved = item(engine, wfm_item.id), item(engine, kb_item.id)
    assert (waived.state, waived.waived_by) == (ItemState.WAIVED, "ULEAD")
    assert moved.owner_id == "UTRAIN" and moved.state == ItemState.OPEN
    assert [e.actor for e in events(engine, "item.waived")] == ["ULEAD"]
    assert [e.after["owner"] for e in events(engine, "item.reassigned")] == ["UTRAIN"]
    (updated,) = escalations_to(standin, "ULEAD")  # the same message, brought up to date in place
    assert updated["ts"] == escalation["ts"]
    assert [b["block_id"] for b in updated["blocks"] if "accessory" in b] == [f"overdue-{kb_item.id}"]
    assert "<@UTRAIN>" in text_of(updated)  # the waived item is gone; the reassigned one shows its new owner

    # Someone else holding the message (forwarded, say) is refused, and it is recorded.
    standin.click(bot.url, "UMKT", escalation, "item.menu", value=menu_value(kb_item.id, "waive"))
    refusal = standin.wait_for(lambda: standin.ephemerals(user="UMKT"))
    assert "readiness lead" in refusal[0]["text"] and item(engine, kb_item.id).state == ItemState.OPEN
    assert [e.actor for e in events(engine, "refused.waive")] == ["UMKT"]

    standin.click(bot.url, "UTRAIN", prompt_for(standin, bot, launch.id, "UTRAIN"), "item.done",
                  value=str(kb_item.id))
    deliver(bot, now=clock())
    (cleared,) = [m for m in dms(standin, "ULEAD") if m["ts"] == escalation["ts"]]
    assert "Nothing to chase" in text_of(cleared) and not escalations_to(standin, "ULEAD")
    assert not [b for b in cleared["blocks"] if "accessory" in b]


def test_nudges_group_items_and_come_once_a_day(standin, bot, clock):
    launch = open_japan_launch(standin, bot)
    engine = bot.rt.ctx.engine
    with unit_of_work(engine) as session:  # give UWFM the knowledge item too
        kb = session.get(Item, items(engine, launch.id, owner_id="UKB")[0].id)
        kb.owner_id = "UWFM"
        session.add(kb)
    clock.set(at(3, 13))
    for _ in range(3):  # three replicas' schedulers, or three ticks in the same minute
        run_tick(bot.rt.ctx, clock())
    deliver(bot)
    (nudge,) = [m for m in dms(standin, "UWFM") if "⏰" in text_of(m)]
    assert "2 items" in nudge["text"]
    assert {b.get("block_id") for b in nudge["blocks"]} >= {f"item-{i.id}" for i in items(engine, launch.id,
                                                                                          owner_id="UWFM")
                                                             if i.gate_id == kb.gate_id}
    with unit_of_work(engine) as session:
        assert len(session.exec(Nudge.__table__.select()).all()) == 1


def test_answering_from_a_nudge_updates_it_in_place(standin, bot, clock):
    launch = open_japan_launch(standin, bot)
    engine = bot.rt.ctx.engine
    clock.set(at(3, 13))
    run_tick(bot.rt.ctx, clock())
    deliver(bot)
    (nudge,) = [m for m in dms(standin, "UWFM") if "⏰" in text_of(m)]
    target = items(engine, launch.id, owner_id="UWFM")[0]
    standin.click(bot.url, "UWFM", nudge, "item.done", value=str(target.id))
    deliver(bot)
    (updated,) = [m for m in dms(standin, "UWFM") if "⏰" in text_of(m)]
    assert updated["ts"] == nudge["ts"] and "edited" in updated
    assert "All set" in text_of(updated) and "nudge.snooze" not in json.dumps(updated["blocks"])


@pytest.mark.parametrize("stop", ["answered", "waived", "blocked", "on_hold", "cancelled", "launched"])
def test_nothing_is_nudged_once_answered_waived_or_the_launch_stops(standin, bot, clock, stop):
    launch = open_japan_launch(standin, bot)
    engine = bot.rt.ctx.engine
    with unit_of_work(engine) as session:
        if stop in ("answered", "waived", "blocked"):
            for row in session.exec(Item.__table__.select().where(Item.launch_id == launch.id)).all():
                item = session.get(Item, row.id)
                item.state = {"answered": ItemState.DONE, "waived": ItemState.WAIVED,
                              "blocked": ItemState.BLOCKED}[stop]
                session.add(item)
        else:
            row = session.get(Launch, launch.id)
            row.status = LaunchStatus(stop)
            session.add(row)
    for hour in range(0, 24 * 8, 1):  # Tue 3 to Tue 10: nudge days, and overdue
        now = at(3, 0) + timedelta(hours=hour)
        report = run_tick(bot.rt.ctx, now)
        deliver(bot, now=now)
        assert not [line for line in report.lines if line.startswith("nudge")], report.lines
    assert outbox(engine, Kind.NUDGE) == []
    if stop == "blocked":  # a blocked item is not nudged, but the lead hears when it is overdue
        assert [r.recipient for r in outbox(engine, Kind.ESCALATION)] == ["ULEAD"]
    else:
        assert outbox(engine, Kind.ESCALATION) == []


def test_snooze_until_due_quiets_until_the_due_day(standin, bot, clock):
    open_japan_launch(standin, bot)
    clock.set(at(3, 13))
    run_tick(bot.rt.ctx, clock())
    deliver(bot)
    (nudge,) = [m for m in dms(standin, "UWFM") if "⏰" in text_of(m)]
    standin.click(bot.url, "UWFM", nudge, "nudge.snooze:due")
    assert "next reminder Thu 05 Aug 2027 09:00 EDT" in standin.wait_for(
        lambda: standin.ephemerals(user="UWFM"))[0]["text"]
    deliver(bot)
    (snoozed,) = [m for m in dms(standin, "UWFM") if "⏰" in text_of(m)]
    assert "Snoozed: next reminder Thu 05 Aug 2027 09:00 EDT" in text_of(snoozed)  # the nudge says so
    assert not [line for line in run_tick(bot.rt.ctx, at(4, 13)).lines if "UWFM" in line]
    assert [line for line in run_tick(bot.rt.ctx, at(5, 13)).lines if line.startswith("nudge UWFM")]


def test_outside_working_hours_a_nudge_waits_for_the_window(standin, bot, clock):
    open_japan_launch(standin, bot)
    run_tick(bot.rt.ctx, at(3, 11))  # 07:00 in New York
    assert not [r for r in outbox(bot.rt.ctx.engine, Kind.NUDGE) if r.recipient == "UWFM"]
    run_tick(bot.rt.ctx, at(3, 22, 30))  # 18:30: closed again
    assert not [r for r in outbox(bot.rt.ctx.engine, Kind.NUDGE) if r.recipient == "UWFM"]
    run_tick(bot.rt.ctx, at(4, 13, 5))  # next morning
    assert [r.recipient for r in outbox(bot.rt.ctx.engine, Kind.NUDGE) if r.recipient == "UWFM"] == ["UWFM"]


def test_an_unknown_time_zone_is_fetched_then_utc_if_slack_has_none(rt, standin):
    hours = WorkingHours.from_settings(rt.ctx.settings)
    with unit_of_work(rt.ctx.engine) as session:
        assert recipients.zone_for(session, "UWFM", at(3, 9)) is None  # asks Slack first
    rt.worker.drain(at(3, 9))
    with unit_of_work(rt.ctx.engine) as session:
        assert recipients.zone_for(session, "UWFM", at(3, 9)).key == "America/New_York"
        assert recipients.zone_for(session, "UNOBODY", at(3, 9)) is None
    rt.worker.drain(at(3, 9))  # users.info: user_not_found
    with unit_of_work(rt.ctx.engine) as session:
        assert recipients.zone_for(session, "UNOBODY", at(3, 9)).key == "UTC"
    assert recipients.is_working_time(at(3, 9).astimezone(ZoneInfo("UTC")), hours, ["JP"])
    assert not recipients.is_working_time(at(11, 9).astimezone(ZoneInfo("UTC")), hours, ["JP"])  # Mountain Day
    assert not recipients.is_working_time(at(7, 10).astimezone(ZoneInfo("UTC")), hours, [])  # Saturday
    assert not recipients.is_working_time(at(3, 17, 30).astimezone(ZoneInfo("UTC")), hours, [])  # closing time


def test_tick_changes_nothing_in_a_dry_run(standin, bot, clock):

    open_japan_launch(standin, bot)
    engine = bot.rt.ctx.engine
    run_tick(bot.rt.ctx, at(3, 0))  # fetch every zone first
    deliver(bot, now=at(3, 0))

    def counts():
        with unit_of_work(engine) as session:
            return {t: session.execute(t.__table__.select()).all() for t in (Item, OutboxMessage, Nudge)}

    before = counts()
    report = run_tick(bot.rt.ctx, at(3, 13), dry_run=True)
    assert [line.split(" (")[0] for line in report.lines if line.startswith("nudge")] == ["nudge UWFM"]
    assert counts() == before


def test_launchgate_tick_at_runs_one_pass_and_dry_run_changes_nothing(standin, bot, settings, monkeypatch, capsys):
    from sqlalchemy import func, select
    from sqlmodel import SQLModel

    from bot.cli import main

    open_japan_launch(standin, bot)
    engine = bot.rt.ctx.engine
    for name, value in {"DATABASE_URL": settings.database_url, "SLACK_BOT_TOKEN": settings.slack_bot_token,
                        "SLACK_SIGNING_SECRET": settings.slack_signing_secret, "SLACK_API_URL": standin.api_url,
                        "CHECKLISTS_DIR": settings.checklists_dir,
                        "STAKEHOLDERS_FILE": settings.stakeholders_file}.items():
        monkeypatch.setenv(name, value)

    def rows():
        with engine.connect() as conn:
            return {t.name: conn.execute(select(func.count()).select_from(t)).scalar()
                    for t in SQLModel.metadata.sorted_tables}

    before = rows()
    assert main(["tick", "--at", "2027-08-03T13:00Z", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "would nudge UWFM (Tue 03 Aug 09:00 America/New_York): LR-1 Payouts Japan — 1 item(s)" in out
    assert "nothing was changed" in out
    assert rows() == before
    assert not [m for m in dms(standin, "UWFM") if "⏰" in text_of(m)]

    # The same pass for real: --at is the clock for queueing and for delivery.
    assert main(["tick", "--at", "2027-08-03T13:00Z"]) == 0
    out = capsys.readouterr().out
    assert "nudge UWFM" in out and "sent 1" in out
    assert len([m for m in dms(standin, "UWFM") if "⏰" in text_of(m)]) == 1
    # At 07:00 in New York nothing is due yet for UWFM.
    assert main(["tick", "--at", "2027-08-04T11:00Z", "--dry-run"]) == 0
    assert "UWFM" not in capsys.readouterr().out
    assert main(["tick", "--at", "yesterday"]) == 2
    assert "ISO-8601" in capsys.readouterr().err


def test_the_in_process_scheduler_ticks_and_delivers(rt, standin):
    from apscheduler.jobstores.memory import MemoryJobStore

    from bot.scheduler import start_scheduler
    from bot.services.outbox import enqueue

    channel = standin.add_channel(name="team")
    scheduler = start_scheduler(rt)
    try:
        assert {job.id for job in scheduler.get_jobs()} == {"tick", "outbox-drain", "link-checks", "pending-clicks"}
        assert isinstance(scheduler._lookup_jobstore("default"), MemoryJobStore)  # never shared between replicas
        with unit_of_work(rt.ctx.engine) as session:
            enqueue(session, Kind.TEXT, channel, {"text": "hello from the outbox"})
        rt.kick()  # what a command does after queueing: deliver now, not at the next interval
        standin.wait_for(lambda: standin.messages(channel), timeout=5)
        assert [m["text"] for m in standin.messages(channel)] == ["hello from the outbox"]
    finally:
        scheduler.shutdown(wait=True)


def test_a_kick_while_the_worker_is_draining_is_delivered_at_once(rt, standin, monkeypatch):
    """A command committed while a drain runs (a Home opened, a Done click) is sent by that same
    job right after it, not skipped as "already running" until the next interval."""
    import threading

    from bot import scheduler as scheduling
    from bot.services.outbox import enqueue

    monkeypatch.setattr(scheduling, "DRAIN_SECONDS", 3600)  # the interval alone would never deliver it
    channel = standin.add_channel(name="team")
    drained, release = threading.Event(), threading.Event()
    real = rt.worker.drain_all

    def held(*args, **kw):
        report = real(*args, **kw)
        if not drained.is_set():  # the first drain found nothing and is still finishing up
            drained.set()
            release.wait(5)
        return report

    monkeypatch.setattr(rt.worker, "drain_all", held)
    scheduler = scheduling.start_scheduler(rt, first_tick_now=False)
    try:
        rt.kick()
        assert drained.wait(5)
        with unit_of_work(rt.ctx.engine) as session:
            enqueue(session, Kind.TEXT, channel, {"text": "queued during a drain"})
        rt.kick()
        release.set()
        standin.wait_for(lambda: standin.messages(channel), timeout=5)
    finally:
        release.set()
        scheduler.shutdown(wait=True)


def test_a_pass_that_ran_out_of_its_budget_is_followed_at_once_by_the_next(rt, standin, monkeypatch):
    """TICK_BUDGET_SECONDS: what a pass leaves is not left for TICK_SECONDS; the next pass starts
    at once and resumes where the last one stopped."""
    import threading

    from bot import scheduler as scheduling
    from bot.services.context import TickReport

    calls, done = [], threading.Event()

    def run_tick(ctx, budget=None, resume=None):
        calls.append((budget, dict(resume or {})))
        report = TickReport(resume={"reminders": f"U{len(calls)}"} if len(calls) < 3 else {})
        if len(calls) < 3:
            report.unfinished.append("reminders")
        else:
            done.set()
        return report

    monkeypatch.setattr(scheduling, "run_tick", run_tick)
    scheduler = scheduling.start_scheduler(rt)
    try:
        assert done.wait(5)  # the interval (TICK_SECONDS, 60 s) alone would take two minutes
    finally:
        scheduler.shutdown(wait=True)
    budget = rt.ctx.settings.tick_budget_seconds
    assert calls[:3] == [(budget, {}), (budget, {"reminders": "U1"}), (budget, {"reminders": "U2"})]
