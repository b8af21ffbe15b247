"""`launchgate capacity …`: check capacity.yaml, and the load of all open launches per queue and week."""
from __future__ import annotations

import sys

from bot import cli_support
from bot.cli_support import Refused, guarded


def register(sub) -> None:
    capacity = sub.add_parser("capacity", help="staffing: validate capacity.yaml, or show the load of all launches")
    capacity.add_argument("--weeks", type=int, default=8, help="ISO weeks to show from this week on (default 8)")
    capacity.add_argument("--queue", help="only this queue id")
    capacity.add_argument("--format", choices=["table", "csv", "json"], default="table")
    capacity.add_argument("--from", dest="start", help="first week: the ISO week of this date (default: today, UTC)")
    capacity.set_defaults(func=guarded(cmd_capacity))
    actions = capacity.add_subparsers(dest="action")
    validate = actions.add_parser("validate", help="check capacity.yaml; non-zero exit on faults")
    validate.add_argument("file", nargs="?")
    validate.set_defaults(func=guarded(cmd_validate))
    actuals = sub.add_parser("actuals", help="actual contacts after launch").add_subparsers(dest="action",
                                                                                          required=True)
    imp = actuals.add_parser("import", help="import FILE.csv (launch,queue,week,contacts): all rows or none")
    imp.add_argument("file")
    imp.add_argument("--as", dest="actor", default="cli", help="who the audit trail names (default: cli)")
    imp.add_argument("--today", help="judge which weeks have ended as of this date (default: today, UTC)")
    imp.set_defaults(func=guarded(cmd_actuals_import))
    forecasts = sub.add_parser("forecasts", help="forecasters' track record: launches, WAPE, bias, trend")
    forecasts.add_argument("--user", help="one forecaster's Slack id")
    forecasts.set_defaults(func=guarded(cmd_forecasts))


def cmd_validate(args) -> int:
    from bot.capacity.config import validate_file

    path = args.file or cli_support.settings().capacity_file
    queues, faults = validate_file(path)
    for fault in faults:
        print(str(fault), file=sys.stderr)
    if faults:
        print(f"{len(faults)} problem(s) in {path}", file=sys.stderr)
        return 1
    print(f"{path}: {len(queues.by_id)} queue(s) valid")
    return 0


FIELDS = ("queue", "week", "launches", "contacts", "required_fte", "peak_agents", "service_level",
          "occupancy", "abandonment", "planned_fte", "gap_fte", "note")


def rows(cells) -> list[dict]:
    out = []
    for c in cells:
        r = c.required
        out.append({
            "queue": c.queue.id, "week": c.iso_week, "launches": c.launches, "contacts": round(c.contacts),
            "required_fte": round(r.fte, 1) if r else None, "peak_agents": r.peak_agents if r else None,
            "service_level": round(r.service_level, 3) if r and r.service_level is not None else None,
            "occupancy": round(r.occupancy, 3) if r and r.occupancy is not None else None,
            "abandonment": round(r.abandonment, 3) if r and r.abandonment is not None else None,
            "planned_fte": round(c.planned_fte, 1) if c.planned_fte is not None else None,
            "gap_fte": round(c.gap_fte, 1) if c.gap_fte is not None else None,
            "note": c.problem or (("collision: " + ", ".join(sorted({x.launch_key for x in c.contributions})))
                                  if c.collision else ", ".join(sorted({x.launch_key for x in c.contributions}))),
        })
    return out


def _pct(v) -> str:
    return "–" if v is None else f"{v:.1%}"


def _num(v) -> str:
    return "–" if v is None else f"{v:,}"


