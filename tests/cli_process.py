"""Run the `launchgate` command as a person does: a real process, its stderr and exit code."""
from __future__ import annotations

import os
import re
import subprocess
import sys

from tests.conftest import ROOT

CLEARED = ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN", "SLACK_API_URL", "DATABASE_URL",
           "LOG_LEVEL", "LOG_FORMAT", "STAKEHOLDERS_FILE", "CHECKLISTS_DIR")


def run_cli(*args: str, cwd, timeout: float = 120, **env) -> subprocess.CompletedProcess:
    """`python -m bot ARGS` in `cwd` (no .env there unless the test writes one), with only `env`
    of launchgate's variables set."""
    base = {k: v for k, v in os.environ.items() if k not in CLEARED}
    base.setdefault("CHECKLISTS_DIR", str(ROOT / "checklists"))
    return subprocess.run([sys.executable, "-m", "bot", *args], cwd=cwd, env={**base, **env}, capture_output=True,
                          text=True, timeout=timeout)


LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\d [\d:,]+ (INFO|WARNING) ")


def one_line_error(proc: subprocess.CompletedProcess) -> str:
    """The one line a refused command prints (exit 2, no traceback); INFO/WARNING log lines
    before it (which mode starts, and why) are allowed."""
    lines = [line for line in proc.stderr.strip().splitlines() if not LOG_LINE.match(line)]
    assert proc.returncode == 2 and len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert lines[0].startswith("launchgate: "), proc.stderr
    return lines[0]
