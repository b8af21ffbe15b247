"""The answering API over real HTTP: tokens hashed at rest, scopes, validation, idempotency,
rate limits, and a 401 that never tells whether an item exists."""
from __future__ import annotations

import threading

import httpx
import pytest
from sqlmodel import select

from bot.cli import main
from bot.db import unit_of_work
from bot.services import integrations
from models import AuditEvent, IntegrationRequest, IntegrationToken, Item, ItemState
from tests.conftest import stop_waitress
from tests.gate_support import open_launch


@pytest.fixture
def api(rt):
    """The bot's HTTP server (no Slack app: Socket Mode) with the answering API."""
    from waitress import create_server

    from bot.web import make_wsgi_app

    server = create_server(make_wsgi_app(None, rt.ctx.engine, ctx=rt.ctx), host="127.0.0.1", port=0, threads=8)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    with httpx.Client(base_url=f"http://127.0.0.1:{server.effective_port}", timeout=10) as client:
        yield client
    stop_waitress(server, thread)


def make_token(rt, clock, name="helpdesk", items=(), roles=("knowledge",)) -> str:
    with unit_of_work(rt.ctx.engine) as session:
        return integrations.create(session, name, items=list(items), roles=list(roles), created_by="UADMIN",
                                   now=clock())[1]


def item_by_key(rt, launch_id, key) -> Item:
    with unit_of_work(rt.ctx.engine) as session:
        return session.exec(select(Item).where(Item.launch_id == launch_id, Item.item_key == key)).one()


def post(api, launch_id, key, body=None, token=None, client_key=None, **kw):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    if client_key:
        headers["Idempotency-Key"] = client_key
    return api.post(f"/api/v1/launches/LR-{launch_id}/items/{key}/answer", json=body, headers=headers, **kw)


def test_cli_creates_a_token_shown_once_and_stored_hashed(rt, monkeypatch, capsys):
    monkeypatch.setenv("DATABASE_URL", rt.ctx.settings.database_url)
    assert main(["integrations", "create", "helpdesk", "--roles", "knowledge", "--items", "macros-published"]) == 0
    token = capsys.readouterr().out.strip().splitlines()[-1]
    assert token.startswith("lgi_") and len(token) > 40
    with unit_of_work(rt.ctx.engine) as session:
        (row,) = session.exec(select(IntegrationToken)).all()
        assert row.token_hash == integrations.digest(token) and token not in str(row.model_dump())
    assert main(["integrations", "list"]) == 0
    listed = capsys.readouterr().out
    assert "helpdesk" in listed and "active" in listed and token not in listed
    assert main(["integrations", "create", "Bad Name!", "--roles", "knowledge"]) == 2
    assert main(["integrations", "create", "ci", "--roles", "wizards"]) == 2
    assert "Unknown role(s) wizards" in capsys.readouterr().err
    assert main(["integrations", "revoke", "helpdesk"]) == 0


def test_answers_an_item_as_the_integration(rt, clock, api):
    token = make_token(rt, clock)
    launch_id = open_launch(rt, clock)
    resp = post(api, launch_id, "help-centre-articles", {"value": "https://help.example.com/payouts"}, token)
    assert resp.status_code == 200, resp.text
    assert resp.json() | {"answered_at": None} == {
        "launch": f"LR-{launch_id}", "item": "help-centre-articles", "state": "done", "changed": True,
        "answered_by": "integration:helpdesk", "answered_at": None}
    item = item_by_key(rt, launch_id, "help-centre-articles")
    assert (item.state, item.answer, item.answered_by) == (ItemState.DONE, "https://help.example.com/payouts",
                                                           "integration:helpdesk")
    with unit_of_work(rt.ctx.engine) as session:
        event = session.exec(select(AuditEvent).where(AuditEvent.action == "item.answered")).one()
    assert event.actor == "integration:helpdesk" and event.entity_id == item.id
    done = post(api, launch_id, "process-maps", {"status": "na", "note": "No workflow changes"}, token)
    assert done.status_code == 200 and item_by_key(rt, launch_id, "process-maps").state == ItemState.NA