def render(cells, fmt: str) -> str:
    import csv
    import io
    import json

    data = rows(cells)
    if fmt == "json":
        return json.dumps(data, indent=2) + "\n"
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=FIELDS, lineterminator="\n")
        writer.writeheader()
        writer.writerows({k: ("" if v is None else v) for k, v in r.items()} for r in data)
        return buf.getvalue()
    if not data:
        return "No launch load in these weeks (no answered forecasts).\n"
    head = ("queue", "week", "launches", "contacts", "req FTE", "peak", "SL", "occ", "planned", "gap", "note")
    table = [head] + [(r["queue"], r["week"], str(r["launches"]), _num(r["contacts"]), _num(r["required_fte"]),
                       _num(r["peak_agents"]), _pct(r["service_level"]), _pct(r["occupancy"]),
                       _num(r["planned_fte"]), _num(r["gap_fte"]), r["note"]) for r in data]
    widths = [max(len(row[i]) for row in table) for i in range(len(head))]
    return "".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() + "\n" for row in table)


def cmd_capacity(args) -> int:
    from datetime import date, datetime, timezone

    from bot.db import make_engine, unit_of_work
    from bot.services import capacity
    from bot.services.errors import NotFound

    if args.weeks < 1 or args.weeks > 104:
        raise Refused("--weeks: give 1 to 104")
    try:
        start = date.fromisoformat(args.start) if args.start else datetime.now(timezone.utc).date()
    except ValueError:
        raise Refused(f"--from: '{args.start}' is not a date like 2027-11-15") from None
    settings = cli_support.settings()
    queues = _queues(settings)
    with unit_of_work(make_engine(settings.database_url)) as session:
        try:
            cells = capacity.portfolio(session, queues, start, weeks=args.weeks, queue=args.queue)
        except NotFound as exc:
            raise Refused(f"--queue: {exc} ({settings.capacity_file})") from None
    sys.stdout.write(render(cells, args.format))
    return 0


def _queues(settings):
    from bot.capacity.config import CapacityError
    from bot.services import capacity

    try:
        return capacity.queues_from(settings.capacity_file)
    except CapacityError as exc:
        raise Refused(exc.report("capacity.yaml is invalid")) from None


def cmd_actuals_import(args) -> int:
    """All rows or none: every bad row is printed with its line and reason, and nothing is written."""
    from datetime import date, datetime, timezone

    from bot.db import make_engine, unit_of_work
    from bot.services import actuals

    settings = cli_support.settings()
    try:
        with open(args.file, encoding="utf-8") as fh:
            text = fh.read()
    except OSError as exc:
        raise Refused(f"{args.file}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise Refused(f"{args.file}: not UTF-8 text") from None
    now = datetime.now(timezone.utc)
    if args.today:
        try:
            now = datetime.combine(date.fromisoformat(args.today), now.timetz())
        except ValueError:
            raise Refused(f"--today: '{args.today}' is not a date like 2027-12-27") from None
    try:
        with unit_of_work(make_engine(settings.database_url)) as session:
            rows = actuals.parse_csv(session, text, _queues(settings), now.date())
            changed = actuals.record_many(session, rows, source="csv", actor=args.actor[:32], now=now)
    except actuals.ActualsError as exc:
        for problem in exc.problems:
            print(f"{args.file}: {problem}", file=sys.stderr)
        print(f"{len(exc.problems)} problem(s); nothing was imported", file=sys.stderr)
        return 1
    print(f"{args.file}: {len(rows)} row(s) read, {changed} actual(s) new or changed")
    return 0


def cmd_forecasts(args) -> int:
    from bot.db import make_engine, unit_of_work
    from bot.services import actuals

    settings = cli_support.settings()
    with unit_of_work(make_engine(settings.database_url)) as session:
        records = actuals.track_records(session, _queues(settings), args.user)
        lines = ["forecaster  launches  measured  WAPE    bias     trend"]
        for r in records:
            lines.append(f"{r.forecaster:<10}  {len(r.launches):>8}  {len(r.measured):>8}  "
                         f"{_pct(r.wape):>6}  {_signed(r.bias):>7}  {r.trend}")
            for a in r.launches:
                lines.append(f"  {a.launch.key:<8} {a.launch.launch_date}  WAPE {_pct(a.total.wape)}  "
                             f"bias {_signed(a.total.bias)}  {a.total.direction}")
    sys.stdout.write("\n".join(lines) + "\n" if records else "No answered forecasts yet.\n")
    return 0


def _signed(v) -> str:
    return "–" if v is None else f"{v:+.1%}"
