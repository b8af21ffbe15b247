"""A repeated or concurrent "New launch" submission opens one launch (issue 12, point 2)."""
from __future__ import annotations

import json
import threading
from collections import Counter
from urllib.parse import urlencode

from sqlmodel import select

from bot.db import unit_of_work
from models import Launch
from tests.flows import deliver, launch_form, outbox
from tests.slack_standin import payloads

FORM = "application/x-www-form-urlencoded"


def opened_modal(standin, bot, user="UPM", not_id=None) -> dict:
    standin.send_slash_command(bot.url, command="/launch", text="new", user_id=user, channel_id="C0GENERAL")
    return standin.wait_for(lambda: next((v for v in reversed(standin.views(user))
                                          if v.get("callback_id") == "launch_new" and v["id"] != not_id), None))


def submission(standin, view: dict, user="UPM", **form) -> str:
    view = dict(view, state={"values": launch_form(**form)})
    payload = payloads.view_submission(standin.state, user_id=user, view=view, trigger_id=standin.trigger_id(user))
    return urlencode({"payload": json.dumps(payload)})


def launches(engine) -> list[Launch]:
    with unit_of_work(engine) as session:
        return list(session.exec(select(Launch).order_by(Launch.id)))


def test_the_same_submission_four_times_opens_one_launch(standin, bot):
    view = opened_modal(standin, bot)
    body = submission(standin, view)
    for _ in range(4):  # Slack's retry, a second press of Submit after a slow ack…
        resp = standin.signed_post(bot.url, body, FORM)
        assert resp.status_code == 200 and not resp.content.strip(b"{} \n")  # each closes the modal
    deliver(bot)
    (launch,) = launches(bot.rt.ctx.engine)
    assert len(outbox(bot.rt.ctx.engine, "create_channel")) == 1
    assert len([c for c in standin.calls if c.method == "conversations.create" and c.ok]) == 1
    intros = Counter(r.recipient for r in outbox(bot.rt.ctx.engine, "intro_dm"))
    assert intros and set(intros.values()) == {1}
    # A different modal is a different launch.
    other = opened_modal(standin, bot, not_id=view["id"])
    assert standin.signed_post(bot.url, submission(standin, other, name="Second"), FORM).status_code == 200
    assert [lc.name for lc in launches(bot.rt.ctx.engine)] == [launch.name, "Second"]


def test_concurrent_copies_of_one_submission_open_one_launch(standin, bot):
    view = opened_modal(standin, bot)
    body = submission(standin, view)
    answers: list[int] = []
    barrier = threading.Barrier(4)

    def send():
        barrier.wait()
        answers.append(standin.signed_post(bot.url, body, FORM).status_code)

    threads = [threading.Thread(target=send) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert answers == [200] * 4
    assert len(launches(bot.rt.ctx.engine)) == 1
    assert len(outbox(bot.rt.ctx.engine, "create_channel")) == 1
