"""A stakeholders file cannot erase the directory by accident; files that are not UTF-8
get a one-line error with the byte offset (issue 12, points 3 and 6)."""
from __future__ import annotations

import shutil

import pytest
from sqlmodel import select

from bot.cli import main
from bot.db import make_engine, unit_of_work
from bot.services.directory import DirectoryError, load_stakeholders
from bot.services.templates import validate_directory
from models import DirectoryMember
from tests.conftest import ROOT, STAKEHOLDERS
from tests.flows import events


def env(monkeypatch, settings, path):
    for name, value in {"DATABASE_URL": settings.database_url, "SLACK_BOT_TOKEN": settings.slack_bot_token,
                        "SLACK_API_URL": settings.slack_api_url, "STAKEHOLDERS_FILE": str(path)}.items():
        monkeypatch.setenv(name, value)


def assignments(url):
    engine = make_engine(url)
    with unit_of_work(engine) as session:
        rows = {(m.role, m.user_id) for m in session.exec(select(DirectoryMember))}
    engine.dispose()
    return rows


@pytest.mark.parametrize("text", ["", "# nothing yet\n", "admins: []\nroles: {}\n", "roles:\n  wfm: []\n"])
def test_an_empty_or_role_less_file_is_refused_and_the_directory_kept(rt, settings, monkeypatch, tmp_path, capsys,
                                                                       text):
    before = assignments(settings.database_url)
    path = tmp_path / "empty.yaml"
    path.write_text(text)
    env(monkeypatch, settings, path)
    assert main(["stakeholders", "sync"]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "no admins and no role holders" in err and str(path) in err
    assert assignments(settings.database_url) == before and ("admin", "UADMIN") in before


def test_removing_most_of_the_directory_or_every_lead_needs_force(rt, settings, monkeypatch, tmp_path, capsys):
    before = assignments(settings.database_url)
    path = tmp_path / "small.yaml"
    path.write_text("admins: [UADMIN]\nroles:\n  wfm: [UWFM]\n")  # drops the lead and most roles
    env(monkeypatch, settings, path)
    assert main(["stakeholders", "sync"]) == 2
    err = capsys.readouterr().err
    assert "would remove 7 of 9" in err and "no readiness lead" in err and "--force" in err
    assert len(err.strip().splitlines()) == 1
    assert assignments(settings.database_url) == before

    assert main(["stakeholders", "sync", "--force"]) == 0
    assert assignments(settings.database_url) == {("admin", "UADMIN"), ("wfm", "UWFM")}
    (event,) = [e for e in events(rt.ctx.engine, "directory.synced") if e.actor == "cli"]
    assert event.after["forced"] is True and ["readiness_lead", "", "ULEAD"] in event.after["removed"]
    assert event.after["added"] == [] and event.before == {"assignments": 9}


def test_every_sync_that_changes_something_is_audited_with_what_changed(rt, settings, monkeypatch, tmp_path, capsys):
    path = tmp_path / "more.yaml"
    path.write_text(STAKEHOLDERS + "    wfm: [UWFM2]\n")
    env(monkeypatch, settings, path)
    assert main(["stakeholders", "sync"]) == 0
    event = events(rt.ctx.engine, "directory.synced")[-1]
    assert event.after["added"] == [["wfm", "FR", "UWFM2"]] and event.after["removed"] == []
    assert event.actor == "cli" and "1 added, 0 removed" in event.note
    count = len(events(rt.ctx.engine, "directory.synced"))
    assert main(["stakeholders", "sync"]) == 0  # nothing changed: no new event
    assert len(events(rt.ctx.engine, "directory.synced")) == count


def test_a_stakeholders_file_that_is_not_utf8_names_the_byte(tmp_path):
    path = tmp_path / "stakeholders.yaml"
    path.write_bytes("admins: [UADMIN]\nroles:\n  wfm: [UWFM]  # Zoë\n".encode("latin-1"))
    with pytest.raises(DirectoryError) as err:
        load_stakeholders(path)
    (problem,) = err.value.problems
    offset = "admins: [UADMIN]\nroles:\n  wfm: [UWFM]  # Zo".encode().__len__()
    assert problem == (f"{path}: not UTF-8 text: byte 0xeb at byte offset {offset} (line 3); "
                       "save the file as UTF-8")


def test_a_checklist_that_is_not_utf8_is_one_fault_naming_the_byte(tmp_path):
    folder = tmp_path / "checklists"
    shutil.copytree(ROOT / "checklists", folder)
    victim = sorted(folder.glob("*.yaml"))[0]
    victim.write_bytes(victim.read_bytes() + "\n# caf\xe9\n".encode("latin-1"))
    faults = validate_directory(folder)
    (fault,) = [f for f in faults if f.file == victim.name]
    assert "not UTF-8 text: byte 0xe9 at byte offset" in str(fault)
    code = main(["checklists", "validate", str(folder)])
    assert code == 1
