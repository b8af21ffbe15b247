"""Configuration: fixed variable names, defaults, one-line errors."""
from __future__ import annotations

import pytest

from bot.cli import main
from bot.config import ConfigError, load_settings


def test_defaults(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    for name in ("DATABASE_URL", "PORT", "SLACK_API_URL", "CHECKLISTS_DIR", "SLACK_APP_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    settings = load_settings()
    assert settings.database_url == "sqlite:///launchgate.db"
    assert settings.port == 3000
    assert settings.slack_api_url == "https://slack.com/api/"
    assert settings.stakeholders_file == "stakeholders.yaml"
    assert not settings.socket_mode


def test_env_names_are_read(monkeypatch):
    monkeypatch.setenv("SLACK_APP_TOKEN", "xapp-1")
    monkeypatch.setenv("SLACK_API_URL", "http://127.0.0.1:9/api")
    monkeypatch.setenv("LAUNCHES_CHANNEL", "C0LAUNCH")
    settings = load_settings(_env_file=None)
    assert settings.socket_mode
    assert settings.slack_api_url == "http://127.0.0.1:9/api/"
    assert settings.launches_channel == "C0LAUNCH"


def test_env_file_is_read(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PORT", raising=False)
    (tmp_path / ".env").write_text("PORT=4111\n")
    assert load_settings().port == 4111


@pytest.mark.parametrize("name,value", [("PORT", "eighty"), ("PORT", "70000"), ("LOG_LEVEL", "LOUD"),
                                        ("SLACK_API_URL", "slack.com/api")])
def test_bad_value_is_one_line_naming_the_variable(monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as err:
        load_settings(_env_file=None)
    assert str(err.value).startswith(f"{name}:")
    assert "\n" not in str(err.value)


def test_serve_without_credentials_names_variables_and_manifest(monkeypatch, tmp_path, capsys):
    monkeypatch.chdir(tmp_path)
    for name in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    assert main(["serve"]) == 2
    err = capsys.readouterr().err
    assert "SLACK_BOT_TOKEN" in err and "SLACK_SIGNING_SECRET" in err and "slack-manifest.yml" in err
    assert "Traceback" not in err


def test_bad_port_on_cli_is_clean(monkeypatch, capsys):
    monkeypatch.setenv("PORT", "nope")
    assert main(["migrate"]) == 2
    err = capsys.readouterr().err
    assert "PORT" in err and "Traceback" not in err
