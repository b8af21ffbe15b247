"""`launchgate portfolio [--html]`: launches by next gate, an SVG timeline drawn on the server, risks, metrics.

The HTML is opened in a real headless Chromium, which lays the SVG out; a probe
script appended to a copy of the page reads back what the browser drew.
"""
from __future__ import annotations

import html as html_lib
import json
import re
import shutil
import subprocess
from datetime import datetime, timedelta, timezone

import pytest

from bot.cli import main
from bot.db import unit_of_work
from bot.services import lifecycle
from bot.ticks import run_tick
from models import Launch
from tests.flows import deliver, dms, outbox, text_of
from tests.gate_support import gates_of, open_launch

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


@pytest.fixture
def launches(rt, clock):
    shown = open_launch(rt, clock, name="Payouts <script>alert(1)</script>")
    held = open_launch(rt, clock, kind="market", name="Germany entry", markets=("DE",))
    secret = open_launch(rt, clock, name="Nightjar")
    with unit_of_work(rt.ctx.engine) as session:
        lifecycle.hold(session, f"LR-{held}", "UPM", "Budget", now=clock())
        row = session.get(Launch, secret)
        row.private = True  # setup: what the private choice in the modal stores
        session.add(row)
    return {"shown": shown, "held": held, "secret": secret}


def test_markdown_lists_launches_risks_and_hides_private(launches, db_url, monkeypatch, capsys):
    monkeypatch.setenv("DATABASE_URL", db_url)
    assert main(["portfolio"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("# Launch portfolio")
    assert "LR-1 Payouts \\<script\\>alert(1)\\</script\\>" in out or "LR-1 Payouts \\<script>" in out
    assert "Germany entry" in out and "Nightjar" not in out
    assert "1 private not shown" in out
    risk = out.split("## At risk")[1].split("##")[0]
    assert "LR-2 Germany entry**: on hold" in risk
    assert "| Discovery |" in out  # the next gate of each launch
    assert "## Readiness metrics" in out and "| launches | market |" in out
    assert main(["portfolio", "--include-private"]) == 0
    assert "Nightjar" in capsys.readouterr().out


@pytest.mark.skipif(CHROMIUM is None, reason="needs Chromium (.ci/run installs it)")
def test_html_timeline_renders_in_a_browser(rt, launches, db_url, monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("DATABASE_URL", db_url)
    assert main(["portfolio", "--html", "--include-private"]) == 0
    html = capsys.readouterr().out
    assert "<script>alert(1)</script>" not in html  # the name is text, not markup
    probe = """<script>
      const svg = document.getElementById('timeline');
      const groups = [...svg.querySelectorAll('g.launch')].map(g => {
        const box = g.getBBox();
        return {key: g.dataset.key, gates: g.querySelectorAll('circle.gate').length,
                w: box.width, h: box.height, label: g.querySelector('text').textContent};
      });
      const today = svg.querySelector('line.today').getBBox();
      document.body.setAttribute('data-probe', JSON.stringify({groups, width: svg.getBBox().width,
        todayX: today.x, scripts: document.scripts.length}));
    </script></body>"""
    page = tmp_path / "portfolio.html"
    page.write_text(html.replace("</body>", probe))
    dom = subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--dump-dom", page.as_uri()],
                         capture_output=True, text=True, timeout=120).stdout
    probe_json = html_lib.unescape(re.search(r'data-probe="([^"]*)"', dom).group(1))
    drawn = json.loads(probe_json)
    assert drawn["scripts"] == 1  # only the probe: the report itself runs no script
    by_key = {g["key"]: g for g in drawn["groups"]}
    assert set(by_key) == {f"LR-{i}" for i in launches.values()}
    for key, launch_id in ((f"LR-{i}", i) for i in launches.values()):
        assert by_key[key]["gates"] == len(gates_of(rt, launch_id))
        assert by_key[key]["w"] > 100 and by_key[key]["h"] > 5  # a real bar with markers, laid out
    assert by_key["LR-1"]["label"].startswith("LR-1 Payouts <script>")  # shown as text
    assert 0 < drawn["todayX"] < 980


def _monday(hour: int, minute: int = 0) -> datetime:
    return datetime(2027, 8, 9, hour, minute, tzinfo=timezone.utc)  # Monday after the test clock's Monday


def test_weekly_digest_goes_to_each_lead_once_on_monday_morning(standin, bot, rt, clock, launches):
    run_tick(rt.ctx, _monday(12) - timedelta(days=1))   # Sunday
    run_tick(rt.ctx, _monday(7, 30))   # 08:30 in London: before the working day
    assert outbox(rt.ctx.engine, "portfolio_digest") == []
    run_tick(rt.ctx, _monday(8, 30))   # 09:30 in London
    # The pass that queues it says so (the scheduler kicks the worker on such lines)…
    assert "portfolio digest ULEAD (2027-W32)" in run_tick(rt.ctx, _monday(10, 0)).lines
    # …and a later pass, or another replica, queues nothing more.
    assert not [line for line in run_tick(rt.ctx, _monday(11, 0)).lines if line.startswith("portfolio digest")]
    (row,) = outbox(rt.ctx.engine, "portfolio_digest")
    assert row.recipient == "ULEAD"
    deliver(bot, now=_monday(10, 1))
    (digest,) = [m for m in dms(standin, "ULEAD") if "Launch portfolio" in text_of(m)]
    body = text_of(digest)
    assert "Nightjar" in body  # a readiness lead may see private launches
    assert "At risk" in body and "LR-2* Germany entry: on hold" in body
    assert "&lt;script&gt;" in body and "<script>" not in body
    assert len(digest["blocks"]) <= 50


def test_channel_digest_leaves_private_launches_out_and_folds_long_lists(standin, bot, rt, clock, launches):
    channel = standin.add_channel(name="portfolio")
    rt.ctx.settings = rt.ctx.settings.model_copy(update={"portfolio_channel": channel})
    for n in range(15):
        open_launch(rt, clock, name=f"Wave {n}", markets=("FR",))
    run_tick(rt.ctx, _monday(9, 5))
    (row,) = outbox(rt.ctx.engine, "portfolio_digest")
    assert row.recipient == channel
    deliver(bot, now=_monday(9, 6))
    (digest,) = standin.messages(channel)
    body = text_of(digest)
    assert "Nightjar" not in body and "Germany entry" in body
    assert "…and 2 more launches" in body  # 17 public launches, 15 shown
