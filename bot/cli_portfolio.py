"""`launchgate portfolio [--html]` and `launchgate metrics --since … [--format csv|json]` (issue 14)."""
from __future__ import annotations

import csv
import io
import json
import sys
from datetime import date, datetime, time, timezone


def add_parsers(sub, cli) -> None:
    """Register the sub-commands on `launchgate`'s parser (`cli` is bot.cli, for its helpers)."""
    portfolio = sub.add_parser("portfolio", help="every open launch: gate timeline, at-risk list, metrics")
    portfolio.add_argument("--html", action="store_true", help="HTML with an SVG timeline (default: Markdown)")
    portfolio.add_argument("--include-private", action="store_true", help="list private launches too")
    portfolio.add_argument("--as", dest="viewer", help="Slack user id: only what this person may see")
    portfolio.set_defaults(func=lambda args: cmd_portfolio(args, cli))
    metrics = sub.add_parser("metrics", help="readiness metrics from the audit trail, for a quarterly review")
    metrics.add_argument("--since", type=_day, help="count decisions, answers and waivers from this date (UTC)")
    metrics.add_argument("--format", choices=["csv", "json"], default="csv")
    metrics.set_defaults(func=lambda args: cmd_metrics(args, cli))


def _day(value: str) -> datetime:
    try:
        return datetime.combine(date.fromisoformat(value), time(0), tzinfo=timezone.utc)
    except ValueError:
        import argparse

        raise argparse.ArgumentTypeError(f"not a date: {value!r} (use YYYY-MM-DD)") from None


def cmd_portfolio(args, cli) -> int:
    from bot.db import make_engine, unit_of_work
    from bot.services import portfolio_report

    settings = cli._settings()
    with unit_of_work(make_engine(settings.database_url)) as session:
        report = portfolio_report.build(session, now=datetime.now(timezone.utc), viewer=args.viewer,
                                        include_private=args.include_private)
        sys.stdout.write(portfolio_report.render(report, html=args.html))
    return 0


def cmd_metrics(args, cli) -> int:
    from bot.db import make_engine, unit_of_work
    from bot.services import readiness

    settings = cli._settings()
    with unit_of_work(make_engine(settings.database_url)) as session:
        result = readiness.compute(session, now=datetime.now(timezone.utc), since=args.since)
    sys.stdout.write(render_metrics(result, args.format))
    return 0


def render_metrics(result, fmt: str) -> str:
    rows = result.rows()
    if fmt == "json":
        return json.dumps({"since": result.since.date().isoformat() if result.since else None, "metrics": rows},
                          indent=2) + "\n"
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=["metric", "kind", "gate", "role", "state", "value"], lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()
