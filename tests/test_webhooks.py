"""Signed outgoing webhooks: derived from what changed, queued in the same transaction,
verified by a receiver using the standardwebhooks library, retried, paused, replayed."""
from __future__ import annotations

import json
from datetime import timedelta

import jsonschema
import pytest
import yaml
from sqlmodel import select
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from bot.cli import main
from bot.db import unit_of_work
from bot.services import effects, launches, policy
from bot.webhooks.config import WebhookConfigError, load_endpoints
from models import AuditEvent, OutboxMessage, OutboxStatus, UserProfile, WebhookEndpointState
from tests.conftest import ROOT
from tests.gate_support import LAUNCH_DATE, gate_at, open_launch, satisfy, vote
from tests.local_http import LocalSite

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
NEW_SECRET = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD"


class Receiver:
    """A receiver as a customer would write it: verify with standardwebhooks, dedupe on the id."""

    def __init__(self, site: LocalSite, secret: str = SECRET, path: str = "/hooks", fail_first: int = 0):
        self.verifier, self.events, self.rejected, self.failures_left = Webhook(secret), {}, 0, fail_first
        self.attempts = 0
        site.routes[path] = self.handle

    def handle(self, req):
        self.attempts += 1
        if self.failures_left > 0:
            self.failures_left -= 1
            return 503, {}, b"down for maintenance"
        try:
            event = self.verifier.verify(req.body, req.headers)
        except WebhookVerificationError:
            self.rejected += 1
            return 400, {}, b"bad signature"
        self.events.setdefault(event["id"], event)
        return 204, {}, b""

    def types(self) -> list[str]:
        return [e["type"] for e in self.events.values()]


@pytest.fixture
def site():
    s = LocalSite().start()
    yield s
    s.stop()


def configure(rt, tmp_path, endpoints, **settings):
    path = tmp_path / "webhooks.yaml"
    path.write_text(yaml.safe_dump({"endpoints": endpoints}))
    rt.ctx.settings = rt.ctx.settings.model_copy(update={"webhooks_file": str(path), **settings})
    effects.configure(rt.ctx.engine, rt.ctx.settings)
    return path


def endpoint(site, path="/hooks", **kw):
    return {"id": kw.pop("id", "change-mgmt"), "url": site.url(path), "secrets": kw.pop("secrets", [SECRET]), **kw}


def rows(rt, **where) -> list[OutboxMessage]:
    with unit_of_work(rt.ctx.engine) as session:
        found = session.exec(select(OutboxMessage).where(OutboxMessage.kind == "webhook").order_by(OutboxMessage.id))
        return [r for r in found if all(getattr(r, k) == v for k, v in where.items())]


def deliver_all(rt, clock, rounds=100, step=timedelta(minutes=10)):
    for _ in range(rounds):
        rt.worker.drain_all(clock())
        if not rows(rt, status=OutboxStatus.PENDING):
            return
        clock.advance(seconds=step.total_seconds())


def test_gate_decision_reaches_a_verifying_receiver(rt, clock, tmp_path, site):
    receiver = Receiver(site)
    configure(rt, tmp_path, [endpoint(site)])
    launch_id = open_launch(rt, clock)
    satisfy(rt, clock, launch_id, 0)
    vote(rt, clock, gate_at(rt, launch_id, 0), "ULEAD", "go")
    assert site.seen == []                       # queued with the change, sent by the worker
    rt.worker.drain_all(clock())
    assert receiver.rejected == 0
    assert receiver.types()[:1] == ["launch.opened"]
    assert {"gate.review_opened", "gate.decided", "item.answered"} <= set(receiver.types())
    decided = next(e for e in receiver.events.values() if e["type"] == "gate.decided")
    assert decided["version"] == 1 and decided["launch"]["key"] == f"LR-{launch_id}"
    assert decided["data"]["outcome"] == "go" and decided["data"]["gate"]["key"] == gate_at(rt, launch_id, 0).gate_key
    assert [v["voter"] for v in decided["data"]["votes"]] == ["ULEAD"]
    assert decided["actor"] == {"type": "user", "id": "ULEAD"}
    schema = json.loads((ROOT / "docs" / "webhook-event.schema.json").read_text())
    for event in receiver.events.values():          # every payload matches the documented schema
        jsonschema.validate(event, schema)
    seen = next(s for s in site.seen if json.loads(s.body)["id"] == decided["id"])
    assert seen.headers["webhook-id"] == decided["id"]
    assert seen.headers["webhook-signature"].startswith("v1,")


