"""What follows a change is derived once, at commit (bot/services/effects.py): only the
messages that can show something, each once, written last in the transaction."""
from __future__ import annotations

from sqlmodel import select

from bot.db import unit_of_work
from bot.services import answers, changes, effects
from models import OutboxMessage
from tests.flows import deliver, items, open_home, open_launch_via_slack


def _new_rows(engine, after: int) -> list[OutboxMessage]:
    with unit_of_work(engine) as session:
        return list(session.exec(select(OutboxMessage).where(OutboxMessage.id > after).order_by(OutboxMessage.id)))


def _last_id(engine) -> int:
    rows = _new_rows(engine, 0)
    return rows[-1].id if rows else 0


def _confirm_item(bot, launch):
    return next(i for i in items(bot.rt.ctx.engine, launch.id) if i.answer_kind == "confirm" and i.owner_id == "UWFM")


def test_a_done_click_queues_only_what_can_be_sent(standin, bot):
    launch = open_launch_via_slack(standin, bot)
    item = _confirm_item(bot, launch)
    deliver(bot)
    last = _last_id(bot.rt.ctx.engine)
    assert standin.send_block_action(bot.url, "UWFM", "item.done", str(item.id)).status_code == 200
    rows = _new_rows(bot.rt.ctx.engine, last)
    # Nobody opened Home and no nudge went out yet: the owner's prompt and the status card, nothing else.
    assert sorted((r.kind, r.recipient) for r in rows) == [("prompt_refresh", "UWFM"), ("status_card", "launch_channel")]
    report = bot.rt.worker.drain_all()
    assert (report.sent, report.skipped) == (2, 0)


def test_a_home_once_opened_is_refreshed_and_changes_coalesce(standin, bot):
    launch = open_launch_via_slack(standin, bot)
    confirms = [i for i in items(bot.rt.ctx.engine, launch.id) if i.answer_kind == "confirm" and i.owner_id]
    owner = next(o for o in dict.fromkeys(i.owner_id for i in confirms)
                 if sum(i.owner_id == o for i in confirms) >= 2 and o not in (launch.owner_id, "ULEAD"))
    first, second = [i for i in confirms if i.owner_id == owner][:2]
    open_home(standin, bot, owner)
    deliver(bot)
    last = _last_id(bot.rt.ctx.engine)
    with unit_of_work(bot.rt.ctx.engine) as session:  # two answers, one transaction
        for item in (first, second):
            answers.mark_done(session, item.id, actor=owner, now=bot.rt.ctx.now(), settings=bot.rt.ctx.settings)
    kinds = sorted(r.kind for r in _new_rows(bot.rt.ctx.engine, last))
    assert kinds == ["home_refresh", "prompt_refresh", "status_card"]


def test_a_rolled_back_change_sends_nothing_and_derived_effects_can_be_added(standin, bot, monkeypatch):
    launch = open_launch_via_slack(standin, bot)
    item = _confirm_item(bot, launch)
    deliver(bot)
    last = _last_id(bot.rt.ctx.engine)
    seen: list = []
    monkeypatch.setattr(effects, "DERIVED", effects.DERIVED + (lambda session, cs: seen.extend(cs.changes),))
    try:
        with unit_of_work(bot.rt.ctx.engine) as session:
            answers.mark_done(session, item.id, actor="UWFM", now=bot.rt.ctx.now(), settings=bot.rt.ctx.settings)
            raise RuntimeError("the command fails after the change")
    except RuntimeError:
        pass
    assert _new_rows(bot.rt.ctx.engine, last) == [] and seen == []
    with unit_of_work(bot.rt.ctx.engine) as session:
        answers.mark_done(session, item.id, actor="UWFM", now=bot.rt.ctx.now(), settings=bot.rt.ctx.settings)
        assert changes.of(session).changes  # collected while the transaction runs…
        assert session.exec(select(OutboxMessage).where(OutboxMessage.id > last)).all() == []  # …written at commit
    assert [(type(c).__name__, c.item_id, c.action) for c in seen] == [("ItemChanged", item.id, "item.answered")]
    assert {r.kind for r in _new_rows(bot.rt.ctx.engine, last)} == {"prompt_refresh", "status_card"}
