"""`launchgate` command line: serve, sandbox, migrate, checklists, stakeholders, tick, export, report."""
from __future__ import annotations

import argparse
import gc
import logging
import sys
import threading
from contextlib import contextmanager
from datetime import datetime, timezone
from functools import partial

from bot import preflight
from bot.cli_support import Refused as CliError  # printed as one line on stderr; exit status 2
from bot.cli_support import settings as _settings
from bot.config import ConfigError, Settings, load_settings

log = logging.getLogger("launchgate")


def _setup_logging(settings: Settings) -> None:
    from bot import logs

    logs.setup(settings.log_level, settings.log_format)


def cmd_migrate(args) -> int:
    from bot.db import migrate

    settings = _settings()
    _setup_logging(settings)  # Alembic's lines say which migrations ran
    ran = migrate(settings.database_url)
    print(f"database {'upgraded to' if ran else 'already at'} head ({_safe_url(settings.database_url)})")
    return 0


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def cmd_checklists_validate(args) -> int:
    from bot.services.templates import validate_directory

    directory = args.directory or _settings().checklists_dir
    faults = validate_directory(directory)
    for fault in faults:
        print(str(fault), file=sys.stderr)
    if faults:
        print(f"{len(faults)} problem(s) in {directory}", file=sys.stderr)
        return 1
    print(f"{directory}: all templates valid")
    return 0


def _load_templates_or_fail(settings: Settings):
    from bot.services.templates import TemplateError, load_templates

    try:
        return load_templates(settings.checklists_dir)
    except TemplateError as exc:
        raise CliError(exc.report("checklist templates are invalid")) from None


def sync_stakeholders(settings: Settings, engine, client, force: bool = False, actor: str = "launchgate") -> int:
    """The directory from STAKEHOLDERS_FILE (bot.services.directory.sync_stakeholders), user groups
    expanded through the Slack gateway."""
    from bot.delivery.gateway import SlackGateway
    from bot.services.context import AppContext
    from bot.services.directory import sync_stakeholders as sync

    return sync(settings, engine, SlackGateway(AppContext(engine=engine, settings=settings, templates={}), client),
                force=force, actor=actor)


def queue_profile_lookups(engine) -> None:
    """Names and time zones of directory members, fetched by the delivery worker."""
    from bot.db import unit_of_work
    from bot.services import directory

    with unit_of_work(engine) as session:
        directory.queue_profile_lookups(session)


def cmd_stakeholders_sync(args) -> int:
    from bot.db import make_engine, migrate
    from bot.delivery.slack_client import make_client
    from bot.services.directory import DirectoryError

    settings = _settings()
    migrate(settings.database_url)
    engine = make_engine(settings.database_url)
    try:
        count = sync_stakeholders(settings, engine,
                                  make_client(settings.slack_bot_token or "", settings.slack_api_url),
                                  force=args.force, actor="cli")
    except DirectoryError as exc:
        raise CliError("stakeholders: " + "; ".join(exc.problems)) from None
    queue_profile_lookups(engine)
    print(f"directory synced: {count} role assignment(s) from {settings.stakeholders_file}")
    return 0


