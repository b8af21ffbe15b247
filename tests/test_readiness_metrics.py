"""Readiness metrics from the audit trail: the service, /metrics for Prometheus and `launchgate metrics`."""
from __future__ import annotations

import csv
import io
import json
from collections import Counter
from datetime import timedelta

import pytest

from bot.cli import main
from bot.db import unit_of_work
from bot.services import lifecycle, readiness, waivers
from bot.web import make_wsgi_app
from models import ItemState, LaunchStatus
from tests.gate_support import answer, gate_at, items_of, launch_of, open_launch, satisfy, vote


@pytest.fixture
def history(rt, clock):
    """Three launches with a known record: a first-time Go, a Recycle then Go, a hold, a waiver, a late answer."""
    first = open_launch(rt, clock, name="Quick one")
    second = open_launch(rt, clock, name="Second try")
    held = open_launch(rt, clock, name="Held one")
    satisfy(rt, clock, first, 0)
    satisfy(rt, clock, second, 0)
    clock.advance(days=2)
    vote(rt, clock, gate_at(rt, first, 0), "ULEAD")                       # Go at the first review: 2 days
    sent_back = next(i for i in items_of(rt, second, 0) if i.required)
    vote(rt, clock, gate_at(rt, second, 0), "ULEAD", "recycle", reason="Redo it", reopen=[sent_back.id])
    clock.advance(days=1)
    satisfy(rt, clock, second, 0)
    clock.advance(days=2)
    vote(rt, clock, gate_at(rt, second, 0), "ULEAD")                      # Go at round 2: 5 days after opening
    waived = next(i for i in items_of(rt, held, 0) if i.required and i.is_open)
    with unit_of_work(rt.ctx.engine) as session:
        waivers.waive(session, waived.id, "ULEAD", "Not needed here", None, now=clock(), settings=rt.ctx.settings)
        lifecycle.hold(session, f"LR-{held}", "UPM", "Budget review", now=clock())
    late = next(i for i in items_of(rt, first, 1) if i.required and i.is_open)
    clock.set(late.due_at + timedelta(days=1))
    answer(rt, clock, late)                                                # answered a day after it was due
    return {"first": first, "second": second, "held": held, "waived": waived, "late": late}


def expected_overdue(rt, clock, launch_ids) -> dict[str, int]:
    counts: Counter = Counter()
    for launch_id in launch_ids:
        if launch_of(rt, launch_id).status != LaunchStatus.OPEN:
            continue
        for item in items_of(rt, launch_id):
            if item.required and item.state in (ItemState.OPEN, ItemState.BLOCKED) and item.due_at < clock():
                counts[item.owner_role] += 1
    return dict(counts)


def test_figures_follow_the_record(rt, clock, history):
    with unit_of_work(rt.ctx.engine) as session:
        r = readiness.compute(session, now=clock())
    assert r.launches == {("product", "open"): 2, ("product", "on_hold"): 1}
    discovery = r.gates[("product", "discovery")]
    assert discovery.first_reviews == 2 and discovery.first_time_right == 1
    assert discovery.first_time_right_ratio == 0.5
    assert sorted(round(s / 86400, 3) for s in discovery.cycle_seconds) == [2.0, 5.0]
    assert discovery.decided == 2 and discovery.on_time_ratio == 1.0
    assert r.waivers == {history["waived"].owner_role: 1}
    assert r.answered_late == {history["late"].owner_role: 1}
    assert r.overdue == expected_overdue(rt, clock, [history["first"], history["second"], history["held"]])
    assert sum(r.overdue.values()) > 0
    # --since: decisions before it are not counted; the current state (launches, overdue) still is.
    with unit_of_work(rt.ctx.engine) as session:
        later = readiness.compute(session, now=clock(), since=clock() + timedelta(days=1))
    assert later.gates.get(("product", "discovery")) is None or later.gates[("product", "discovery")].decided == 0
    assert later.waivers == {} and later.answered_late == {}
    assert later.launches == r.launches


def test_prometheus_metrics_have_only_low_cardinality_labels(rt, clock, history):
    app = make_wsgi_app(None, rt.ctx.engine, clock=clock)
    status = {}
    body = b"".join(app({"PATH_INFO": "/metrics", "REQUEST_METHOD": "GET"},
                        lambda s, headers: status.setdefault("s", s))).decode()
    assert status["s"].startswith("200")
    assert 'launchgate_launches{kind="product",state="on_hold"} 1.0' in body
    assert 'launchgate_gate_first_time_right_ratio{gate="discovery",kind="product"} 0.5' in body
    assert 'launchgate_gate_cycle_seconds_count{gate="discovery",kind="product"} 2.0' in body
    assert 'launchgate_gate_cycle_seconds_bucket{gate="discovery",kind="product",le="172800.0"} 1.0' in body
    assert f'launchgate_waivers_granted{{role="{history["waived"].owner_role}"}} 1.0' in body
    assert "launchgate_overdue_items{" in body and "launchgate_items_answered_late{" in body
    assert "launchgate_outbox_pending" in body  # the operator's metrics are still there
    labels = {part.split("=")[0] for line in body.splitlines() if line.startswith("launchgate_") and "{" in line
              for part in line[line.index("{") + 1:line.index("}")].split(",") if "=" in part}
    assert labels <= {"kind", "state", "gate", "role", "le", "reason", "error", "step"}
    for secret in ("Quick one", "Second try", "Held one", "LR-", "UPM", "ULEAD", "Budget review"):
        assert secret not in body


def test_metrics_command_line(rt, clock, history, db_url, monkeypatch, capsys):
    monkeypatch.setenv("DATABASE_URL", db_url)
    assert main(["metrics", "--since", "2027-01-01", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["since"] == "2027-01-01"
    ftr = [m for m in data["metrics"] if m["metric"] == "first_time_right_ratio" and m["gate"] == "discovery"]
    assert ftr == [{"metric": "first_time_right_ratio", "kind": "product", "gate": "discovery", "role": "",
                    "state": "", "value": 0.5}]
    assert main(["metrics", "--since", "2027-01-01"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert {"metric", "kind", "gate", "role", "state", "value"} == set(rows[0])
    assert {"metric": "waivers_granted", "kind": "", "gate": "", "role": history["waived"].owner_role,
            "state": "", "value": "1"} in rows
    assert main(["metrics", "--since", "2040-01-01", "--format", "json"]) == 0
    later = json.loads(capsys.readouterr().out)["metrics"]
    assert not [m for m in later if m["metric"] in ("waivers_granted", "first_time_right_ratio")]
    with pytest.raises(SystemExit):
        main(["metrics", "--since", "last quarter"])
    assert "not a date" in capsys.readouterr().err
