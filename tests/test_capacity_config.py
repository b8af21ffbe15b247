"""capacity.yaml: the shipped example is valid, faults name file, field and reason, the CLI exits non-zero."""
from __future__ import annotations

import subprocess
import sys

import pytest

from bot.capacity.config import CapacityError, load_queues, validate_file
from bot.capacity.staffing import weekly_requirement
from tests.conftest import ROOT


def test_shipped_example_is_valid_and_maps_markets_to_queues():
    queues, faults = validate_file(ROOT / "capacity.example.yaml")
    assert faults == []
    assert [q.id for q in queues.for_markets(["FR"])] == ["fr-phone", "fr-email"]
    fr = queues.by_id["fr-phone"]
    assert fr.timezone == "Europe/Paris" and fr.patience_seconds == 120 and fr.hours["sat"] == (540, 1020)
    assert abs(sum(share for _, _, share in fr.intervals()) - 1) < 1e-9
    # the intraday profile puts the peak mid-morning, so the peak needs more agents than a flat week
    flat = weekly_requirement(queues.by_id["uk-phone"], 8000, 180)
    assert weekly_requirement(fr, 8000, 180).peak_agents > flat.peak_agents
    de_chat = queues.by_id["de-chat"]
    assert de_chat.interval_minutes == 15 and de_chat.sl_target == 0.9 and de_chat.shrinkage == 0.35


def test_a_market_without_a_queue_gets_a_default_phone_queue(tmp_path):
    queues = load_queues(tmp_path / "missing.yaml")
    assert not queues.configured
    (q,) = queues.for_markets(["US"])
    assert q.id == "us-default" and q.channel == "phone" and queues.get("us-default").markets == ("US",)


BAD = """\
version: 1
queues:
  - id: fr-phone
    markets: [XX]
    channel: fax
    hours: {mon: "20:00-08:00"}
    colour: red
  - id: fr-phone
    markets: [FR]
    channel: email
    hours: {mon: "08:00-09:00"}
    service_target: {percent: 80, seconds: 20}
"""


def test_every_fault_has_file_field_and_reason(tmp_path):
    path = tmp_path / "capacity.yaml"
    path.write_text(BAD)
    _, faults = validate_file(path)
    text = [str(f) for f in faults]
    assert f"{path}: queues[0].markets: unknown market(s) XX; use ISO 3166 codes like FR" in text
    assert any(f.field == "queues[0].channel" and "'phone'" in f.reason for f in faults)
    assert any(f.field == "queues[0].hours" and "before closing" in f.reason for f in faults)
    assert any(f.field == "queues[0].colour" and f.reason == "unknown key" for f in faults)
    assert any(f.field == "queues[1]" and "only go with channel phone or chat" in f.reason for f in faults)
    with pytest.raises(CapacityError):
        load_queues(path)


def test_intraday_must_name_open_interval_starts(tmp_path):
    path = tmp_path / "capacity.yaml"
    path.write_text('queues:\n  - id: q\n    markets: [FR]\n    channel: phone\n    hours: {mon: "08:00-10:00"}\n'
                    '    intraday: {"08:00": 1, "09:15": 2, "11:00": 1}\n')
    _, faults = validate_file(path)
    assert [(f.field, f.reason) for f in faults] == [
        ("queues[0].intraday", "09:15, 11:00 is not the start of an open 30-minute interval")]


def test_cli_validate_exit_codes(tmp_path):
    bad = tmp_path / "capacity.yaml"
    bad.write_text(BAD)
    run = [sys.executable, "-m", "bot", "capacity", "validate"]
    ok = subprocess.run(run + [str(ROOT / "capacity.example.yaml")], capture_output=True, text=True, cwd=ROOT)
    assert ok.returncode == 0 and "5 queue(s) valid" in ok.stdout
    failed = subprocess.run(run + [str(bad)], capture_output=True, text=True, cwd=ROOT)
    assert failed.returncode == 1
    assert "queues[0].colour: unknown key" in failed.stderr and "problem(s)" in failed.stderr
    missing = subprocess.run(run + [str(tmp_path / "nope.yaml")], capture_output=True, text=True, cwd=ROOT)
    assert missing.returncode == 1 and "file: not found" in missing.stderr
