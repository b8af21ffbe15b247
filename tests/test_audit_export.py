"""The audit trail: every change recorded with who, when, before and after;
`/launch timeline`, and `launchgate export` as CSV and JSON."""
from __future__ import annotations

import csv
import io
import json
import re

import pytest

from bot.cli import main
from bot.db import unit_of_work
from bot.services import audit, decisions, waivers
from bot.services.errors import Forbidden
from models import Launch
from tests.flows import deliver, events
from tests.gate_support import gate_at, items_of, open_launch, satisfy, vote


@pytest.fixture
def decided(rt, clock):
    """A launch with answers, a waiver, a refused vote and a decided first gate."""
    launch_id = open_launch(rt, clock)
    items = [i for i in items_of(rt, launch_id, 0) if i.required]
    with unit_of_work(rt.ctx.engine) as session:
        waivers.waive(session, items[-1].id, "ULEAD", "=HYPERLINK(\"http://evil\") covered elsewhere", None,
                      now=clock(), settings=rt.ctx.settings)
    satisfy(rt, clock, launch_id, 0)
    with pytest.raises(Forbidden):
        vote(rt, clock, gate_at(rt, launch_id, 0), "UOUTSIDER")
    vote(rt, clock, gate_at(rt, launch_id, 0), "ULEAD")
    return launch_id


def test_every_change_is_audited_with_actor_and_before_after(rt, decided):
    by_action = {}
    for event in events(rt.ctx.engine, launch_id=decided):
        by_action.setdefault(event.action, []).append(event)
    assert {"launch.created", "item.answered", "item.waived", "refused.vote", "vote.cast", "gate.review_opened",
            "gate.decided"} <= set(by_action)
    answered = by_action["item.answered"][0]
    assert answered.before["state"] == "open" and answered.after["state"] == "done" and answered.actor.startswith("U")
    (decided_event,) = by_action["gate.decided"]
    assert decided_event.actor == "ULEAD"
    assert decided_event.before == {"status": "in_review"} and decided_event.after["outcome"] == "go"
    assert [v["voter"] for v in decided_event.after["votes"]] == ["ULEAD"]
    (vote_event,) = by_action["vote.cast"]
    assert vote_event.after["outcome"] == "go" and vote_event.at is not None


def test_timeline_command_reads_like_sentences_in_the_readers_time_zone(standin, bot, rt, clock, decided):
    deliver(bot)  # UWFM's time zone (New York) is learned from their DM
    reply = standin.send_slash_command(bot.url, text="timeline LR-1", user_id="UWFM").json()
    body = "\n".join(b["text"]["text"] for b in reply["blocks"] if b["type"] == "section")
    lines = body.split("\n")

    def where(pattern: str) -> int:
        return next(n for n, line in enumerate(lines) if re.search(pattern, line))

    # 08:00 UTC on Monday 2 Aug 2027 is 04:00 in New York. Newest first.
    decided_at = where(r"^Mon 2 Aug 04:00 · <@ULEAD> decided Discovery: Go$")
    voted_at = where(r"^Mon 2 Aug 04:00 · <@ULEAD> voted Go on Discovery$")
    refused_at = where(r"<@UOUTSIDER> was refused \(vote on Discovery\): Only the approvers")
    waived_at = where(r"<@ULEAD> waived “.+”: =HYPERLINK")
    assert decided_at < voted_at < refused_at < waived_at < len(lines) - 1
    assert lines[-1] == "Mon 2 Aug 04:00 · <@UPM> opened the launch"  # oldest last
    assert "America/New_York" in json.dumps(reply["blocks"][-1])


def test_timeline_stays_inside_slack_limits_with_many_events(standin, bot, rt, clock, decided):
    with unit_of_work(rt.ctx.engine) as session:
        for n in range(400):  # setup: a long-running launch
            audit.record(session, actor="UWFM", action="item.edited", entity="item",
                         entity_id=items_of(rt, decided, 1)[0].id, launch_id=decided,
                         before={"state": "done", "answer": n}, after={"state": "done", "answer": n + 1},
                         note="x" * 150, at=clock())
    reply = standin.send_slash_command(bot.url, text="timeline LR-1 200", user_id="ULEAD").json()
    assert len(reply["blocks"]) <= 50
    assert all(len(b["text"]["text"]) <= 3000 for b in reply["blocks"] if b["type"] == "section")
    assert "of 4" in reply["blocks"][-1]["elements"][0]["text"]  # "showing N of 4xx events"
    missing = standin.send_slash_command(bot.url, text="timeline LR-9", user_id="ULEAD").json()
    assert "No launch LR-9" in missing["text"]


