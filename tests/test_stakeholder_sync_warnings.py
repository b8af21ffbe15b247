"""A stakeholders file that does not sync is loud (issue 11): `serve` says so in one line at
start, and `/launch new` tells the opener, in the modal's confirmation and on the status card,
which roles fell back to the readiness lead and why."""
from __future__ import annotations

import json

import pytest
from sqlmodel import select

from bot.db import unit_of_work
from bot.services import directory, stakeholders
from bot.services.directory import DirectoryError, sync_stakeholders
from models import Launch
from tests.flows import deliver, launch_form
from tests.test_serve import start_serve, stop_serve

WITHOUT_WFM = """\
admins: [UADMIN]
roles:
  readiness_lead: [ULEAD]
  marketing: [UMKT]
  content: [UCONTENT]
  knowledge: [UKB]
  training: [UTRAIN]
  vendor_management: [UVENDOR]
"""
UNKNOWN_GROUP = WITHOUT_WFM.replace("  marketing:", "  wfm: [S0NOSUCH]\n  marketing:")


@pytest.fixture
def stakeholders_file(tmp_path):
    """The directory as last synced: nobody holds WFM yet."""
    path = tmp_path / "stakeholders.yaml"
    path.write_text(WITHOUT_WFM)
    return path


def failed_sync(rt, settings, stakeholders_file) -> None:
    stakeholders_file.write_text(UNKNOWN_GROUP)  # WFM added as a user group Slack does not know
    with pytest.raises(DirectoryError, match="S0NOSUCH: no_such_subteam"):
        sync_stakeholders(settings, rt.ctx.engine, rt.slack)


def status_card(standin, launch_channel: str) -> str:
    (card,) = standin.messages(launch_channel)
    return json.dumps(card["blocks"], ensure_ascii=False)


def test_launch_new_says_which_roles_fell_back_and_why(standin, bot, settings, stakeholders_file):
    failed_sync(bot.rt, settings, stakeholders_file)
    resp = standin.send_view_submission(bot.url, "UPM", "launch_new", launch_form())
    assert resp.status_code == 200
    answer = resp.json()
    assert answer["response_action"] == "update"  # the modal turns into a confirmation instead of closing
    shown = json.dumps(answer["view"], ensure_ascii=False)
    assert "Nobody holds wfm" in shown and "<@ULEAD>" in shown
    assert "S0NOSUCH: no_such_subteam" in shown and "launchgate stakeholders sync" in shown

    deliver(bot)
    (created,) = standin.ok_calls("conversations.create")
    channel = created.response["channel"]["id"]
    card = status_card(standin, channel)
    assert "Nobody holds wfm" in card and "Someone's missing" in card

    # Someone is added to the role on the launch: the lead's WFM items are handed over, the warning goes.
    with unit_of_work(bot.rt.ctx.engine) as session:
        launch_id = session.exec(select(Launch.id)).one()
        handed = stakeholders.add_member(session, launch_id, "wfm", "UWFM", actor="UPM", now=bot.rt.ctx.now())
    assert handed
    bot.rt.kick()
    deliver(bot)
    assert "Nobody holds" not in status_card(standin, channel)


def test_a_fully_staffed_launch_closes_the_modal_as_before(standin, bot, settings, stakeholders_file):
    stakeholders_file.write_text(WITHOUT_WFM + "  wfm: [UWFM]\n")
    sync_stakeholders(settings, bot.rt.ctx.engine, bot.rt.slack)
    resp = standin.send_view_submission(bot.url, "UPM", "launch_new", launch_form())
    assert resp.status_code == 200 and not resp.content.strip(b"{} \n"), resp.text
    deliver(bot)
    (created,) = standin.ok_calls("conversations.create")
    assert "Nobody holds" not in status_card(standin, created.response["channel"]["id"])


def test_a_good_sync_after_a_failed_one_clears_the_reason(rt, settings, stakeholders_file):
    failed_sync(rt, settings, stakeholders_file)
    with unit_of_work(rt.ctx.engine) as session:
        assert directory.last_sync_problems(session) == ["user group S0NOSUCH: no_such_subteam"]
    stakeholders_file.write_text(WITHOUT_WFM)  # the same directory as stored: nothing changes but the verdict
    sync_stakeholders(settings, rt.ctx.engine, rt.slack)
    with unit_of_work(rt.ctx.engine) as session:
        assert directory.last_sync_problems(session) == []


def test_serve_says_in_one_line_that_the_file_did_not_sync(db_url, standin, tmp_path):
    path = tmp_path / "stakeholders.yaml"
    path.write_text(UNKNOWN_GROUP)
    proc, _ = start_serve(db_url, standin, path, tmp_path)
    stop_serve(proc)
    lines = [line for line in (tmp_path / "serve.log").read_text().splitlines() if "did not sync" in line]
    assert len(lines) == 1, (tmp_path / "serve.log").read_text()
    (line,) = lines
    assert str(path) in line and "S0NOSUCH: no_such_subteam" in line
    assert "nobody holds" in line and "wfm" in line and "launchgate stakeholders sync" in line
