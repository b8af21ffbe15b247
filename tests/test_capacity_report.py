"""The report's capacity section: SVG charts in HTML (no JavaScript, nothing fetched), tables in Markdown."""
from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from bot.db import unit_of_work
from bot.services import actuals, report
from tests.gate_support import open_launch
from tests.test_capacity_gate import FORECAST, _answer, _item


@pytest.fixture
def launch_id(rt, clock):
    launch_id = open_launch(rt, clock, markets=("FR",))
    _answer(rt, clock, _item(rt, launch_id, "forecast"), FORECAST)
    _answer(rt, clock, _item(rt, launch_id, "capacity_plan"), {"fp.fr-default": "25, 25, 5, 5, 5, 5"})
    with unit_of_work(rt.ctx.engine) as session:
        actuals.record_many(session, [actuals.Actual(launch_id, "fr-default", 1, 10000),
                                      actuals.Actual(launch_id, "fr-default", 2, 6000)],
                            source="csv", actor="UWFM", now=clock())
    return launch_id


def _render(rt, launch_id, html):
    with unit_of_work(rt.ctx.engine) as session:
        return report.render_report(session, f"LR-{launch_id}", html=html, settings=rt.ctx.settings)


def test_html_report_has_server_side_svg_charts_with_the_gap_hatched(rt, launch_id):
    html = _render(rt, launch_id, True)
    assert html.count("<svg") == 2 and "<script" not in html.lower()
    charts = re.findall(r"<svg.*?</svg>", html, re.S)
    assert all(not re.search(r'(href|src)="(?!#)', c) and "url(#hatch)" in charts[0] for c in charts)
    assert "Extra FTE: required vs planned" in charts[0] and "Extra contacts: forecast vs actual" in charts[1]
    assert charts[0].count('class="gap"') == 4            # weeks 3–6 fall short; weeks 1–2 are covered
    assert "short 17" in charts[0] and "10,000" in charts[1]
    assert "Capacity: short" in html and "WAPE 25.0%" in html and "bias +0.0%" in html


def test_markdown_report_gets_the_same_numbers_as_tables(rt, launch_id):
    text = _render(rt, launch_id, False)
    section = text.split("## Capacity", 1)[1].split("## Waivers", 1)[0]
    assert "| fr-default (FR phone) | contacts | 8,000 | 8,000 | 8,000 | 6,000 | 5,000 | 4,000 |" in section
    assert "| | planned FTE | 25.0 | 25.0 | 5.0 | 5.0 | 5.0 | 5.0 |" in section
    assert "| actual | 10,000 | 6,000 | – | – | – | – |" in section
    assert "WAPE 25.0%" in section and "forecast by UMKT" in section


def test_a_real_browser_draws_the_charts(rt, launch_id, tmp_path):
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.skip("chromium is not installed (.ci/run installs it)")
    page = tmp_path / "report.html"
    page.write_text(_render(rt, launch_id, True))
    dom = subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu",
                          "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120).stdout
    assert dom.count("<svg") == 2 and dom.count('class="gap"') == 4   # the browser parsed both charts