def run_cli(monkeypatch, capsys, db_url, *args) -> tuple[int, str, str]:
    monkeypatch.setenv("DATABASE_URL", db_url)
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_export_json_holds_decisions_and_the_whole_timeline(rt, decided, db_url, monkeypatch, capsys):
    code, out, _ = run_cli(monkeypatch, capsys, db_url, "export", "LR-1", "--format", "json")
    assert code == 0
    data = json.loads(out)
    assert data["launch"]["key"] == "LR-1" and data["launch"]["owner"] == "UPM"
    first = data["gates"][0]
    (decision,) = first["decisions"]
    assert decision["outcome"] == "go" and [v["voter"] for v in decision["votes"]] == ["ULEAD"]
    assert {s["id"] for s in decision["snapshot"]} == {i.id for i in items_of(rt, decided, 0)}
    assert [g["decisions"] for g in data["gates"][1:]] == [[] for _ in data["gates"][1:]]
    actions = [e["action"] for e in data["timeline"]]
    assert actions[0] == "launch.created" and "gate.decided" in actions and "refused.vote" in actions
    assert len(actions) == len(events(rt.ctx.engine, launch_id=decided))
    times = [e["at"] for e in data["timeline"]]
    assert times == sorted(times)  # oldest first


def test_export_csv_has_a_header_and_one_row_per_event(rt, decided, db_url, monkeypatch, capsys):
    code, out, _ = run_cli(monkeypatch, capsys, db_url, "export", "LR-1", "--format", "csv")
    assert code == 0
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[0] == ["at", "launch", "actor", "action", "entity", "entity_id", "summary", "before", "after", "note"]
    assert len(rows) - 1 == len(events(rt.ctx.engine, launch_id=decided))
    waived = next(r for r in rows if r[3] == "item.waived")
    assert waived[2] == "ULEAD" and json.loads(waived[8])["waiver_reason"].startswith("=HYPERLINK")
    assert waived[6].startswith("waived “")
    # A spreadsheet must not run what people typed: formula-looking cells are quoted.
    assert all(not cell.startswith(("=", "+", "@")) for row in rows[1:] for cell in row)
    decided_row = next(r for r in rows if r[3] == "gate.decided")
    assert decided_row[6] == "decided Discovery: Go" and decided_row[1] == "LR-1"


def test_export_of_an_unknown_launch_fails_with_one_line(db_url, monkeypatch, capsys, rt):
    code, out, err = run_cli(monkeypatch, capsys, db_url, "export", "LR-404", "--format", "csv")
    assert code == 2 and out == "" and "No launch LR-404" in err


def test_refusal_is_audited_even_though_nothing_changes(rt, clock):
    launch_id = open_launch(rt, clock)
    satisfy(rt, clock, launch_id, 0)
    gate = gate_at(rt, launch_id, 0)
    with pytest.raises(Forbidden):
        with unit_of_work(rt.ctx.engine) as session:
            decisions.cast_vote(session, gate.id, 1, "UPM", decisions.Ballot("go"), now=clock(),
                                settings=rt.ctx.settings)
    (refused,) = events(rt.ctx.engine, "refused.vote")
    assert refused.actor == "UPM" and "can't decide its gates yourself" in refused.note
    with unit_of_work(rt.ctx.engine) as session:
        assert session.get(Launch, launch_id).status == "open"


def test_item_events_from_the_answer_services_read_as_sentences(standin, bot, rt, clock):
    from bot.services import answers

    launch_id = open_launch(rt, clock)
    items = items_of(rt, launch_id, 1)
    link = next(i for i in items_of(rt, launch_id) if i.answer_kind == "link" and i.owner_id == "UPM")
    confirm = next(i for i in items if i.answer_kind == "confirm")
    with unit_of_work(rt.ctx.engine) as session:
        answers.answer(session, link.id, {"value": "https://docs.example.com/brief-v1"}, actor="UPM", now=clock(),
                       settings=rt.ctx.settings)
        answers.reassign(session, confirm.id, "ULEAD2", actor="ULEAD", now=clock(), settings=rt.ctx.settings)
    with unit_of_work(rt.ctx.engine) as session:
        answers.mark_with_reason(session, confirm.id, "na", {"reason": "No partner this time"}, actor="ULEAD2",
                                 now=clock(), settings=rt.ctx.settings)
    reply = standin.send_slash_command(bot.url, text="timeline LR-1", user_id="ULEAD").json()
    body = json.dumps(reply["blocks"], ensure_ascii=False)
    assert "<@UPM> answered “" in body and ": https://docs.example.com/brief-v1" in body
    assert f"reassigned “{confirm.question[:20]}" in body and "from <@" in body and "to <@ULEAD2>" in body
    assert "<@ULEAD2> marked “" in body and "not applicable: No partner this time" in body