def tampered(token: str) -> str:
    """The token with its last character changed (a fixed "A" was the token itself once in 64 runs)."""
    return token[:-1] + ("B" if token.endswith("A") else "A")


def test_bad_tokens_get_the_same_401_whether_or_not_the_item_exists(rt, clock, api):
    token = make_token(rt, clock)
    launch_id = open_launch(rt, clock)
    answers = [post(api, launch_id, key, {"status": "done"}, bad)
               for key in ("help-centre-articles", "no-such-item")
               for bad in (None, "lgi_" + "x" * 43, tampered(token), "Basic Zm9vOmJhcg==")]
    answers.append(api.post("/api/v1/launches/LR-999/items/nothing/answer", json={}))
    assert {(r.status_code, r.text) for r in answers} == {
        (401, '{"error": "unauthorized", "message": "A valid integration token is required."}')}
    assert all(r.headers["www-authenticate"].startswith("Bearer") for r in answers)
    with unit_of_work(rt.ctx.engine) as session:
        integrations.revoke(session, "helpdesk", by="UADMIN", now=clock())
    assert post(api, launch_id, "help-centre-articles", {"status": "done"}, token).status_code == 401
    assert item_by_key(rt, launch_id, "help-centre-articles").state == ItemState.OPEN


def test_scope_and_validation_errors_are_clear(rt, clock, api):
    token = make_token(rt, clock)
    launch_id = open_launch(rt, clock)
    refused = post(api, launch_id, "launch-brief", {"value": "https://x.example.com"}, token)
    assert refused.status_code == 403 and "may not answer launch-brief" in refused.json()["message"]
    with unit_of_work(rt.ctx.engine) as session:
        assert session.exec(select(AuditEvent.actor).where(AuditEvent.action.like("refused%"))).all() == [
            "integration:helpdesk"]
    missing = post(api, launch_id, "no-such-item", {"status": "done"}, token)
    assert missing.status_code == 404 and "has no item no-such-item" in missing.json()["message"]
    cases = [
        ({"value": "not a link"}, "value", "Enter a link"),
        ({"status": "finished"}, "status", "Use done, na or blocked"),
        ({"value": "https://ok.example.com", "colour": "red"}, "colour", "Unknown field"),
        ({"status": "na"}, "note", "Say why"),
        ({"value": ["https://a.example.com"]}, "value", "Send a string"),
        ([1, 2], "body", "Send a JSON object"),
    ]
    for body, field, words in cases:
        resp = post(api, launch_id, "help-centre-articles", body, token)
        assert resp.status_code == 422, (body, resp.text)
        assert words in resp.json()["fields"][field], (body, resp.json())
    broken = api.post(f"/api/v1/launches/LR-{launch_id}/items/help-centre-articles/answer", content=b"{nope",
                      headers={"Authorization": f"Bearer {token}"})
    assert broken.status_code == 400 and broken.json()["error"] == "invalid_json"
    assert item_by_key(rt, launch_id, "help-centre-articles").state == ItemState.OPEN


def test_idempotency_key_replays_the_first_answer(rt, clock, api):
    token = make_token(rt, clock)
    launch_id = open_launch(rt, clock)
    body = {"value": "https://help.example.com/a1"}
    first = post(api, launch_id, "help-centre-articles", body, token, client_key="build-4711")
    again = post(api, launch_id, "help-centre-articles", body, token, client_key="build-4711")
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json() | {"replayed": True}
    other = post(api, launch_id, "help-centre-articles", {"value": "https://help.example.com/a2"}, token,
                 client_key="build-4711")
    assert other.status_code == 409 and "different request" in other.json()["message"]
    with unit_of_work(rt.ctx.engine) as session:
        assert len(session.exec(select(AuditEvent).where(AuditEvent.action == "item.answered")).all()) == 1
    assert item_by_key(rt, launch_id, "help-centre-articles").answer == "https://help.example.com/a1"


