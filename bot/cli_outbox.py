"""`launchgate outbox`: the delivery backlog for an operator, and re-queueing dead letters."""
from __future__ import annotations

import argparse
import sys


def register(sub) -> None:
    outbox = sub.add_parser("outbox", help="queued and dead-lettered Slack messages; re-queue dead ones")
    actions = outbox.add_subparsers(dest="action")
    outbox.set_defaults(func=cmd_list, status=None, kind=None, rows=False)
    show = actions.add_parser("list", help="queued/dead rows grouped by kind and error (the default)")
    show.add_argument("--status", choices=["queued", "dead"])
    show.add_argument("--kind")
    show.add_argument("--rows", action="store_true", help="also list dead rows one by one (first 100)")
    show.set_defaults(func=cmd_list)
    retry = actions.add_parser("retry", help="re-queue dead rows (after fixing a token, a channel…)")
    retry.add_argument("ids", nargs="*", type=int, help="row ids (default: every dead row matching the filters)")
    retry.add_argument("--kind")
    retry.add_argument("--error", help="only rows whose error contains this text")
    retry.add_argument("--all", action="store_true", help="every dead row (needed when no id or filter is given)")
    retry.set_defaults(func=cmd_retry)


def _engine():
    from bot.config import load_settings
    from bot.db import make_engine, migrate

    settings = load_settings()  # a bad setting: `launchgate` prints the ConfigError as one line
    migrate(settings.database_url)
    return make_engine(settings.database_url)


def _age(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds / size:.1f}{unit}"
    return f"{seconds:.0f}s"


def cmd_list(args: argparse.Namespace) -> int:
    from bot.db import unit_of_work
    from bot.services import outbox_admin
    from models import utcnow

    now = utcnow()
    with unit_of_work(_engine()) as session:
        groups = outbox_admin.summary(session, now, args.status, args.kind)
        oldest = outbox_admin.oldest_undelivered_age(session, now)
        rows = outbox_admin.dead_rows(session, args.kind) if args.rows and args.status != "queued" else []
    if not groups:
        print("outbox: nothing queued or dead")
        return 0
    print(f"{'status':7} {'kind':20} {'rows':>6} {'oldest':>7}  error")
    for g in groups:
        print(f"{g.status:7} {g.kind:20} {g.count:>6} {_age((now - _utc(g.oldest)).total_seconds()):>7}  "
              f"{g.error or '-'}")
    print(f"oldest undelivered: {_age(oldest)}; re-queue dead rows with `launchgate outbox retry`")
    for row in rows:
        print(f"  #{row.id} {row.kind} → {row.recipient} (launch {row.launch_id}): {row.last_error}")
    return 0


def _utc(at):
    from datetime import timezone

    return at if at.tzinfo else at.replace(tzinfo=timezone.utc)


def cmd_retry(args: argparse.Namespace) -> int:
    from bot.db import unit_of_work
    from bot.services import outbox_admin
    from models import utcnow

    if not (args.ids or args.kind or args.error or args.all):
        print("launchgate: outbox retry: name row ids, --kind, --error, or --all", file=sys.stderr)
        return 2
    with unit_of_work(_engine()) as session:
        count = outbox_admin.requeue(session, utcnow(), ids=args.ids, kind=args.kind, error=args.error,
                                     actor="cli")
    print(f"outbox: {count} dead row(s) re-queued; the worker sends them at its next pass", file=sys.stdout)
    return 0
