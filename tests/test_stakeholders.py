"""The stakeholder-list item: the PM sees who each role resolved to and adds whoever is missing."""
from __future__ import annotations

import pytest

from tests.flows import deliver, dms, events, items, modal_values, open_launch_via_slack, open_modal, prompt_for, text_of

NO_TRAINING = """\
admins: [UADMIN]
roles:
  readiness_lead: [ULEAD]
  wfm: [UWFM]
  marketing: [UMKT]
  content: [UCONTENT]
  knowledge: [UKB]
  vendor_management: [UVENDOR]
"""


@pytest.fixture
def stakeholders_file(tmp_path):
    path = tmp_path / "stakeholders.yaml"
    path.write_text(NO_TRAINING)  # nobody holds training: its items fall back to the readiness lead
    return path


def test_pm_sees_the_roster_and_adds_the_missing_trainer(standin, bot):
    launch = open_launch_via_slack(standin, bot)
    engine = bot.rt.ctx.engine
    training = items(engine, launch.id, owner_role="training")
    assert training and {i.owner_id for i in training} == {"ULEAD"}
    (confirm,) = items(engine, launch.id, item_key="stakeholders")
    assert confirm.owner_id == "UPM" and confirm.answer_kind == "confirm"
    prompt = prompt_for(standin, bot, launch.id, "UPM")
    body = text_of(prompt)
    assert "Who is on this launch" in body and "Wfm: <@UWFM>" in body and "Training" not in body

    assert standin.click(bot.url, "UOUTSIDER", prompt, "roster.add").status_code == 200
    assert not [v for v in standin.views("UOUTSIDER") if v.get("callback_id") == "roster_add"]

    assert standin.click(bot.url, "UPM", prompt, "roster.add").status_code == 200
    view = open_modal(standin, "UPM", "roster_add")
    roles = [o["value"] for o in next(b for b in view["blocks"] if b["block_id"] == "role")["element"]["options"]]
    assert "training" in roles
    resp = standin.send_view_submission(bot.url, "UPM", "roster_add",
                                        modal_values(view, {"role": "training", "user": "UTRAIN"}))
    assert resp.status_code == 200 and not resp.content.strip(b"{} \n"), resp.text
    assert {i.owner_id for i in items(engine, launch.id, owner_role="training") if i.is_open} == {"UTRAIN"}
    (added,) = events(engine, "launch.stakeholder_added")
    assert added.actor == "UPM" and added.after["role"] == "training" and added.after["user"] == "UTRAIN"
    deliver(bot)
    assert dms(standin, "UTRAIN")  # their prompt with the items handed over
    assert "Training: <@UTRAIN>" in text_of(prompt_for(standin, bot, launch.id, "UPM"))
    assert any("UTRAIN" in c.params["users"] for c in standin.ok_calls("conversations.invite"))
    standin.click(bot.url, "UPM", prompt_for(standin, bot, launch.id, "UPM"), "roster.add")
    view = open_modal(standin, "UPM", "roster_add")
    again = standin.send_view_submission(bot.url, "UPM", "roster_add",
                                         modal_values(view, {"role": "training", "user": "UTRAIN"})).json()
    assert again["response_action"] == "errors" and "already" in again["errors"]["user"]


def test_two_people_adding_the_same_trainer_at_once(standin, bot):
    import json
    import threading

    launch = open_launch_via_slack(standin, bot)
    results: list = []
    start = threading.Barrier(4)

    def submit(user):
        start.wait()
        results.append(standin.send_view_submission(bot.url, user, "roster_add", {
            "role": {"role": {"type": "static_select", "selected_option": {
                "value": "training", "text": {"type": "plain_text", "text": "Training"}}}},
            "user": {"user": {"type": "users_select", "selected_user": "UTRAIN"}}},
            private_metadata=json.dumps({"l": launch.id})))

    threads = [threading.Thread(target=submit, args=(u,)) for u in ("UPM", "ULEAD", "UADMIN", "UPM")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(r.status_code for r in results) == [200] * 4
    assert len(events(bot.rt.ctx.engine, "launch.stakeholder_added")) == 1
    assert sum("already" in r.text for r in results) == 3