def test_rate_limited_per_token(rt, clock, api):
    rt.ctx.settings = rt.ctx.settings.model_copy(update={"integration_requests_per_minute": 3})
    token, other = make_token(rt, clock), make_token(rt, clock, name="ci")
    launch_id = open_launch(rt, clock)
    codes = [post(api, launch_id, "process-maps", {"status": "done"}, token).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    limited = post(api, launch_id, "process-maps", {"status": "done"}, token)
    assert limited.status_code == 429 and int(limited.headers["retry-after"]) <= 60
    assert post(api, launch_id, "process-maps", {"status": "done"}, other).status_code == 200   # its own budget
    clock.advance(minutes=1)
    assert post(api, launch_id, "process-maps", {"status": "done"}, token).status_code == 200


def test_simultaneous_requests_lose_nothing_and_never_500(rt, clock, api):
    token = make_token(rt, clock, roles=("knowledge", "content", "training", "wfm", "marketing"))
    launch_id = open_launch(rt, clock)
    with unit_of_work(rt.ctx.engine) as session:
        keys = [i.item_key for i in session.exec(select(Item).where(
            Item.launch_id == launch_id, Item.answer_kind == "confirm",
            Item.owner_role.in_(["knowledge", "content", "training", "wfm", "marketing"])))][:6]
    assert len(keys) >= 4
    results: list[httpx.Response] = []

    def call(key, client_key):
        results.append(post(api, launch_id, key, {"status": "done"}, token, client_key=client_key))

    threads = [threading.Thread(target=call, args=(key, None)) for key in keys]
    threads += [threading.Thread(target=call, args=(keys[0], "same-key")) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted({r.status_code for r in results}) == [200], [r.text for r in results if r.status_code != 200]
    assert all(item_by_key(rt, launch_id, k).state == ItemState.DONE for k in keys)
    same = [r.json() for r in results if r.json().get("replayed") is not None or r.json()["item"] == keys[0]]
    assert sum(1 for r in same if not r.get("replayed")) >= 1
    with unit_of_work(rt.ctx.engine) as session:
        answered = session.exec(select(AuditEvent.entity_id).where(AuditEvent.action == "item.answered")).all()
        assert len(answered) == len(keys)                   # each item answered once; replays record nothing
        assert session.exec(select(IntegrationRequest.status_code)).all() == [200]


def test_one_link_per_market_through_the_api(rt, clock, api, tmp_path):
    from tests.test_link_checks import checks, template_with

    template_with(rt, tmp_path, answer="market_links")
    token = make_token(rt, clock, roles=("knowledge", "content", "product_manager", "marketing", "wfm"))
    launch_id = open_launch(rt, clock, markets=("FR", "DE"))
    with unit_of_work(rt.ctx.engine) as session:
        key = session.exec(select(Item.item_key).where(Item.launch_id == launch_id,
                                                       Item.answer_kind == "market_links")).one()
    bad = post(api, launch_id, key, {"value": {"FR": "https://help.example.com/fr", "DE": "soon", "IT": "x"}}, token)
    assert bad.status_code == 422 and bad.json()["fields"] == {
        "value.DE": "Enter a link starting with https:// (or http://).",
        "value": "IT: not a market of this launch (FR, DE)."}
    one = post(api, launch_id, key, {"value": "https://help.example.com/fr"}, token)   # not per market
    assert one.status_code == 422 and "FR: Required" in one.json()["fields"]["value"]
    ok = post(api, launch_id, key, {"value": {"fr": "https://help.example.com/fr",
                                              "DE": "https://help.example.com/de"}}, token)
    assert ok.status_code == 200, ok.text
    assert item_by_key(rt, launch_id, key).answer == {"FR": "https://help.example.com/fr",
                                                      "DE": "https://help.example.com/de"}
    assert sorted(r.market for r in checks(rt, launch_id=launch_id)) == ["DE", "FR"]
