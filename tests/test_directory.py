"""The stakeholder directory: file validation, group expansion, market overrides."""
from __future__ import annotations

import pytest
from sqlmodel import select

from bot.cli import main
from bot.db import unit_of_work
from bot.delivery.slack_client import make_client
from bot.delivery.worker import OutboxWorker
from bot.services import directory
from bot.services.context import AppContext
from bot.services.directory import DirectoryError, load_stakeholders
from models import OutboxMessage, UserProfile, utcnow


def write(tmp_path, text):
    path = tmp_path / "stakeholders.yaml"
    path.write_text(text)
    return path


def test_issue_shape_is_accepted(tmp_path):
    spec = load_stakeholders(write(tmp_path, """
admins: [U123]
roles:
  readiness_lead: [U123, U456]
  wfm: [S789]
markets:
  FR:
    content: [U999]
"""))
    assert spec.admins == ["U123"]
    assert spec.roles["wfm"] == ["S789"]
    assert spec.markets["FR"]["content"] == ["U999"]


def test_shipped_example_is_valid():
    from tests.conftest import ROOT

    spec = load_stakeholders(ROOT / "stakeholders.example.yaml")
    assert "readiness_lead" in spec.roles


@pytest.mark.parametrize("text,needle", [
    ("roles:\n  wizard: [U123]\n", "unknown role 'wizard'"),
    ("roles:\n  wfm: [bob]\n", "bob"),
    ("admins: [S123]\n", "S123"),
    ("markets:\n  XX:\n    content: [U1234]\n", "unknown market 'XX'"),
    ("roles: [oops\n", "not valid YAML"),
    ("teams: {}\n", "teams"),
])
def test_bad_files_are_clear_errors(tmp_path, text, needle):
    with pytest.raises(DirectoryError) as err:
        load_stakeholders(write(tmp_path, text))
    assert needle in str(err.value)
    assert "stakeholders.yaml" in str(err.value)


def test_groups_expanded_and_market_overrides(engine, tmp_path):
    spec = load_stakeholders(write(tmp_path, """
admins: [UADMIN]
roles:
  wfm: [S789, UWFM2]
  content: [UCONTENT]
markets:
  FR:
    content: [UCONTENTFR]
"""))
    with unit_of_work(engine) as session:
        count = directory.sync(session, spec, lambda group: {"S789": ["UA1", "UA2"]}[group])
    assert count == 6
    with unit_of_work(engine) as session:
        assert directory.members(session, "wfm") == ["UA1", "UA2", "UWFM2"]
        assert directory.members(session, "content", ["FR"]) == ["UCONTENTFR"]
        assert directory.members(session, "content", ["DE"]) == ["UCONTENT"]
        # A launch in FR and DE needs both the French override and the global holder.
        assert directory.members(session, "content", ["FR", "DE"]) == ["UCONTENTFR", "UCONTENT"]
        assert directory.is_admin(session, "UADMIN")
        assert not directory.is_admin(session, "UCONTENT")


def test_sync_command_expands_groups_through_slack(settings, standin, monkeypatch, tmp_path, capsys):
    standin.add_usergroup("S0WFM", "wfm-team", ["UWFM", "UKB"])
    path = write(tmp_path, "roles:\n  wfm: [S0WFM]\n")
    for name, value in {"DATABASE_URL": settings.database_url, "SLACK_BOT_TOKEN": settings.slack_bot_token,
                        "SLACK_API_URL": settings.slack_api_url, "STAKEHOLDERS_FILE": str(path)}.items():
        monkeypatch.setenv(name, value)
    assert main(["stakeholders", "sync"]) == 0
    assert "2 role assignment" in capsys.readouterr().out
    from bot.db import make_engine

    engine = make_engine(settings.database_url)
    with unit_of_work(engine) as session:
        assert directory.members(session, "wfm") == ["UWFM", "UKB"]
        # Names and time zones are looked up before anyone's first launch (by the delivery worker).
        queued = session.exec(select(OutboxMessage).where(OutboxMessage.kind == "profile")).all()
        assert sorted(r.recipient for r in queued) == ["UKB", "UWFM"]
    ctx = AppContext(engine=engine, settings=settings, templates={}, clock=utcnow)
    OutboxWorker(ctx, make_client(settings.slack_bot_token, settings.slack_api_url)).drain()
    with unit_of_work(engine) as session:
        assert session.get(UserProfile, "UWFM").tz == standin.state.users["UWFM"].tz
        assert session.get(UserProfile, "UWFM").real_name == standin.state.users["UWFM"].real_name
    assert main(["stakeholders", "sync"]) == 0  # known people are not looked up again
    with unit_of_work(engine) as session:
        assert len(session.exec(select(OutboxMessage).where(OutboxMessage.kind == "profile")).all()) == 2
    engine.dispose()


def test_sync_command_reports_bad_file_without_traceback(settings, monkeypatch, tmp_path, capsys):
    path = write(tmp_path, "roles:\n  wizard: [U1]\n")
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    monkeypatch.setenv("STAKEHOLDERS_FILE", str(path))
    assert main(["stakeholders", "sync"]) == 2
    err = capsys.readouterr().err
    assert "unknown role 'wizard'" in err and "Traceback" not in err