def test_forged_or_replayed_calls_are_refused_by_the_receiver(rt, clock, tmp_path, site):
    receiver = Receiver(site)
    configure(rt, tmp_path, [endpoint(site)])
    open_launch(rt, clock)
    rt.worker.drain_all(clock())
    (call,) = site.seen
    verifier = Webhook(SECRET)
    assert verifier.verify(call.body, call.headers)["type"] == "launch.opened"
    with pytest.raises(WebhookVerificationError):
        verifier.verify(call.body.replace(b"launch.opened", b"launch.cancelled"), call.headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(NEW_SECRET).verify(call.body, call.headers)
    old = dict(call.headers, **{"webhook-timestamp": str(int(call.headers["webhook-timestamp"]) - 3600)})
    with pytest.raises(WebhookVerificationError):
        verifier.verify(call.body, old)
    assert receiver.rejected == 0


def test_rotation_signs_with_both_secrets(rt, clock, tmp_path, site):
    old, new = Receiver(site, SECRET, "/old"), Receiver(site, NEW_SECRET, "/new")
    configure(rt, tmp_path, [endpoint(site, "/old", id="old", secrets=[SECRET, NEW_SECRET]),
                             endpoint(site, "/new", id="new", secrets=[NEW_SECRET, SECRET])])
    open_launch(rt, clock)
    rt.worker.drain_all(clock())
    assert old.types() == new.types() == ["launch.opened"]
    assert len(site.seen[0].headers["webhook-signature"].split(" ")) == 2


def test_events_filter_per_endpoint_and_nothing_for_a_rolled_back_change(rt, clock, tmp_path, site):
    receiver = Receiver(site)
    configure(rt, tmp_path, [endpoint(site, events=["gate.decided"])])
    template = rt.ctx.templates["product"]
    form = launches.validate_form(launches.LaunchForm(
        name="Rolled back", kind="product", markets=["FR"], launch_date=LAUNCH_DATE, readiness_lead_id="ULEAD",
        brief="b"), rt.ctx.templates, clock().date())
    with pytest.raises(RuntimeError), unit_of_work(rt.ctx.engine) as session:
        launches.open_launch(session, form, actor="UPM", template=template, now=clock(),
                             reminder_policy=policy.for_template(rt.ctx.settings, template).as_dict())
        session.flush()
        raise RuntimeError("the command failed after the change")
    assert rows(rt) == []
    launch_id = open_launch(rt, clock)
    assert rows(rt) == []                      # launch.opened is not subscribed
    satisfy(rt, clock, launch_id, 0)
    vote(rt, clock, gate_at(rt, launch_id, 0), "ULEAD", "go")
    rt.worker.drain_all(clock())
    assert receiver.types() == ["gate.decided"]


def test_receiver_down_for_a_while_then_back_loses_nothing(rt, clock, tmp_path, site):
    receiver = Receiver(site, fail_first=7)
    configure(rt, tmp_path, [endpoint(site)], webhook_pause_after=4)
    launch_id = open_launch(rt, clock)
    satisfy(rt, clock, launch_id, 0)
    queued = {r.payload["event"]["id"] for r in rows(rt)}
    assert len(queued) >= 3
    deliver_all(rt, clock)
    assert set(receiver.events) == queued and receiver.rejected == 0
    assert all(r.status == OutboxStatus.SENT for r in rows(rt))
    with unit_of_work(rt.ctx.engine) as session:
        actions = list(session.exec(select(AuditEvent.action).where(AuditEvent.entity == "webhook")))
        alerts = session.exec(select(OutboxMessage).where(OutboxMessage.kind == "admin_alert")).all()
        state = session.get(WebhookEndpointState, "change-mgmt")
    assert actions == ["webhook.paused", "webhook.resumed"]
    paused = [a for a in alerts if "is paused" in a.payload["text"]]
    assert len(paused) == 1 and paused[0].recipient == "UADMIN"         # admins told once
    assert state.paused_at is None and state.consecutive_failures == 0


def test_dead_letters_are_replayed_with_their_ids(rt, clock, tmp_path, site, monkeypatch, capsys):
    receiver = Receiver(site, fail_first=10_000)
    path = configure(rt, tmp_path, [endpoint(site)], webhook_pause_after=100, outbox_retry_hours=1)
    open_launch(rt, clock)
    deliver_all(rt, clock, rounds=40, step=timedelta(minutes=10))
    (dead,) = rows(rt, status=OutboxStatus.DEAD)           # the worker's retry budget ran out
    assert receiver.events == {} and dead.attempts >= 3 and receiver.attempts == dead.attempts
    receiver.failures_left = 0
    monkeypatch.setenv("DATABASE_URL", rt.ctx.settings.database_url)
    monkeypatch.setenv("WEBHOOKS_FILE", str(path))
    assert main(["webhooks", "status"]) == 0
    assert "dead 1" in capsys.readouterr().out
    assert main(["webhooks", "replay", "--since", (clock() - timedelta(days=1)).isoformat()]) == 0
    assert "1 dead-lettered event(s)" in capsys.readouterr().out
    rt.worker.drain_all(clock())
    assert list(receiver.events) == [dead.payload["event"]["id"]]


def test_cli_test_sends_a_signed_ping(site, monkeypatch, capsys, tmp_path):
    receiver = Receiver(site)
    monkeypatch.setenv("WEBHOOKS_FILE", str(tmp_path / "none.yaml"))
    assert main(["webhooks", "test", site.url("/hooks"), "--secret", SECRET]) == 0
    assert "HTTP 204" in capsys.readouterr().out
    assert receiver.types() == ["ping"]
    assert main(["webhooks", "test", site.url("/hooks")]) == 2          # no secret to sign with
    assert main(["webhooks", "test", site.url("/hooks"), "--secret", NEW_SECRET]) == 1   # receiver refuses
    assert "HTTP 400" in capsys.readouterr().err


def test_webhooks_file_faults_are_one_clear_line(tmp_path, monkeypatch):
    path = tmp_path / "webhooks.yaml"
    path.write_text(yaml.safe_dump({"endpoints": [{"id": "x", "url": "https://h.example/", "secrets": ["nope"],
                                                   "events": ["gate.decided"]}]}))
    with pytest.raises(WebhookConfigError, match="endpoints.0.secrets: Value error, a secret must start with whsec_"):
        load_endpoints(path)
    path.write_text(yaml.safe_dump({"endpoints": [{"id": "x", "url": "https://h.example/", "secrets": ["env:LG_T"],
                                                   "events": ["gate.decidde"]}]}))
    monkeypatch.setenv("LG_T", SECRET)
    with pytest.raises(WebhookConfigError, match="unknown event.*gate.decidde"):
        load_endpoints(path)
    assert load_endpoints(tmp_path / "missing.yaml") == []


def test_a_capacity_gap_is_an_event_when_it_appears_changes_or_closes(rt, clock, tmp_path, site):
    from bot.services import capacity
    from models import Launch
    from tests.test_capacity_gate import FORECAST, _answer, _item

    receiver = Receiver(site)
    configure(rt, tmp_path, [endpoint(site, events=["capacity.gap", "capacity.gap_closed"])])
    launch_id = open_launch(rt, clock, markets=("FR",))
    forecast, plan = _item(rt, launch_id, "forecast"), _item(rt, launch_id, "capacity_plan")
    _answer(rt, clock, forecast, FORECAST)                              # no plan yet: nothing to compare
    _answer(rt, clock, plan, {"fp.fr-default": "5, 5, 5, 5, 5, 5"})     # WFM plans 5 FTE: a gap
    _answer(rt, clock, forecast, FORECAST | {"shrinkage": "30"}, actor="UMKT")   # re-checked, the same gap
    _answer(rt, clock, plan, {"fp.fr-default": "9, 9, 9, 9, 9, 9"})     # smaller, but still a gap
    with unit_of_work(rt.ctx.engine) as session:
        need = [r.fte for r in capacity.launch_capacity(session, session.get(Launch, launch_id),
                                                        rt.ctx.settings).queues[0].required]
    _answer(rt, clock, plan, {"fp.fr-default": ", ".join(f"{x + 1:.1f}" for x in need)})   # covered
    deliver_all(rt, clock)
    assert receiver.rejected == 0
    assert receiver.types() == ["capacity.gap", "capacity.gap", "capacity.gap_closed"]
    first, second, closed = receiver.events.values()
    assert [g["week"] for g in first["data"]["gaps"]] == [1, 2, 3, 4, 5, 6]
    assert first["data"]["gaps"][0]["queue"] == "fr-default" and first["data"]["verdict"].startswith("Capacity: short")
    assert first["data"]["gaps"][0]["short_fte"] > second["data"]["gaps"][0]["short_fte"] > 0
    assert first["actor"] == {"type": "user", "id": plan.owner_id} and first["launch"]["key"] == f"LR-{launch_id}"
    assert closed["data"]["gaps"] == [] and "covers" in closed["data"]["verdict"]
    schema = json.loads((ROOT / "docs" / "webhook-event.schema.json").read_text())
    for event in receiver.events.values():
        jsonschema.validate(event, schema)


def test_lifecycle_waiver_date_and_overdue_events_reach_the_receiver(rt, clock, tmp_path, site):
    from bot.services import launch_edit, lifecycle, waivers
    from bot.ticks import run_tick
    from tests.gate_support import items_of

    receiver = Receiver(site)
    configure(rt, tmp_path, [endpoint(site)])
    launch_id = open_launch(rt, clock)
    first, second = [i for i in items_of(rt, launch_id, 0) if i.state == "open"][:2]
    with unit_of_work(rt.ctx.engine) as session:
        waivers.waive(session, first.id, "ULEAD", "Covered by the global brief", None, now=clock(),
                      settings=rt.ctx.settings)
    with unit_of_work(rt.ctx.engine) as session:
        waivers.revoke(session, first.id, "ULEAD", "The brief does not cover FR", now=clock(),
                       settings=rt.ctx.settings)
    with unit_of_work(rt.ctx.engine) as session:
        waivers.waive(session, second.id, "ULEAD", "Until the partner signs", clock().date() + timedelta(days=2),
                      now=clock(), settings=rt.ctx.settings)
    with unit_of_work(rt.ctx.engine) as session:
        launch_edit.change_date(session, launch_id, LAUNCH_DATE + timedelta(days=7), actor="UPM", now=clock(),
                                settings=rt.ctx.settings, reason="Partner contract late")
    due = min(i.due_at for i in items_of(rt, launch_id) if i.state == "open" and i.required)
    late = due + timedelta(days=7)          # a weekday late morning, a week past the first due date
    while late.weekday() >= 5:
        late += timedelta(days=1)
    clock.set(late.replace(hour=9, minute=0))
    with unit_of_work(rt.ctx.engine) as session:   # the lead's time zone is known (escalations wait for it)
        session.add(UserProfile(user_id="ULEAD", tz="Europe/London", real_name="Lead", fetched_at=clock()))
    run_tick(rt.ctx, clock())               # the waiver has expired, the first items are overdue
    with unit_of_work(rt.ctx.engine) as session:
        lifecycle.hold(session, f"LR-{launch_id}", "UPM", "Legal review", now=clock())
    with unit_of_work(rt.ctx.engine) as session:
        lifecycle.resume(session, f"LR-{launch_id}", "UPM", now=clock(), settings=rt.ctx.settings)
    with unit_of_work(rt.ctx.engine) as session:
        lifecycle.cancel(session, f"LR-{launch_id}", "UPM", "Product withdrawn", now=clock())
    deliver_all(rt, clock)
    assert receiver.rejected == 0
    assert {"launch.opened", "waiver.granted", "waiver.revoked", "launch.date_changed", "waiver.expired",
            "item.overdue", "launch.held", "launch.resumed", "launch.cancelled"} <= set(receiver.types())
    by_type = {e["type"]: e for e in receiver.events.values()}
    assert by_type["launch.date_changed"]["data"]["reason"] == "Partner contract late"
    assert by_type["launch.date_changed"]["data"]["to"] == (LAUNCH_DATE + timedelta(days=7)).isoformat()
    assert by_type["waiver.revoked"]["data"]["item"]["id"] == first.id
    assert by_type["waiver.expired"]["data"]["item"]["id"] == second.id
    assert by_type["launch.cancelled"]["data"] | {"from_status": None} == {
        "from_status": None, "to_status": "cancelled", "reason": "Product withdrawn"}
    assert by_type["item.overdue"]["data"]["level"] == 1 and by_type["item.overdue"]["data"]["items"]
    schema = json.loads((ROOT / "docs" / "webhook-event.schema.json").read_text())
    for event in receiver.events.values():
        jsonschema.validate(event, schema)
