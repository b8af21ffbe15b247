"""`launchgate outbox`: an operator sees what is stuck and recovers dead letters (issue 12)."""
from __future__ import annotations

from bot.cli import main
from bot.services.outbox import Kind
from models import OutboxStatus
from tests.flows import deliver, events, open_launch_via_slack, outbox


def run(monkeypatch, capsys, db_url, *argv):
    monkeypatch.setenv("DATABASE_URL", db_url)
    code = main(["outbox", *argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_a_channel_that_could_not_be_created_is_recovered_with_its_status_card(bot, standin, monkeypatch, capsys,
                                                                               db_url):
    standin.fail_with("restricted_action", n=1, method="conversations.create")
    launch = open_launch_via_slack(standin, bot)
    deliver(bot)
    (create,) = outbox(bot.rt.ctx.engine, Kind.CREATE_CHANNEL)
    (card,) = outbox(bot.rt.ctx.engine, Kind.STATUS_CARD)
    assert create.status == OutboxStatus.DEAD and create.last_error == "restricted_action"
    # The card stops waiting for a channel that will never come, and says why.
    assert card.status == OutboxStatus.DEAD
    assert card.last_error.startswith(f"dependency: channel of {launch.key} was never created")

    code, out, _ = run(monkeypatch, capsys, db_url)
    assert code == 0
    assert "dead    create_channel" in out and "restricted_action" in out
    assert "dead    status_card" in out

    code, _, err = run(monkeypatch, capsys, db_url, "retry")
    assert code == 2 and "--all" in err  # nothing re-queued by accident

    code, out, _ = run(monkeypatch, capsys, db_url, "retry", "--kind", Kind.CREATE_CHANNEL)
    assert code == 0 and "2 dead row(s) re-queued" in out  # the channel and the card waiting on it
    deliver(bot)
    (create,) = outbox(bot.rt.ctx.engine, Kind.CREATE_CHANNEL)
    (card,) = outbox(bot.rt.ctx.engine, Kind.STATUS_CARD)
    assert create.status == card.status == OutboxStatus.SENT
    channel = create.result_channel
    assert any(launch.key in m.get("text", "") for m in standin.messages(channel))
    assert events(bot.rt.ctx.engine, "outbox.requeued")

    code, out, _ = run(monkeypatch, capsys, db_url, "list", "--status", "dead")
    assert "dead    create_channel" not in out


def test_outbox_list_with_nothing_stuck(engine, db_url, monkeypatch, capsys):
    code, out, _ = run(monkeypatch, capsys, db_url, "list")
    assert code == 0 and "nothing queued or dead" in out
