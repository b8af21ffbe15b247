"""`launchgate sandbox`: the bot `launchgate serve` runs — same Bolt app and listeners, services,
outbox worker, scheduler, signed request path — against the local workspace in
`bot.sandbox.workspace`, with a Slack-like page to use it from a browser.

Two loopback servers: the workspace (Slack's Web API, response URLs, the page) on `--port`, and
the bot (waitress, `/slack/events`) on a free port. Tokens and the signing secret are random per
run and never leave the process.
"""
from __future__ import annotations

import logging
import os
import secrets
import signal
import tempfile
import threading
from datetime import timedelta
from pathlib import Path

from sqlmodel import select

from bot.config import ConfigError, Settings, load_settings

from . import people
from .clock import VirtualClock, morning_of, next_working_morning
from .store import WorkspaceStore
from .ui import SandboxUI
from .workspace import SlackStandIn

log = logging.getLogger("launchgate.sandbox")
CREDENTIALS = ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN")
TRIGGER_TTL = 10.0  # seconds; Slack's is 3 (the tests keep 3): a busy laptop still opens its modals
STEPS = {"morning": "Next working morning", "day": "+1 day", "week": "+1 week", "launch": "Launch day"}


class SandboxError(Exception):
    """Printed by the CLI as one line; exit status 2."""




def refuse_real_credentials() -> None:
    """The sandbox must never talk to a real workspace, nor hold its secrets."""
    try:
        configured = Settings()
    except Exception as exc:  # a bad value elsewhere in .env is reported below by load_settings
        raise SandboxError(f"configuration error: {exc}") from None
    found = [name for name in CREDENTIALS if os.environ.get(name, "").strip() or getattr(configured, name.lower())]
    if found:
        raise SandboxError(f"sandbox refused: {', '.join(found)} set (environment or .env); the sandbox never runs "
                       "with real Slack credentials: unset them, or use `launchgate serve` for a real workspace")


