"""`launchgate capacity …`: check capacity.yaml, and the load of all open launches per queue and week."""
from __future__ import annotations

import sys


def register(sub) -> None:
    capacity = sub.add_parser("capacity", help="staffing: validate capacity.yaml, or show the load of all launches")
    capacity.add_argument("--weeks", type=int, default=8, help="ISO weeks to show from this week on (default 8)")
    capacity.add_argument("--queue", help="only this queue id")
    capacity.add_argument("--format", choices=["table", "csv", "json"], default="table")
    capacity.set_defaults(func=cmd_capacity)
    actions = capacity.add_subparsers(dest="action")
    validate = actions.add_parser("validate", help="check capacity.yaml; non-zero exit on faults")
    validate.add_argument("file", nargs="?")
    validate.set_defaults(func=cmd_validate)


def cmd_validate(args) -> int:
    from bot.capacity.config import validate_file
    from bot.cli import _settings

    path = args.file or _settings().capacity_file
    queues, faults = validate_file(path)
    for fault in faults:
        print(str(fault), file=sys.stderr)
    if faults:
        print(f"{len(faults)} problem(s) in {path}", file=sys.stderr)
        return 1
    print(f"{path}: {len(queues.by_id)} queue(s) valid")
    return 0


def cmd_capacity(args) -> int:
    from bot.cli import CliError

    raise CliError("the portfolio view is not available yet")
