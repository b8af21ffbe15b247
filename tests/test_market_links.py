"""One evidence link per market of the launch (`answer: market_links`): a modal with one URL field per
market, each link checked, and the item done only while every market's page is live."""
from __future__ import annotations

import json
from datetime import date, datetime, timezone

import pytest

from bot.blocks.answer_modals import answer_modal
from bot.db import unit_of_work
from bot.linkcheck.runner import run_due
from bot.services import answer_values, links
from bot.services.errors import FieldErrors
from models import AuditEvent, Item, ItemState, Launch, LinkCheck
from sqlmodel import select
from tests.flows import deliver, modal_values, open_launch_via_slack, open_modal, prompt_for
from tests.local_http import LocalSite, page
from tests.test_link_checks import checks, get_item, offline, template_with


@pytest.fixture
def site():
    s = LocalSite().start()
    yield s
    s.stop()


def _submit(standin, bot, user, entries):
    view = open_modal(standin, user, "item_answer")
    return standin.send_view_submission(bot.url, user, "item_answer", modal_values(view, entries),
                                        view_id=view["id"])


def test_one_link_per_market_each_checked_and_one_broken_market_sends_it_back(standin, bot, clock, site, tmp_path):
    rt = bot.rt
    rt.ctx.settings = rt.ctx.settings.model_copy(update={"linkcheck_allow_hosts": ["127.0.0.1"]})
    template_with(rt, tmp_path, answer="market_links")
    launch = open_launch_via_slack(standin, bot, markets=("FR", "DE", "CH"))
    item = link_item_of(rt, launch.id)
    owner = item.owner_id
    standin.click(bot.url, owner, prompt_for(standin, bot, launch.id, owner), "item.answer", value=str(item.id))
    modal = open_modal(standin, owner, "item_answer")
    inputs = [b for b in modal["blocks"] if b["type"] == "input"]
    assert [b["block_id"] for b in inputs][:3] == ["value.FR", "value.DE", "value.CH"]
    assert {b["element"]["type"] for b in inputs[:3]} == {"url_text_input"}
    assert "France (FR)" in json.dumps(inputs[0]["label"])

    bad = _submit(standin, bot, owner, {"value.FR": "the French article", "value.CH": site.url("/ch"),
                                        "note": "CH goes live Monday"}).json()
    assert bad["response_action"] == "errors"      # each problem next to its market; nothing saved
    assert "https://" in bad["errors"]["value.FR"] and "DE page" in bad["errors"]["value.DE"]
    assert "value.CH" not in bad["errors"]
    assert get_item(rt, item.id).state == ItemState.OPEN

    site.routes.update({"/fr": page(), "/de": page(404), "/ch": page()})
    ok = _submit(standin, bot, owner, {"value.FR": site.url("/fr"), "value.DE": site.url("/de"),
                                       "value.CH": site.url("/ch")})
    assert not ok.content.strip(b"{} \n")
    saved = get_item(rt, item.id)
    assert saved.state == ItemState.DONE
    assert saved.answer == {"FR": site.url("/fr"), "DE": site.url("/de"), "CH": site.url("/ch")}
    assert sorted((r.market, r.url) for r in checks(rt, item_id=item.id)) == [
        ("CH", site.url("/ch")), ("DE", site.url("/de")), ("FR", site.url("/fr"))]
    assert site.seen == []                        # checked by the pass, never inside the submission

    report = run_due(rt.ctx, clock(), resolve=offline)
    assert (report.checked, report.broken, report.sent_back) == (3, 1, 1)
    assert get_item(rt, item.id).state == ItemState.OPEN    # done only while every market's page is live
    with unit_of_work(rt.ctx.engine) as session:
        assert links.warnings(session, launch.id, clock()) == {item.id: [f"DE: {site.url('/de')} — 404 since today"]}
        (event,) = session.exec(select(AuditEvent).where(AuditEvent.action == "item.link_broken")).all()
    assert event.note.startswith("DE: ")
    deliver(bot)

    # The edit modal starts from what was entered: fix DE only
    standin.click(bot.url, owner, prompt_for(standin, bot, launch.id, owner), "item.answer", value=str(item.id))
    modal = open_modal(standin, owner, "item_answer")
    initial = {b["block_id"]: b["element"].get("initial_value") for b in modal["blocks"] if b["type"] == "input"}
    assert initial["value.FR"] == site.url("/fr") and initial["value.CH"] == site.url("/ch")
    site.routes["/de/neu"] = page()
    _submit(standin, bot, owner, {"value.FR": site.url("/fr"), "value.DE": site.url("/de/neu"),
                                  "value.CH": site.url("/ch")})
    run_due(rt.ctx, clock(), resolve=offline)
    assert get_item(rt, item.id).state == ItemState.DONE
    assert {r.status for r in checks(rt, item_id=item.id)} == {"ok"}


def link_item_of(rt, launch_id) -> Item:
    with unit_of_work(rt.ctx.engine) as session:
        item = session.exec(select(Item).where(Item.launch_id == launch_id, Item.answer_kind == "market_links")).first()
    assert item is not None
    return item


def test_a_launch_with_more_markets_than_a_modal_holds_gets_one_line_per_market():
    markets = [f"{a}{b}" for a in "ABCDEFGHIJ" for b in "ABCDEFGHIJ"]   # 100 codes: more than 90 fields
    item = Item(id=1, answer_kind="market_links", question="Help-centre article live in every market?",
                owner_role="knowledge", launch_id=1, gate_id=1, item_key="kb", due_at=datetime(2027, 9, 1, tzinfo=timezone.utc),
                answer={"AA": "https://help.example.com/aa"})
    launch = Launch(id=1, name="Global", kind="product", markets=markets, owner_id="UPM", readiness_lead_id="ULEAD",
                    launch_date=date(2027, 11, 15))
    view = answer_modal(item, launch, None, private_metadata="{}").to_dict()
    assert len(view["blocks"]) <= 100
    (field,) = [b for b in view["blocks"] if b["type"] == "input" and b["block_id"] == "value"]
    assert field["element"]["initial_value"].startswith("AA https://help.example.com/aa\nAB")
    lines = "\n".join(f"{m} https://help.example.com/{m.lower()}" for m in markets if m != "BB")
    with pytest.raises(FieldErrors) as err:
        answer_values.parse(item, {"value": lines + "\nZZ https://x.example"}, markets)
    assert err.value.errors == {"value": "BB: Required: the link to the BB page. ZZ: not a market of this launch."}
    answer = answer_values.parse(item, {"value": lines + "\nBB: https://help.example.com/bb"}, markets)
    assert answer.value["BB"] == "https://help.example.com/bb" and len(answer.value) == 100
