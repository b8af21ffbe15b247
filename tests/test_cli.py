"""The `launchgate` command itself: version, help that teaches, errors that point at CLI commands."""
from __future__ import annotations

import gc
import subprocess
import sys
from importlib.metadata import version

import pytest

from bot.cli import _collector_paused, build_parser
from bot.cli_help import subcommands
from tests.cli_process import one_line_error, run_cli
from tests.conftest import ROOT


def test_version(tmp_path):
    proc = run_cli("--version", cwd=tmp_path)
    assert proc.returncode == 0 and proc.stdout.strip() == f"launchgate {version('launchgate')}"


def test_every_subcommand_help_says_what_it_does_with_an_example():
    parser = build_parser()
    paths = []
    for path, sub in subcommands(parser):
        text = sub.format_help()
        name = " ".join(path)
        assert sub.description, f"`launchgate {name} --help` does not say what it does (bot/cli_help.py)"
        assert "examples:\n  launchgate " + name in text, f"`launchgate {name} --help` has no example"
        paths.append(name)
    assert {"serve", "tick", "outbox retry", "checklists validate"} <= set(paths)


def test_help_is_printed_by_the_command(tmp_path):
    proc = run_cli("tick", "--help", cwd=tmp_path)
    assert proc.returncode == 0 and "--dry-run" in proc.stdout
    assert "launchgate tick --dry-run --at 2027-03-02T09:00Z" in proc.stdout


def test_an_unknown_launch_at_the_terminal_suggests_a_cli_command_not_a_slack_one(db_url, tmp_path):
    for command in (("export", "LR-99"), ("report", "LR-99")):
        line = one_line_error(run_cli(*command, cwd=tmp_path, DATABASE_URL=db_url))
        assert "No launch LR-99" in line and "`launchgate portfolio`" in line and "/launch" not in line


# -- what `serve` does before it listens (README, Scale: cold start) ------------------------------
def test_serve_starts_with_the_collector_paused_then_freezes_what_it_built():
    frozen = gc.get_freeze_count()
    try:
        with _collector_paused():
            assert not gc.isenabled()
        assert gc.isenabled() and gc.get_freeze_count() > frozen
    finally:
        gc.unfreeze()


def test_a_start_that_fails_turns_the_collector_back_on_and_freezes_nothing():
    frozen = gc.get_freeze_count()
    with pytest.raises(RuntimeError), _collector_paused():
        raise RuntimeError("no database")
    assert gc.isenabled() and gc.get_freeze_count() == frozen


def test_the_serve_start_up_leaves_what_it_does_not_need_unimported():
    """Alembic (the head is read from the files), httpx (webhooks, actuals pulls) and holidays (the
    first tick) are imported when first used; bot.cli alone does not load the services."""
    code = ("import sys, bot.cli; services = 'bot.services' in sys.modules; "
            "import bot.db, bot.runtime, bot.scheduler, bot.slack_app, bot.web; "
            "print(services, *sorted(m for m in ('alembic', 'httpx', 'holidays') if m in sys.modules))")
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["False"]
