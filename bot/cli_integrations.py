"""`launchgate integrations …`: tokens for systems that answer items over the API."""
from __future__ import annotations

import getpass
import sys

from bot.config import ConfigError, load_settings


def register(sub) -> None:
    cmds = sub.add_parser("integrations", help="tokens for systems that answer items (the answering API)")
    actions = cmds.add_subparsers(dest="action", required=True)
    create = actions.add_parser("create", help="make a token; it is printed once, only its hash is stored")
    create.add_argument("name", help="e.g. helpdesk (1–20 of a-z 0-9 - _); answers are audited as integration:NAME")
    create.add_argument("--items", default="", help="comma-separated item keys it may answer")
    create.add_argument("--roles", default="", help="comma-separated owner roles whose items it may answer")
    create.set_defaults(func=_run(cmd_create))
    revoke = actions.add_parser("revoke", help="the token stops working at once")
    revoke.add_argument("name")
    revoke.set_defaults(func=_run(cmd_revoke))
    actions.add_parser("list", help="names, scopes, last use; never the tokens").set_defaults(func=_run(cmd_list))


def _run(fn):
    def run(args) -> int:
        from bot.db import make_engine, migrate, unit_of_work
        from bot.services.errors import ServiceError
        from models import utcnow

        try:
            settings = load_settings()
        except ConfigError as exc:
            print(f"launchgate: configuration error: {exc}", file=sys.stderr)
            return 2
        migrate(settings.database_url)
        engine = make_engine(settings.database_url)
        try:
            with unit_of_work(engine) as session:
                return fn(session, args, utcnow())
        except ServiceError as exc:
            print(f"launchgate: {exc}", file=sys.stderr)
            return 2
        finally:
            engine.dispose()
    return run


def _split(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


def _who() -> str:
    try:
        return f"cli:{getpass.getuser()}"[:32]
    except Exception:
        return "cli"


def cmd_create(session, args, now) -> int:
    from bot.services import integrations

    row, token = integrations.create(session, args.name, items=_split(args.items), roles=_split(args.roles),
                                     created_by=_who(), now=now)
    scope = ", ".join([*(f"item {i}" for i in row.scope_items), *(f"role {r}" for r in row.scope_roles)])
    print(f"integration {row.name} may answer: {scope}")
    print("token (shown once; store it in the other system's secret store):")
    print(token)
    return 0


def cmd_revoke(session, args, now) -> int:
    from bot.services import integrations

    row = integrations.revoke(session, args.name, by=_who(), now=now)
    print(f"integration {row.name} revoked at {row.revoked_at.isoformat(timespec='minutes')}")
    return 0


def cmd_list(session, args, now) -> int:
    from sqlmodel import select

    from models import IntegrationToken

    rows = session.exec(select(IntegrationToken).order_by(IntegrationToken.name)).all()
    if not rows:
        print("no integrations")
    for r in rows:
        state = f"revoked {r.revoked_at:%Y-%m-%d}" if r.revoked_at else "active"
        used = f"last used {r.last_used_at.isoformat(timespec='minutes')}" if r.last_used_at else "never used"
        print(f"{r.name} ({r.token_prefix}…): {state}, {used}; items {', '.join(r.scope_items) or '-'}; "
              f"roles {', '.join(r.scope_roles) or '-'}")
    return 0
