"""The launch channel survives a crash between Slack creating it and launchgate saving it:
the retried row adopts the bot's own channel instead of making `lr-1-…-2`."""
from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from bot.db import unit_of_work
from bot.delivery import channels
from models import Launch
from tests.flows import deliver, events, open_launch_via_slack, outbox

INTENDED = "lr-1-instant-payouts"


def channel_named(standin, name: str) -> str | None:
    return next((c.response["channel"]["id"] for c in standin.ok_calls("conversations.create")
                 if c.params["name"] == name), None)


def assert_launch_lives_in(standin, launch, channel_id: str) -> None:
    assert launch.channel_id == channel_id
    members = set(standin.channel(channel_id)["members"])
    assert {"UPM", "ULEAD", "UWFM", "UMKT", "UCONTENTFR", "UTRAIN", "UVENDOR", "UKB"} <= members
    (card,) = standin.messages(channel_id)
    assert "LR-1" in json.dumps(card["blocks"])


def crowd(standin, count: int = 4) -> None:
    """Other public channels, so the one we look for is not on the first page."""
    for n in range(count):
        standin.add_channel(name=f"aaa-other-{n}", bot_member=n % 2 == 0)


def test_a_channel_the_bot_created_before_a_crash_is_adopted(standin, bot):
    crowd(standin)
    ours = standin.add_channel(name=INTENDED, creator=standin.BOT_USER)  # created, then the process died
    standin.list_page_size = 2
    launch = open_launch_via_slack(standin, bot)

    assert standin.ok_calls("conversations.create") == []
    assert [c.error for c in standin.calls_to("conversations.create")] == ["name_taken"]
    lists = standin.calls_to("conversations.list")
    assert len(lists) > 1 and all(c.ok for c in lists)  # followed the cursor past the first page
    assert all(c.params["types"] == "public_channel" and int(c.params["limit"]) <= 1000 for c in lists)
    assert_launch_lives_in(standin, launch, ours)
    (created,) = events(bot.rt.ctx.engine, "launch.channel_created")
    assert created.after == {"channel": ours, "name": INTENDED, "adopted": True}


def test_a_real_crash_after_conversations_create_leaves_one_channel(standin, bot, clock, monkeypatch):
    """Saving the new channel fails once (as if the process died right there); the retry adopts it."""
    real = channels.launches.record_channel

    def dies_once(*args, **kw):
        monkeypatch.setattr(channels, "launches", SimpleNamespace(record_channel=real))
        raise RuntimeError("killed")

    monkeypatch.setattr(channels, "launches", SimpleNamespace(record_channel=dies_once))
    launch = open_launch_via_slack(standin, bot)
    assert launch.channel_id is None and channel_named(standin, INTENDED)
    (row,) = outbox(bot.rt.ctx.engine, "create_channel")
    assert row.status == "pending" and "killed" in row.last_error

    clock.advance(minutes=1)  # past the retry's backoff
    deliver(bot)
    with unit_of_work(bot.rt.ctx.engine) as session:
        launch = session.get(Launch, launch.id)
    assert [c.params["name"] for c in standin.ok_calls("conversations.create")] == [INTENDED]
    assert_launch_lives_in(standin, launch, channel_named(standin, INTENDED))


@pytest.mark.parametrize("case", ["someone_else", "archived", "other_launch", "set_up_before"])
def test_a_same_named_channel_that_is_not_ours_to_take_gets_a_suffix(standin, bot, case):
    if case == "someone_else":
        standin.add_channel(name=INTENDED)  # created by a person
    elif case == "set_up_before":  # a finished launch channel from an earlier database with the same key
        old = standin.add_channel(name=INTENDED, creator=standin.BOT_USER)
        standin.state.channels[old].purpose = "Readiness for LR-1"
    elif case == "archived":
        standin.add_channel(name=INTENDED, creator=standin.BOT_USER, archived=True)
    if case == "other_launch":
        # LR-1 was opened into a channel the bot once made; LR-2's intended name is that channel's.
        taken = standin.add_channel(name="lr-2-instant-payouts", creator=standin.BOT_USER)
        first = open_launch_via_slack(standin, bot, channel=taken)
        assert first.channel_id == taken
    launch = open_launch_via_slack(standin, bot)
    intended = f"{launch.key.lower()}-instant-payouts"

    assert [c.params["name"] for c in standin.ok_calls("conversations.create")] == [f"{intended}-2"]
    assert launch.channel_id == channel_named(standin, f"{intended}-2")
    assert len(standin.messages(launch.channel_id)) == 1  # the status card
    (created,) = [e for e in events(bot.rt.ctx.engine, "launch.channel_created") if e.launch_id == launch.id]
    assert "adopted" not in created.after


def test_a_bot_channel_the_bot_has_left_is_joined_before_inviting(standin, bot):
    ours = standin.add_channel(name=INTENDED, creator=standin.BOT_USER, bot_member=False)
    launch = open_launch_via_slack(standin, bot)
    assert standin.ok_calls("conversations.join")[0].params["channel"] == ours
    assert standin.ok_calls("conversations.create") == []
    assert_launch_lives_in(standin, launch, ours)


def test_accented_names_are_transliterated_not_dropped(standin, bot):
    """Issue 11: `Été à Paris` makes `#lr-1-ete-a-paris`, not `#lr-1-t-paris`."""
    launch = open_launch_via_slack(standin, bot, name="Été à Paris — Straße")
    deliver(bot)
    assert channel_named(standin, "lr-1-ete-a-paris-strasse") == launch.channel_id