def cmd_serve(args) -> int:
    with _collector_paused():
        from bot.db import migrate
        from bot.runtime import build_runtime
        from bot.scheduler import release_first_tick, start_scheduler
        from bot.services.directory import DirectoryError, sync_failure_line
        from bot.slack_app import create_app
        from bot.web import make_wsgi_app, serve_http
        from bot.webhooks.config import WebhookConfigError

        settings = _settings()
        preflight.require_credentials(settings, "serve")
        _setup_logging(settings)
        log.info("starting in %s", preflight.slack_mode(settings))
        templates = _load_templates_or_fail(settings)
        migrate(settings.database_url)
        try:
            rt = build_runtime(settings, templates=templates)
        except WebhookConfigError as exc:
            raise CliError(f"webhooks file: {exc}") from None
        preflight.check_database(rt.ctx.engine, settings.database_url)
        preflight.check_bot_token(rt.client)
        socket_url = preflight.check_app_token(rt.client, settings.slack_app_token) if settings.socket_mode else None
        try:
            count = sync_stakeholders(settings, rt.ctx.engine, rt.client)
            log.info("stakeholder directory: %d assignment(s)", count)
        except DirectoryError as exc:
            log.warning("%s", sync_failure_line(rt.ctx.engine, settings, exc.problems))
        queue_profile_lookups(rt.ctx.engine)
        app = create_app(rt)
        scheduler = start_scheduler(rt, first_tick_now=False)
        listening = partial(release_first_tick, scheduler)
        probes = (rt.worker.auth.probe,)
    _exit_on_sigterm()
    try:
        if socket_url:
            from slack_bolt.adapter.socket_mode import SocketModeHandler

            handler = SocketModeHandler(app, settings.slack_app_token)
            handler.client.wss_uri = socket_url  # the URL preflight got with SLACK_APP_TOKEN, used once
            try:
                handler.connect()
            except Exception as exc:  # the WebSocket itself (a proxy, a firewall): one line, not a traceback
                raise CliError(f"Socket Mode could not connect to Slack ({type(exc).__name__}: {exc}); check "
                               "outbound WebSocket access, or leave SLACK_APP_TOKEN empty to serve HTTP") from None
            log.info("Socket Mode connected; /healthz and /metrics on :%d", settings.port)
            _health_only_server(rt, settings.port, listening, probes + (partial(_socket_probe, handler),))
            threading.Event().wait()
        else:
            log.info("listening on :%d (/slack/events, /healthz, /metrics)", settings.port)
            serve_http(make_wsgi_app(app, rt.ctx.engine, ctx=rt.ctx, probes=probes), settings.port,
                       listening=listening)
    except KeyboardInterrupt:
        pass
    finally:
        # Graceful stop (docker stop, Ctrl-C): the row being sent finishes, the rest of the
        # batch is handed back for the next process, and a running tick commits or rolls back.
        # Answers already acked (a list or status being read) are still posted, and clicks
        # already acked are applied (any that are not wait in the database for the next process).
        rt.answers.shutdown(wait=True)
        rt.clicks.shutdown(wait=True)
        rt.worker.stop()
        scheduler.shutdown(wait=True)
        log.info("launchgate stopped")
    return 0


