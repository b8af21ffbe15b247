"""Logs an operator reads: quiet on ordinary work, honest in a dry run, JSON when asked."""
from __future__ import annotations

import json
import logging
import threading
from datetime import datetime, timedelta, timezone

from bot.db import unit_of_work
from bot.services.outbox import Kind, enqueue
from tests.cli_process import run_cli


def test_clicks_while_the_worker_drains_log_no_apscheduler_warning(rt, standin, monkeypatch, caplog):
    """Every command kicks the delivery job; kicks during a drain are coalesced into one more
    round instead of APScheduler's "maximum number of running instances reached" warning."""
    from apscheduler.events import EVENT_JOB_MAX_INSTANCES

    from bot import scheduler as scheduling

    monkeypatch.setattr(scheduling, "DRAIN_SECONDS", 3600)
    channel = standin.add_channel(name="team")
    draining, release = threading.Event(), threading.Event()
    real = rt.worker.drain_all

    def held(*args, **kw):
        draining.set()
        release.wait(5)
        return real(*args, **kw)

    monkeypatch.setattr(rt.worker, "drain_all", held)
    skipped = []
    caplog.set_level(logging.WARNING, logger="apscheduler")
    scheduler = scheduling.start_scheduler(rt, first_tick_now=False)
    scheduler.add_listener(skipped.append, EVENT_JOB_MAX_INSTANCES)
    try:
        rt.kick()
        assert draining.wait(5)
        for n in range(5):  # five clicks while the drain runs
            with unit_of_work(rt.ctx.engine) as session:
                enqueue(session, Kind.TEXT, channel, {"text": f"click {n}"})
            rt.kick()
        job = scheduler.get_job("outbox-drain")  # the scheduler has looked at the job again (or never had to)
        standin.wait_for(lambda: job.next_run_time > datetime.now(timezone.utc) + timedelta(seconds=60), timeout=5)
        release.set()
        standin.wait_for(lambda: len(standin.messages(channel)) == 5, timeout=10)
    finally:
        release.set()
        scheduler.shutdown(wait=True)
    assert skipped == []
    assert "maximum number of running instances" not in caplog.text


def _old_delivered_row(engine, channel: str) -> None:
    """A plain notice delivered 60 days ago: the retention step deletes it."""
    from sqlalchemy import update

    from models import OutboxMessage, OutboxStatus

    with unit_of_work(engine) as session:
        enqueue(session, Kind.TEXT, channel, {"text": "long ago"})
    with unit_of_work(engine) as session:
        session.execute(update(OutboxMessage).values(status=OutboxStatus.SENT, sent_at=datetime.now(timezone.utc)
                                                     - timedelta(days=60), dedupe_key=None))


def _outbox_rows(engine) -> int:
    from sqlalchemy import func, select

    from models import OutboxMessage

    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(OutboxMessage)).scalar()


def test_a_dry_run_never_logs_deletions_it_does_not_make(db_url, engine, standin, tmp_path):
    _old_delivered_row(engine, standin.add_channel(name="team"))
    dry = run_cli("tick", "--dry-run", cwd=tmp_path, DATABASE_URL=db_url, LOG_LEVEL="INFO")
    assert dry.returncode == 0 and "delet" not in dry.stderr, dry.stderr
    assert _outbox_rows(engine) == 1
    real = run_cli("tick", cwd=tmp_path, DATABASE_URL=db_url, LOG_LEVEL="INFO", SLACK_BOT_TOKEN="xoxb-test-token",
                   SLACK_API_URL=standin.api_url)
    assert real.returncode == 0 and "outbox: deleted 1 delivered row(s) older than 30 days" in real.stderr
    assert _outbox_rows(engine) == 0


def test_migrations_log_only_when_one_runs(tmp_path):
    url = f"sqlite:///{tmp_path}/fresh.db"
    first = run_cli("migrate", cwd=tmp_path, DATABASE_URL=url)
    assert first.returncode == 0 and "Running upgrade" in first.stderr and "upgraded to head" in first.stdout
    assert "setting up autogenerate plugin" not in first.stderr and "setup plugin" not in first.stderr
    again = run_cli("migrate", cwd=tmp_path, DATABASE_URL=url)
    assert again.returncode == 0 and again.stderr == "" and "already at head" in again.stdout


def test_log_format_json_is_one_object_per_line_with_the_row_and_launch(db_url, engine, standin, tmp_path):
    from models import Launch

    with unit_of_work(engine) as session:
        launch = Launch(name="Payouts", kind="product", markets=["FR"], launch_date=datetime(2027, 11, 15).date(),
                        template_kind="product", template_version=1, owner_id="UPM", readiness_lead_id="ULEAD")
        session.add(launch)
        session.flush()
        enqueue(session, Kind.TEXT, "C0GONE", {"text": "to a channel that is not there"}, launch_id=launch.id)
        launch_id = launch.id
    proc = run_cli("tick", cwd=tmp_path, DATABASE_URL=db_url, LOG_FORMAT="json", SLACK_BOT_TOKEN="xoxb-test-token",
                   SLACK_API_URL=standin.api_url)
    assert proc.returncode == 0, proc.stderr
    entries = [json.loads(line) for line in proc.stderr.splitlines()]  # every line is one JSON object
    (dead,) = [e for e in entries if "dead-lettered" in e["message"]]
    assert dead["level"] == "ERROR" and dead["launch_id"] == launch_id and isinstance(dead["outbox_row"], int)
    assert dead["time"].endswith("+00:00") and "channel_not_found" in dead["message"]


def test_log_lines_inside_a_slack_request_carry_its_id_and_who_asked(bot, standin, monkeypatch):
    from bot import logs
    from bot.blocks import launch_views

    def broken():
        raise RuntimeError("template missing")

    monkeypatch.setattr(launch_views, "help_blocks", broken)
    lines: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: lines.append(logs.JsonFormatter().format(record))
    logging.getLogger("bot").addHandler(handler)
    try:
        standin.send_slash_command(bot.url, text="help", user_id="UPM", channel_id="C0GENERAL")
    finally:
        logging.getLogger("bot").removeHandler(handler)
    (entry,) = [json.loads(line) for line in lines if "unhandled RuntimeError" in line]
    assert entry["slack_user"] == "UPM" and entry["command"] == "/launch" and len(entry["request_id"]) == 16
