"""`launchgate report`: the readiness report, in Markdown and HTML."""
from __future__ import annotations

import re
from datetime import date
from html.parser import HTMLParser

import pytest

from bot.cli import main
from bot.db import unit_of_work
from bot.services import answers, report, waivers
from bot.services.decisions import Condition
from models import ItemState
from tests.gate_support import answer, gate_at, items_of, open_launch, satisfy, vote

NAME = "Payouts | <b>fast</b> *now*"


@pytest.fixture
def launch_id(rt, clock):
    """Discovery decided Go with conditions, a waiver, a blocked optional item, a forecast answered."""
    launch_id = open_launch(rt, clock, name=NAME)
    first = items_of(rt, launch_id, 0)
    with unit_of_work(rt.ctx.engine) as session:
        waivers.waive(session, first[-1].id, "ULEAD", "Covered | by the *global* brief", date(2027, 9, 1),
                      now=clock(), settings=rt.ctx.settings)
    satisfy(rt, clock, launch_id, 0)
    vote(rt, clock, gate_at(rt, launch_id, 0), "ULEAD", "go_with_conditions", reason="Macros | late",
         conditions=[Condition("Publish the refund macros", "UCONTENT", date(2027, 9, 1))])
    blocked = next(i for i in items_of(rt, launch_id, 1)
                   if i.answer_kind != "forecast" and i.source_decision_id is None)
    with unit_of_work(rt.ctx.engine) as session:
        answers.mark_with_reason(session, blocked.id, ItemState.BLOCKED, {"reason": "Legal | review pending"},
                                 actor=blocked.owner_id, now=clock(), settings=rt.ctx.settings)
    forecast = next((i for i in items_of(rt, launch_id) if i.answer_kind == "forecast"), None)
    with_evidence = next(i for i in items_of(rt, launch_id, 1)
                         if i.answer_kind in ("confirm", "number", "text") and i.id != blocked.id)
    for item in filter(None, (forecast, with_evidence)):
        answer(rt, clock, item)
    return launch_id


def render(rt, html=False) -> str:
    with unit_of_work(rt.ctx.engine) as session:
        return report.render_report(session, "LR-1", html=html)


def table_rows(markdown: str) -> list[list[str]]:
    """Cells of every Markdown table row, splitting only on unescaped pipes."""
    rows = []
    for line in markdown.splitlines():
        if line.startswith("|") and not line.startswith("|---"):
            rows.append([c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]])
    return rows


def test_markdown_report_has_what_a_review_needs(rt, launch_id):
    text = render(rt)
    assert text.startswith("# Readiness report: LR-1 · Payouts \\| \\<b\\>fast\\</b\\> \\*now\\*")
    assert "| Owner | UPM |" in text and "| Readiness lead | ULEAD |" in text
    # Gates table: every gate, with the first decision.
    gate_rows = [r for r in table_rows(text) if len(r) == 5 and r[0] != "Gate" and r[0] != "Item"]
    assert "☑️ Go with conditions, 2027-08-02 08:00 UTC" in text
    assert gate_rows and all(len(r) == 5 for r in gate_rows)
    # The decision: who, when, votes, reason, conditions.
    assert "**Round 1: ☑️ Go with conditions** on 2027-08-02 08:00 UTC" in text
    assert "- ULEAD voted Go with conditions at 2027-08-02 08:00 UTC: Macros \\| late" in text
    assert "- Condition: Publish the refund macros (owner UCONTENT, due 2027-09-01)" in text
    # Items with owners, answers and evidence; links stay links.
    brief = next(i for i in items_of(rt, launch_id, 0) if i.answer_kind == "link" and i.required)
    assert f"[https://docs.example.com/{brief.item_key}](https://docs.example.com/{brief.item_key})" in text
    assert "[evidence](https://evidence.example.com/" in text
    # Waivers and blocked items have their own sections; user text cannot break the tables.
    waivers_section = text.split("## Waivers", 1)[1].split("##", 1)[0]
    assert "waived by ULEAD, expires 2027-09-02 00:00 UTC: Covered \\| by the \\*global\\* brief" in waivers_section
    blocked_section = text.split("## Blocked items", 1)[1].split("##", 1)[0]
    assert "Legal \\| review pending" in blocked_section
    for row in table_rows(text):
        assert len(row) in (2, 5, 7, 8), row          # 7 and 8: the capacity tables (weeks 1–6)
    # The timeline highlights, newest first.
    highlights = text.split("## Timeline highlights", 1)[1]
    assert highlights.index("decided Discovery: Go with conditions") < highlights.index("opened the launch")


def test_forecast_answers_read_as_sentences(rt, launch_id):
    if not any(i.answer_kind == "forecast" for i in items_of(rt, launch_id)):
        pytest.skip("no forecast item in the product checklist")
    text = render(rt)
    assert "100, 200, 300, 400, 500, 600 extra contacts/week (weeks 1–6) · AHT 6 min · SL 80% in 30 s · " \
           "shrinkage 30%" in text
    assert "weekly_contacts" not in text


class _Collect(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.links, self.text = [], [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        if tag == "a":
            self.links.append(dict(attrs)["href"])

    def handle_data(self, data):
        self.text.append(data)


def test_html_report_is_escaped_and_keeps_links(rt, launch_id):
    html = render(rt, html=True)
    parsed = _Collect()
    parsed.feed(html)
    assert "b" not in parsed.tags  # the <b> in the launch name stays text
    assert "Payouts | <b>fast</b> *now*" in "".join(parsed.text)
    assert "&lt;b&gt;fast&lt;/b&gt;" in html
    assert any(link.startswith("https://evidence.example.com/") for link in parsed.links)
    assert all(link.startswith("https://") for link in parsed.links)
    assert "Publish the refund macros" in html and "Macros | late" in "".join(parsed.text)


def test_report_command_line(rt, launch_id, db_url, monkeypatch, capsys):
    monkeypatch.setenv("DATABASE_URL", db_url)
    assert main(["report", "LR-1"]) == 0
    assert capsys.readouterr().out.startswith("# Readiness report: LR-1")
    assert main(["report", "lr1", "--html"]) == 0
    assert capsys.readouterr().out.startswith("<!DOCTYPE html>")
    assert main(["report", "LR-77"]) == 2
    assert "No launch LR-77" in capsys.readouterr().err
