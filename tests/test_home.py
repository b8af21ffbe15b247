"""The App Home tab: approvals waiting for me, my open items, my launches."""
from __future__ import annotations

import json

from sqlmodel import select

from bot.db import unit_of_work
from models import GateStatus, ItemState, OutboxMessage
from tests.flows import deliver, home_publishes, open_home, published_home, text_of
from tests.gate_support import (
    add_approvers,
    buttons,
    decide_buttons,
    decisions_of,
    gate_at,
    items_of,
    open_launch,
    satisfy,
    vote,
)


home = open_home


def publishes(standin) -> int:
    return len(standin.ok_calls("views.publish"))


def test_home_shows_approvals_open_items_and_launches(standin, bot, rt, clock):
    launch_id = open_launch(rt, clock)
    satisfy(rt, clock, launch_id, 0)
    view = home(standin, bot, "ULEAD")
    body = text_of(view)
    assert "Approvals waiting for you (1)" in body and "Discovery" in body
    assert len(decide_buttons(view)) == 5
    mine = [i for i in items_of(rt, launch_id) if i.owner_id == "ULEAD" and i.is_open]
    assert f"Your open items ({len(mine)})" in body
    controls = buttons(view)
    assert "item.menu" in controls and ("item.done" in controls or "item.answer" in controls)
    assert "Your launches (1)" in body and "LR-1 · Instant payouts" in body and "you lead readiness" in body

    before = home_publishes(standin, "ULEAD")
    vote(rt, clock, gate_at(rt, launch_id, 0), "ULEAD")  # decided elsewhere; Refresh shows it
    standin.click(bot.url, "ULEAD", view, "home.refresh")
    assert "Approvals waiting for you (0)" in text_of(published_home(standin, bot, "ULEAD", after=before))

    owner_view = home(standin, bot, "UPM")
    assert "Approvals waiting for you (0)" in text_of(owner_view)  # owners do not approve their own launch
    assert "you own it" in text_of(owner_view)


def test_voting_from_home_records_the_vote_and_refreshes_home(standin, bot, rt, clock):
    launch_id = open_launch(rt, clock)
    satisfy(rt, clock, launch_id, 0)
    view = home(standin, bot, "ULEAD")
    before = home_publishes(standin, "ULEAD")
    standin.click(bot.url, "ULEAD", view, "gate.decide:go")
    published_home(standin, bot, "ULEAD", after=before)
    (decision,) = decisions_of(rt, launch_id)
    assert decision.outcome == "go" and gate_at(rt, launch_id, 0).status == GateStatus.GO
    assert "Approvals waiting for you (0)" in text_of(standin.home_view("ULEAD"))


def test_a_home_tab_left_open_follows_changes_made_elsewhere(standin, bot, rt, clock):
    launch_id = open_launch(rt, clock)
    assert "Approvals waiting for you (0)" in text_of(home(standin, bot, "ULEAD"))
    before = publishes(standin)
    satisfy(rt, clock, launch_id, 0)  # stakeholders answer in their DMs; the gate goes to review
    deliver(bot)
    assert publishes(standin) == before + 1  # a burst of changes, one publish
    assert "Approvals waiting for you (1)" in text_of(standin.home_view("ULEAD"))
    vote(rt, clock, gate_at(rt, launch_id, 0), "ULEAD")
    deliver(bot)
    assert "Approvals waiting for you (0)" in text_of(standin.home_view("ULEAD"))
    # Nobody else opened Home: nothing is published to them.
    assert {c.params["user_id"] for c in standin.ok_calls("views.publish")} == {"ULEAD"}


def test_a_stale_approval_on_home_explains_itself(standin, bot, rt, clock):
    launch_id = open_launch(rt, clock)
    add_approvers(rt, launch_id, "ULEAD2")
    satisfy(rt, clock, launch_id, 0)
    view = home(standin, bot, "ULEAD2")
    vote(rt, clock, gate_at(rt, launch_id, 0), "ULEAD")  # decided while ULEAD2 looked at Home
    standin.click(bot.url, "ULEAD2", view, "gate.decide:go")
    notice = standin.wait_for(lambda: standin.views("ULEAD2"))
    assert "already decided" in text_of(notice[-1])
    assert len(decisions_of(rt, launch_id)) == 1


