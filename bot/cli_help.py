"""What each `launchgate` subcommand's `--help` says beyond its usage: what it does, and examples.

Kept in one table so every subcommand has them (tests/test_cli.py walks the parser and fails
on a subcommand missing here); the modules that define the arguments stay as they are.
"""
from __future__ import annotations

import argparse
import textwrap

HELP: dict[str, tuple[str, tuple[str, ...]]] = {
    "serve": ("Run the bot against your Slack workspace: Socket Mode when SLACK_APP_TOKEN is set, else HTTP on "
              "PORT (/slack/events). Migrates the database, syncs STAKEHOLDERS_FILE and checks the Slack tokens "
              "first; /healthz and /metrics are served on PORT either way.",
              ("launchgate serve", "LOG_FORMAT=json launchgate serve")),
    "sandbox": ("Try launchgate without Slack: the real bot against a built-in local workspace, in a browser "
                "page where you switch between sample people. Refuses to start while Slack credentials are set.",
                ("launchgate sandbox", "launchgate sandbox --scenario demo --port 3001")),
    "migrate": ("Apply pending database migrations to DATABASE_URL (serve and tick do it too). A database "
                "already at head is left alone.", ("launchgate migrate", "DATABASE_URL=postgresql://lg@db/lg "
                                                   "launchgate migrate")),
    "checklists": ("Checklist templates (CHECKLISTS_DIR).", ("launchgate checklists validate",)),
    "checklists validate": ("Check every template and list every fault (file, item, reason); exit 1 on faults.",
                            ("launchgate checklists validate", "launchgate checklists validate my-checklists/")),
    "stakeholders": ("The stakeholder directory (STAKEHOLDERS_FILE).", ("launchgate stakeholders sync",)),
    "stakeholders sync": ("Load STAKEHOLDERS_FILE and expand its Slack user groups into the directory. Refuses to "
                          "remove over half of the assignments, or every admin or readiness lead, without --force.",
                          ("launchgate stakeholders sync", "launchgate stakeholders sync --force")),
    "tick": ("One scheduler pass, as `serve` runs every TICK_SECONDS: nudges, escalations, digests, waiver "
             "expiry, then delivery. For cron instead of (or besides) the in-process scheduler. --dry-run "
             "prints what would be queued, changes nothing and needs no Slack token.",
             ("launchgate tick", "launchgate tick --dry-run --at 2027-03-02T09:00Z",
              "*/5 * * * * cd /srv/launchgate && .venv/bin/launchgate tick   # crontab")),
    "export": ("A launch's decisions, votes and timeline for an audit, as JSON or CSV on stdout.",
               ("launchgate export LR-12", "launchgate export LR-12 --format csv > LR-12.csv")),
    "report": ("A launch's readiness report (gates, items, decisions, capacity) as Markdown or HTML on stdout.",
               ("launchgate report LR-12", "launchgate report LR-12 --html > LR-12.html")),
    "capacity": ("The load of every open launch per queue and ISO week against the staffing plan.",
                 ("launchgate capacity", "launchgate capacity --weeks 8 --queue FR-phone --format csv")),
    "capacity validate": ("Check capacity.yaml (CAPACITY_FILE); every fault with file, field and reason.",
                          ("launchgate capacity validate", "launchgate capacity validate queues.yaml")),
    "actuals": ("Actual contacts after launch, compared with the forecast.", ("launchgate actuals import week.csv",)),
    "actuals import": ("Import actual contacts from a CSV with launch,queue,week,contacts: all rows or none, each "
                       "bad row with its line and reason.", ("launchgate actuals import actuals-2027-W10.csv",)),
    "forecasts": ("Forecasters' track record: launches forecast, WAPE, bias and trend.",
                  ("launchgate forecasts", "launchgate forecasts --user U012ABCDEF")),
    "outbox": ("Slack messages waiting to go out or dead-lettered, and re-queueing dead ones.",
               ("launchgate outbox", "launchgate outbox retry --all")),
    "outbox list": ("Queued and dead rows grouped by kind and error, with the oldest's age (--rows: one by one).",
                    ("launchgate outbox list", "launchgate outbox list --status dead --rows")),
    "outbox retry": ("Re-queue dead rows after fixing the cause (a token, a scope, an archived channel).",
                     ("launchgate outbox retry 41 42", "launchgate outbox retry --error channel_not_found")),
    "portfolio": ("Every open launch: gate timeline, what is at risk, recent decisions and metrics.",
                  ("launchgate portfolio", "launchgate portfolio --html > portfolio.html")),
    "metrics": ("Readiness metrics from the audit trail (on-time gates, cycle times…) for a quarterly review.",
                ("launchgate metrics --since 2027-01-01", "launchgate metrics --since 2027-01-01 --format csv")),
    "webhooks": ("Outgoing signed webhooks (webhooks.yaml).", ("launchgate webhooks status",)),
    "webhooks test": ("Send a signed ping to a URL, to check the receiver verifies signatures.",
                      ("launchgate webhooks test https://hooks.example.com/launchgate",)),
    "webhooks replay": ("Queue dead-lettered webhook events again (after the receiver is fixed).",
                        ("launchgate webhooks replay --since 2027-08-02",)),
    "webhooks status": ("Per endpoint: paused or not, queued and dead-lettered events.", ("launchgate webhooks status",)),
    "webhooks secret": ("Print a new random whsec_ secret for webhooks.yaml.", ("launchgate webhooks secret",)),
    "integrations": ("Tokens for other systems that answer items over HTTP (the answering API).",
                     ("launchgate integrations list",)),
    "integrations create": ("Make a token for a system; printed once, only its hash is stored.",
                            ("launchgate integrations create helpdesk --roles content,knowledge",)),
    "integrations revoke": ("The token stops working at once.", ("launchgate integrations revoke helpdesk",)),
    "integrations list": ("Names, scopes and last use of the tokens; never the tokens.",
                          ("launchgate integrations list",)),
}


def subcommands(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()):
    """(path, parser) for every subcommand, depth first."""
    for action in parser._actions:  # noqa: SLF001 (argparse keeps them here)
        if isinstance(action, argparse._SubParsersAction):  # noqa: SLF001
            for name, sub in action.choices.items():
                yield (*path, name), sub
                yield from subcommands(sub, (*path, name))


def apply(parser: argparse.ArgumentParser) -> None:
    """Description and examples on every subcommand's --help (a missing entry keeps argparse's default)."""
    for path, sub in subcommands(parser):
        text = HELP.get(" ".join(path))
        if text is None:
            continue
        description, examples = text
        sub.formatter_class = argparse.RawDescriptionHelpFormatter
        sub.description = textwrap.fill(description, width=88)
        sub.epilog = "examples:\n" + "\n".join(f"  {line}" for line in examples)