class Sandbox:
    def __init__(self, db: Path, host: str, port: int, base_settings: Settings):
        self.db = db
        self.store = WorkspaceStore(db)
        self.clock = VirtualClock(float(self.store.load("clock_offset") or 0.0))
        self.ui = SandboxUI(self)
        token, secret = f"xoxb-sandbox-{secrets.token_hex(12)}", secrets.token_hex(16)
        self.workspace = SlackStandIn(token=token, signing_secret=secret, app_token=f"xapp-sandbox-{secrets.token_hex(8)}",
                                      socket_mode=False, host=host, port=port, pages=self.ui,
                                      after_call=lambda _name: self.changed())
        self.workspace.state.trigger_ttl = TRIGGER_TTL
        self.workspace.state.ids.clock = self.clock.epoch
        self.fresh = not self.store.restore(self.workspace.state)
        self._seed()
        self._tmp = tempfile.TemporaryDirectory(prefix="launchgate-sandbox-")
        stakeholders = Path(self._tmp.name) / "stakeholders.yaml"
        stakeholders.write_text(people.stakeholders_yaml())
        self.settings = base_settings.model_copy(update={
            "slack_bot_token": token, "slack_signing_secret": secret, "slack_app_token": None,
            "database_url": f"sqlite:///{db}", "slack_api_url": "http://127.0.0.1:1/api/",  # set at start
            "stakeholders_file": str(stakeholders), "launches_channel": self._channel_id(people.ANNOUNCEMENTS),
        })
        self.rt = None
        self.bot_url = ""
        self._bot_server = None
        self._bot_thread = None
        self.scheduler = None
        self._advance_lock = threading.Lock()
        self.ready = False

    # -- the workspace's people and channels ------------------------------------------
    def _seed(self) -> None:
        ws = self.workspace
        for person in people.PEOPLE:
            if person.id not in ws.state.users:
                ws.add_user(person.id, name=person.name, tz=person.tz, real_name=person.real_name)
        everyone = [p.id for p in people.PEOPLE]
        for name, purpose in people.CHANNELS:
            if self._channel_id(name) is None:
                channel_id = ws.add_channel(name=name, members=everyone, creator=people.PM)
                with ws.state.lock:
                    ws.state.channels[channel_id].purpose = purpose

    def _channel_id(self, name: str) -> str | None:
        with self.workspace.state.lock:
            return next((c.id for c in self.workspace.state.channels.values() if c.name == name and not c.is_im),
                        None)

    def title(self, user_id: str) -> str:
        person = people.by_id(user_id)
        return person.title if person else "guest"

    def order(self, user_id: str) -> int:
        ids = [p.id for p in people.PEOPLE]
        return ids.index(user_id) if user_id in ids else len(ids)

    # -- lifecycle ----------------------------------------------------------------
    def start(self) -> None:
        from waitress import create_server

        from bot.db import migrate, unit_of_work
        from bot.runtime import build_runtime
        from bot.scheduler import start_scheduler
        from bot.services import directory
        from bot.services.directory import DirectoryError
        from bot.slack_app import create_app
        from bot.web import make_wsgi_app

        self.workspace.start()
        self.settings = self.settings.model_copy(update={"slack_api_url": self.workspace.api_url})
        migrate(self.settings.database_url)
        self.rt = build_runtime(self.settings, clock=self.clock.now)
        try:
            directory.sync_stakeholders(self.settings, self.rt.ctx.engine, self.rt.slack)
        except DirectoryError as exc:
            raise SandboxError("sandbox directory: " + "; ".join(exc.problems)) from None
        with unit_of_work(self.rt.ctx.engine) as session:  # names and time zones, as `serve` does
            directory.queue_profile_lookups(session)
        app = create_app(self.rt)
        self.workspace.settle_bot = self.rt.settle  # a click's change shows as soon as the page updates
        self._bot_server = create_server(make_wsgi_app(app, self.rt.ctx.engine), host="127.0.0.1", port=0,
                                         threads=8, ident="launchgate")
        self._bot_thread = threading.Thread(target=self._bot_server.run, name="sandbox-bot", daemon=True)
        self._bot_thread.start()
        self.bot_url = f"http://127.0.0.1:{self._bot_server.effective_port}"
        self.scheduler = start_scheduler(self.rt)
        self.store.start_saver(self.workspace.state)
        self.ready = True

    def stop(self) -> None:
        if self.rt is not None:
            self.rt.worker.stop()
        if self.scheduler is not None:
            self.scheduler.shutdown(wait=True)
        if self._bot_server is not None:
            server = self._bot_server

            def close_all():
                for dispatcher in list(server._map.values()):
                    dispatcher.close()

            server.trigger.pull_trigger(close_all)
            self._bot_thread.join(timeout=5)
            server.task_dispatcher.shutdown()
        self.workspace.stop()
        self.store.save("clock_offset", self.clock.offset.total_seconds())
        self.store.stop(self.workspace.state)
        if self.rt is not None:
            self.rt.ctx.engine.dispose()
        self._tmp.cleanup()

    @property
    def page_url(self) -> str:
        return self.workspace.base_url

    def changed(self) -> None:
        self.ui.bump()
        self.store.changed()

    def kick(self) -> None:
        if self.rt is not None:
            self.rt.kick()

    def healthy(self) -> bool:
        from bot.db import ping

        return self.ready and ping(self.rt.ctx.engine)

    def deliver(self, rounds: int = 6) -> None:
        """Send everything due now (the channel is created first, then what waits on it)."""
        for _ in range(rounds):
            report = self.rt.worker.drain_all(self.clock.now())
            if not (report.sent or report.skipped or report.retried or report.dead):
                return

    # -- the clock ----------------------------------------------------------------
    def advance(self, step: str, user: str) -> list[str]:
        """Move the clock, run one scheduler pass at the new time, deliver what it queued."""
        from bot.ticks import run_tick

        if step not in STEPS:
            raise ValueError(f"unknown clock step {step!r}")
        with self._advance_lock:
            now = self.clock.now()
            tz = self.workspace.state.users[user].tz if user in self.workspace.state.users else "UTC"
            if step == "morning":
                target = next_working_morning(now, tz)
            elif step == "day":
                target = now + timedelta(days=1)
            elif step == "week":
                target = now + timedelta(days=7)
            else:
                day = self._next_launch_day(now, tz)
                if day is None:
                    raise ValueError("no open launch has its launch day ahead")
                target = morning_of(day, tz)
            at = self.clock.move_to(target)
            self.store.save("clock_offset", self.clock.offset.total_seconds())
            report = run_tick(self.rt.ctx, at)
            self.deliver()
        when = at.isoformat(timespec="minutes")
        lines = [f"{STEPS[step]} → {when}: scheduler pass, {len(report.lines)} action(s)"]
        lines += [f"  {line}" for line in report.lines[:20]]
        self.changed()
        return lines

    def _next_launch_day(self, now, tz):
        from zoneinfo import ZoneInfo

        from bot.db import unit_of_work
        from models import Launch, LaunchStatus

        today = now.astimezone(ZoneInfo(tz)).date()
        with unit_of_work(self.rt.ctx.engine) as session:
            days = session.exec(select(Launch.launch_date).where(Launch.status == LaunchStatus.OPEN,
                                                                 Launch.launch_date > today)
                                .order_by(Launch.launch_date).limit(1)).all()
        return days[0] if days else None


def run_sandbox(args) -> int:
    from bot.services.templates import TemplateError, load_templates

    refuse_real_credentials()
    try:
        base = load_settings()
    except ConfigError as exc:
        raise SandboxError(f"configuration error: {exc}") from None
    logging.basicConfig(level=base.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("alembic", "httpx"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.ERROR)  # "skipped: already running" after a kick
    try:
        load_templates(base.checklists_dir)
    except TemplateError as exc:
        raise SandboxError(exc.report("checklist templates are invalid")) from None
    port = args.port if args.port is not None else base.port
    db = Path(args.db).expanduser().resolve()
    if args.reset:
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
    db.parent.mkdir(parents=True, exist_ok=True)
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        log.warning("the sandbox listens on %s: anyone who can reach it can act as any sample person", args.host)
    sandbox = Sandbox(db, args.host, port, base)
    try:
        sandbox.start()
    except OSError as exc:
        raise SandboxError(f"sandbox: cannot listen on {args.host}:{port} ({exc.strerror or exc}); "
                       "pick another with --port") from None
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        if args.scenario:
            from .scenario import run_scenario

            try:
                print(run_scenario(sandbox, args.scenario), flush=True)
            except (RuntimeError, ValueError, LookupError) as exc:  # the sandbox still serves
                log.error("the %s scenario stopped part-way: %s", args.scenario, exc)
        print(f"launchgate sandbox: open {sandbox.page_url} (a local Slack workspace; data in {db}; "
              "Ctrl-C stops)", flush=True)
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        sandbox.stop()
        print("launchgate sandbox stopped", flush=True)
    return 0