@contextmanager
def _collector_paused():
    """No cyclic garbage collection while `serve` starts. Start-up makes ~190,000 objects (modules,
    classes, models, the Bolt app) that live as long as the process; the collector walked them
    ~280 times for nothing (~0.13 s of a ~1 s cold start), and every full collection later would
    walk them again (~0.1 s). Once started they are frozen (gc.freeze: never walked again; the
    few thousand objects of start-up garbage stay, well under 1 MB) and collection resumes. A
    start that fails resumes collection without freezing."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
        gc.freeze()
    finally:
        if was_enabled:
            gc.enable()


def _exit_on_sigterm() -> None:
    """SIGTERM (docker stop, Kubernetes) unwinds like Ctrl-C, so the `finally` above runs."""
    import signal

    def stop(signum, frame):
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)


def _health_only_server(rt, port: int, listening, probes) -> None:
    """In Socket Mode there is no Slack endpoint, but /healthz still answers."""
    from bot.web import make_wsgi_app, serve_http

    threading.Thread(target=serve_http, args=(make_wsgi_app(None, rt.ctx.engine, ctx=rt.ctx, probes=probes), port),
                     kwargs={"listening": listening}, daemon=True).start()


def _socket_probe(handler) -> tuple[dict, str | None]:
    """/healthz in Socket Mode: is the WebSocket to Slack up? (slack_sdk reconnects by itself.)"""
    if handler.client.is_connected():
        return {"socket_mode": "connected"}, None
    return {"socket_mode": "disconnected"}, "Socket Mode connection to Slack is down; reconnecting (SLACK_APP_TOKEN)"


def _parse_at(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        at = datetime.fromisoformat(value)
    except ValueError:
        raise CliError(f"--at: '{value}' is not an ISO-8601 time like 2027-03-01T09:00Z") from None
    return at if at.tzinfo else at.replace(tzinfo=timezone.utc)


def cmd_tick(args) -> int:
    """One scheduler pass as if the clock read `--at`: reminders, escalations, digests, then delivery.

    `--dry-run` rolls every step back and sends nothing, so it prints exactly
    what a real pass at that time would queue and changes no row.
    """
    from bot.db import migrate
    from bot.runtime import build_runtime
    from bot.ticks import run_tick
    from models import utcnow

    settings = _settings()
    _setup_logging(settings)
    at = _parse_at(args.at)
    if not args.dry_run:  # a dry run sends nothing, so it needs no Slack
        preflight.require_credentials(settings, "tick")
    migrate(settings.database_url)
    rt = build_runtime(settings, clock=(lambda: at) if at else utcnow, templates=_load_templates_or_fail(settings))
    preflight.check_database(rt.ctx.engine, settings.database_url)
    if not args.dry_run:
        preflight.check_bot_token(rt.client)
        rt.worker.auth.announce = False
    now = rt.ctx.now()
    report = run_tick(rt.ctx, now, dry_run=args.dry_run)
    when = now.isoformat(timespec="minutes")
    if args.dry_run:
        print(f"dry run at {when}: {len(report.lines)} message(s) would be queued; nothing was changed")
        for line in report.lines:
            print(f"  would {line}")
        return 0
    for line in report.lines:
        print(line)
    from bot.linkcheck.runner import run_due
    links = run_due(rt.ctx, now)
    drained = rt.worker.drain_all(now)
    print(f"link checks: {links.checked} checked, {links.broken} broken, {links.sent_back} sent back")
    print(f"tick at {when}: {len(report.lines)} action(s); sent {drained.sent}, retrying {drained.retried}, "
          f"dead {drained.dead}")
    if rt.worker.auth.paused:  # the pause logs nothing here (announce=False): this is its one line
        raise CliError(rt.worker.auth.problem())
    return 0


def cmd_export(args) -> int:
    from bot.db import make_engine, unit_of_work
    from bot.services import export
    from bot.services.errors import ServiceError

    settings = _settings()
    with unit_of_work(make_engine(settings.database_url)) as session:
        try:
            sys.stdout.write(export.export_launch(session, args.key, args.format, viewer=args.viewer))
        except ServiceError as exc:
            raise CliError(exc.for_cli()) from None
    return 0


def cmd_report(args) -> int:
    from bot.db import make_engine, unit_of_work
    from bot.services import report
    from bot.services.errors import ServiceError

    settings = _settings()
    with unit_of_work(make_engine(settings.database_url)) as session:
        try:
            sys.stdout.write(report.render_report(session, args.key, html=args.html, viewer=args.viewer,
                                                  settings=settings))
        except ServiceError as exc:
            raise CliError(exc.for_cli()) from None
    return 0


def cmd_sandbox(args) -> int:
    from bot.sandbox.app import SandboxError, run_sandbox  # the only way in: `serve` never loads it

    try:
        return run_sandbox(args)
    except SandboxError as exc:
        raise CliError(str(exc)) from None


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("launchgate")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown (not installed)"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="launchgate", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Operational-readiness gates for launches, run from Slack. `launchgate COMMAND --help` "
                    "says what each command does, with examples.",
        epilog="start here:\n  launchgate sandbox          # try it without Slack\n"
               "  launchgate migrate && launchgate serve   # your workspace (README, 'Create the Slack app')")
    parser.add_argument("--version", action="version", version=f"launchgate {_version()}")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("serve", help="run the bot (HTTP, or Socket Mode when SLACK_APP_TOKEN is set)").set_defaults(
        func=cmd_serve)
    sandbox = sub.add_parser("sandbox", help="try launchgate without Slack: the bot in a local Slack-like page")
    sandbox.add_argument("--port", type=int, help="the page's port on 127.0.0.1 (default: PORT, 3000)")
    sandbox.add_argument("--host", default="127.0.0.1", help=argparse.SUPPRESS)
    sandbox.add_argument("--db", default="launchgate-sandbox.db", help="SQLite file (default launchgate-sandbox.db)")
    sandbox.add_argument("--reset", action="store_true", help="start over with an empty sandbox")
    sandbox.add_argument("--scenario", choices=["demo"], help="demo: a launch part-way through, to look at first")
    sandbox.set_defaults(func=cmd_sandbox)
    sub.add_parser("migrate", help="apply pending database migrations").set_defaults(func=cmd_migrate)
    checklists = sub.add_parser("checklists", help="checklist templates").add_subparsers(dest="action", required=True)
    validate = checklists.add_parser("validate", help="check every template; non-zero exit on faults")
    validate.add_argument("directory", nargs="?")
    validate.set_defaults(func=cmd_checklists_validate)
    stakeholders = sub.add_parser("stakeholders", help="stakeholder directory").add_subparsers(
        dest="action", required=True)
    sync = stakeholders.add_parser("sync", help="load STAKEHOLDERS_FILE, expand user groups")
    sync.add_argument("--force", action="store_true",
                      help="allow removing over half of the assignments, or every admin or readiness lead")
    sync.set_defaults(func=cmd_stakeholders_sync)
    tick = sub.add_parser("tick", help="run one scheduler pass (reminders, escalations, digests, delivery)")
    tick.add_argument("--at", help="pretend the clock reads this ISO-8601 time (UTC unless an offset is given)")
    tick.add_argument("--dry-run", action="store_true", help="print what would happen; change nothing")
    tick.set_defaults(func=cmd_tick)
    export = sub.add_parser("export", help="export a launch's decisions and timeline")
    export.add_argument("key")
    export.add_argument("--format", choices=["csv", "json"], default="json")
    export.add_argument("--as", dest="viewer", help="Slack user id: refuse a private launch they may not see")
    export.set_defaults(func=cmd_export)
    report = sub.add_parser("report", help="render a readiness report (Markdown, or HTML)")
    report.add_argument("key")
    report.add_argument("--html", action="store_true")
    report.add_argument("--as", dest="viewer", help="Slack user id: refuse a private launch they may not see")
    report.set_defaults(func=cmd_report)
    from bot import cli_capacity  # noqa: E402  (issue 13: capacity commands live in their own module)
    cli_capacity.register(sub)
    from bot import cli_outbox  # issue 12: `launchgate outbox`

    cli_outbox.register(sub)
    from bot import cli_portfolio
    cli_portfolio.add_parsers(sub, sys.modules[__name__])
    from bot import cli_integrations, cli_webhooks
    cli_webhooks.register(sub)
    cli_integrations.register(sub)
    from bot import cli_help
    cli_help.apply(parser)
    return parser


def _debugging() -> bool:
    import os

    return os.environ.get("LOG_LEVEL", "").upper() == "DEBUG" or logging.getLogger().isEnabledFor(logging.DEBUG)


def _database_url() -> str:
    try:
        return load_settings().database_url
    except ConfigError:
        return ""


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (CliError, preflight.StartupError) as exc:
        print(f"launchgate: {exc}", file=sys.stderr)
        return 2
    except ConfigError as exc:
        print(f"launchgate: configuration error: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:
        # Imported here, not with this module: bot.services loads every service and model (~0.4 s),
        # which `serve` imports with the garbage collector paused (_collector_paused).
        from sqlalchemy.exc import SQLAlchemyError

        from bot.services.errors import ServiceError

        if isinstance(exc, ServiceError):  # a service's refusal, with the hint for the terminal
            print(f"launchgate: {exc.for_cli()}", file=sys.stderr)
            return 2
        if not isinstance(exc, SQLAlchemyError):
            raise
        # A database that refuses connections or writes (read-only file, full disk): one line naming
        # DATABASE_URL, the traceback only with LOG_LEVEL=DEBUG.
        if _debugging():
            import traceback

            traceback.print_exc()
        print(f"launchgate: {preflight.database_problem(exc, _database_url())}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