def test_answering_an_item_from_home_refreshes_it(standin, bot, rt, clock):
    launch_id = open_launch(rt, clock)
    item = next(i for i in items_of(rt, launch_id) if i.owner_id == "ULEAD" and i.answer_kind == "confirm")
    view = home(standin, bot, "ULEAD")
    before = home_publishes(standin, "ULEAD")
    standin.click(bot.url, "ULEAD", view,
                  lambda e: e.get("action_id") == "item.done" and e.get("value") == str(item.id))
    published_home(standin, bot, "ULEAD", after=before)
    done = next(i for i in items_of(rt, launch_id) if i.id == item.id)
    assert done.state == ItemState.DONE
    assert f'"value": "{item.id}"' not in json.dumps(standin.home_view("ULEAD"))


def test_home_stays_inside_slack_limits_with_many_items(standin, bot, rt, clock):
    for n in range(12):
        open_launch(rt, clock, name=f"Market wave {n}", kind="market" if "market" in rt.ctx.templates else "product")
    mine = [i for lid in range(1, 13) for i in items_of(rt, lid) if i.owner_id == "UWFM" and i.is_open]
    assert len(mine) > 45  # more than a Home tab can show
    view = home(standin, bot, "UWFM")
    assert len(view["blocks"]) <= 100
    body = text_of(view)
    shown = sum(1 for b in view["blocks"] if b.get("block_id", "").startswith("home-q-"))
    assert shown >= 20 and f"…and {len(mine) - shown} more items" in body
    assert f"Your open items ({len(mine)})" in body

    lead_view = home(standin, bot, "ULEAD")
    assert len(lead_view["blocks"]) <= 100 and "…and 2 more launches" in text_of(lead_view)


def test_a_rate_limited_home_publish_waits_retry_after_and_goes_through(standin, bot, rt, clock):
    open_launch(rt, clock)
    standin.rate_limit_next(1, retry_after=1, method="views.publish")
    standin.open_app_home(bot.url, "ULEAD")
    standin.wait_for(lambda: deliver(bot) or standin.calls_to("views.publish"))
    deliver(bot)  # Slack's Retry-After has not passed: nothing is asked again
    (limited,) = standin.calls_to("views.publish")
    assert limited.status == 429
    clock.advance(seconds=1)
    view = published_home(standin, bot, "ULEAD", after=0)
    assert "Your launches (1)" in text_of(view)
    assert [c.status for c in standin.calls_to("views.publish")] == [429, 200]


def _home_rows(rt, user: str) -> list[OutboxMessage]:
    with unit_of_work(rt.ctx.engine) as session:
        return list(session.exec(select(OutboxMessage).where(OutboxMessage.kind == "home_refresh",
                                                             OutboxMessage.recipient == user)))


def test_opening_home_queues_it_for_the_worker_which_retries_when_slack_fails(standin, bot, rt, clock):
    """Home goes out through the outbox like every message: a Slack failure while someone opens
    it is retried instead of leaving them an empty tab."""
    open_launch(rt, clock)
    standin.fail_next(1, status=500, method="views.publish")
    standin.open_app_home(bot.url, "ULEAD")
    standin.wait_for(lambda: _home_rows(rt, "ULEAD"))
    assert standin.calls_to("views.publish") == []  # the listener only queued it
    deliver(bot)
    assert [c.status for c in standin.calls_to("views.publish")] == [500] and standin.home_view("ULEAD") is None
    clock.advance(seconds=61)  # the worker's backoff (an outage probe is due within a minute)
    assert "Your launches (1)" in text_of(published_home(standin, bot, "ULEAD", after=0))
    assert [c.status for c in standin.calls_to("views.publish")] == [500, 200]
    assert [r.status for r in _home_rows(rt, "ULEAD")] == ["sent"]
