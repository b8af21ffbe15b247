"""The outbox worker: claims due rows, sends them to Slack, records the result.

Delivery is at-least-once. A row is claimed with a lease (`claimed_until`),
renewed just before the row is sent; if the process dies after Slack accepted
a message but before the row is marked sent, the lease expires and the row is
sent again — so a crash in that window can duplicate *that one row*, once.
Rows are never lost. 429 waits `Retry-After` (rescheduled, no thread sleeps);
5xx, network errors and bugs back off; permanent errors are dead-lettered. A refused
token (`invalid_auth`, `token_revoked`…) pauses delivery instead (auth_pause.py).

Transient failures (5xx, timeouts, connection errors, Slack's `internal_error`…)
are retried for a time budget (`OUTBOX_RETRY_HOURS`, 24 h by default) with
capped exponential backoff; while Slack is failing one row stays due within
`PROBE_SECONDS`, so the first delivery after Slack recovers happens within a
minute, and that success brings every other backed-off row forward.
"""
from __future__ import annotations

import logging
import os
import random
import socket
import threading
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.error import URLError

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import exists, or_, update
from sqlmodel import Session, select

from bot import logs, metrics
from bot.codecs import PayloadError, TextPayload
from bot.db import is_postgres, unit_of_work
from bot.services import directory
from bot.services.context import AppContext
from bot.services.outbox import REFRESH_KINDS, Kind, enqueue
from models import Launch, OutboxMessage, OutboxStatus, SlackMessageRef, UserProfile

from . import channels, webhook_sender
from .auth_pause import AUTH_ERRORS, AuthPause
from .clocks import PacerClock, RealClock, VirtualClock  # noqa: F401  (VirtualClock: re-exported for tests)
from .gateway import PROFILE_TTL, SlackGateway
from .home import publish_home
from .registry import RENDERERS
from .renderers import Dead, Defer, Message

log = logging.getLogger(__name__)

LEASE = timedelta(seconds=60)
# A row is sent only with this much of its lease left (longer than one Slack call may take);
# otherwise the lease of the rest of the batch is renewed first, in one UPDATE.
RENEW_AHEAD = timedelta(seconds=40)
MAX_ATTEMPTS = 10
BACKOFF_BASE = 2.0
BACKOFF_MAX = 5 * 60.0            # default for OUTBOX_BACKOFF_MAX_SECONDS
PROBE_SECONDS = 60.0             # during an outage some row is tried at least this often
# Slack answers these with HTTP 200 `ok: false` when it is itself in trouble: retry like a 5xx.
TRANSIENT_ERRORS = {"internal_error", "fatal_error", "service_unavailable", "request_timeout"}
PERMANENT_ERRORS = {
    "channel_not_found", "user_not_found", "invalid_blocks", "invalid_arguments", "not_in_channel",
    "is_archived", "msg_too_long", "no_text", "missing_scope", "cannot_dm_bot", "user_disabled", "restricted_action",
    "channel_is_archived", "invalid_blocks_format", "too_many_attachments",
}


@dataclass
class DrainReport:
    sent: int = 0
    retried: int = 0
    dead: int = 0
    deferred: int = 0
    skipped: int = 0
    released: int = 0     # claimed, then handed back unsent because the process is stopping


class ChannelPacer:
    """About one message per second per channel, with a short burst allowance."""

    def __init__(self, per_second: float = 1.0, burst: int = 3, sleep=None, monotonic=None,
                 clock: PacerClock | None = None):
        clock = clock or RealClock()
        self.interval = 1.0 / per_second
        self.burst = burst
        self._sleep = sleep or clock.sleep
        self._now = monotonic or clock.monotonic
        self._tokens: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def wait(self, channel: str) -> None:
        with self._lock:
            now = self._now()
            tokens, last = self._tokens.get(channel, (float(self.burst), now))
            tokens = min(self.burst, tokens + (now - last) / self.interval)
            delay = 0.0 if tokens >= 1 else (1 - tokens) * self.interval
            self._tokens[channel] = (tokens - 1 + delay / self.interval, now + delay)
        if delay:
            self._sleep(delay)


def backoff(attempts: int, cap: float = BACKOFF_MAX) -> float:
    """Exponential with jitter, capped."""
    return random.uniform(0.5, 1.0) * min(cap, BACKOFF_BASE ** min(attempts, 32))


class OutboxWorker:
    def __init__(self, ctx: AppContext, client: WebClient, worker_id: str | None = None,
                 pacer: ChannelPacer | None = None):
        self.ctx = ctx
        self.client = client
        self.worker_id = worker_id or f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        self.pacer = pacer or ChannelPacer()
        self.slack = SlackGateway(ctx, client)
        self._bot_user: str | None = None
        self._stopping = threading.Event()
        self._profiles_seen: dict[str, datetime] = {}
        self.auth = AuthPause()

    def stop(self) -> None:
        """Finish the row being sent, hand the rest of the batch back, claim nothing more.

        Called on SIGTERM: released rows are due again at once for another replica
        (or this one after a restart) instead of waiting out their lease.
        """
        self._stopping.set()

    # -- claiming -----------------------------------------------------------
    def claim(self, now: datetime, limit: int = 50) -> list[OutboxMessage]:
        """Lease up to `limit` due rows to this worker, atomically (only webhooks while Slack
        refuses the token)."""
        if self._stopping.is_set():
            return []
        kinds = (Kind.WEBHOOK,) if self.auth.blocked(now, self.client) else None  # asks Slack: outside the transaction
        with unit_of_work(self.ctx.engine) as session:
            rows = due_rows(session, now, limit, kinds)
            session.expunge_all()  # the rows are settled below with bulk UPDATEs, not one by one
            if not rows:
                return []
            until = now + LEASE
            session.execute(update(OutboxMessage).where(OutboxMessage.id.in_([r.id for r in rows]))
                            .values(claimed_until=until, claimed_by=self.worker_id))
            refreshes = [r.id for r in rows if r.kind in REFRESH_KINDS]
            if refreshes:  # free the coalescing keys: changes after this claim queue a new refresh
                session.execute(update(OutboxMessage).where(OutboxMessage.id.in_(refreshes)).values(dedupe_key=None))
            for row in rows:
                row.claimed_until, row.claimed_by = until, self.worker_id
                if row.kind in REFRESH_KINDS:
                    row.dedupe_key = None
            people = {r.recipient for r in rows if r.recipient.startswith(("U", "W"))}
            self._profiles_seen = dict(session.exec(
                select(UserProfile.user_id, UserProfile.fetched_at).where(UserProfile.user_id.in_(people))).all()
            ) if people else {}
            return rows

    def drain(self, now: datetime | None = None, limit: int = 50) -> DrainReport:
        """Send one batch of the rows due at `now`; returns what happened."""
        now = now or self.ctx.now()
        return self.send(self.claim(now, limit), now)

    def send(self, rows: list[OutboxMessage], now: datetime) -> DrainReport:
        """Send rows this worker claimed, skipping any whose lease another worker took over."""
        report = DrainReport()
        pauses = getattr(self.client, "pauses", None)  # 429 pauses (rate_limits.py), read at the batch's time
        with pauses.at(now) if pauses is not None else nullcontext():
            self._send_all(rows, now, report)
        return report

    def _send_all(self, rows: list[OutboxMessage], now: datetime, report: DrainReport) -> None:
        for n, row in enumerate(rows):
            if self._stopping.is_set() or (self.auth.paused and row.kind != Kind.WEBHOOK):
                report.released += self._release(rows[n:])
                break
            if self._still_mine(row, rows[n:]):
                with logs.bound(outbox_row=row.id, launch_id=row.launch_id):
                    self._process(row, now, report)
            else:
                report.skipped += 1

    def drain_all(self, now: datetime | None = None, batch: int = 50, max_batches: int = 20) -> DrainReport:
        """Batches until nothing is due (or `max_batches`): a backlog drains in one scheduler run."""
        total = DrainReport()
        for _ in range(max_batches):
            report = self.drain(now, batch)
            for name in vars(total):
                setattr(total, name, getattr(total, name) + getattr(report, name))
            if self._stopping.is_set() or (
                    report.sent + report.retried + report.dead + report.deferred + report.skipped < batch):
                break
        return total

    def _release(self, rows: list[OutboxMessage]) -> int:
        with unit_of_work(self.ctx.engine) as session:
            return session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id.in_([r.id for r in rows]), OutboxMessage.claimed_by == self.worker_id,
                       OutboxMessage.status == OutboxStatus.PENDING)
                .values(claimed_until=None)
            ).rowcount

    def _still_mine(self, row: OutboxMessage, rest: list[OutboxMessage]) -> bool:
        """Is the lease on `row` still ours, with RENEW_AHEAD to spare? Renewed for the whole rest
        of the batch in one UPDATE when it runs short.

        A batch paced at one message per second in a busy channel can outlive
        the lease it was claimed with; a row is only sent under an unexpired
        lease of this worker (nobody else may claim it then), so a slow batch
        never races a second worker into a duplicate.
        """
        now = self.ctx.now()
        if row.claimed_until is not None and now + RENEW_AHEAD < row.claimed_until:
            return True
        until = now + LEASE
        with unit_of_work(self.ctx.engine) as session:
            renewed = set(session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id.in_([r.id for r in rest]), OutboxMessage.claimed_by == self.worker_id,
                       OutboxMessage.status == OutboxStatus.PENDING)
                .values(claimed_until=until)
                .returning(OutboxMessage.id)
            ).scalars())
        for other in rest:
            other.claimed_until = until if other.id in renewed else None
        return row.id in renewed

    # -- sending ------------------------------------------------------------
    def _process(self, row: OutboxMessage, now: datetime, report: DrainReport) -> None:
        try:
            result = self._send(row)
        except PayloadError as exc:  # not a row we wrote: retrying cannot help
            self._dead(row, f"bad payload: {exc}")
            report.dead += 1
        except Defer as exc:
            self._finish(row, next_at=now + timedelta(seconds=exc.seconds), error=str(exc), count=False)
            report.deferred += 1
        except Dead as exc:  # waits on something that will never come (e.g. a channel that was never created)
            self._dead(row, str(exc))
            report.dead += 1
        except SlackApiError as exc:
            self._failed(row, now, exc, report)
        except (URLError, OSError, TimeoutError) as exc:
            self._retry(row, now, f"network: {exc}", report, transient=True)
        except Exception as exc:  # a bug rendering one row must not stall the rest of the batch
            log.exception("outbox row %s (%s) failed", row.id, row.kind)
            self._retry(row, now, f"error: {type(exc).__name__}: {exc}", report)
        else:
            if result is None:
                quiet = row.kind in (Kind.PROFILE, Kind.HOME_REFRESH)  # a profile fetch; a Home nobody opened
                self._finish(row, status=OutboxStatus.SENT, error=None if quiet else "nothing to send")
                report.skipped += 1
            else:
                self._finish(row, status=OutboxStatus.SENT, channel=result[0], ts=result[1])
                metrics.OUTBOX_SENT.labels(row.kind).inc()
                report.sent += 1
            if row.failing_since is not None:
                self._recovered(now)

    def _send(self, row: OutboxMessage) -> tuple[str, str] | None:
        if row.kind == Kind.CREATE_CHANNEL:
            return channels.create_launch_channel(self.ctx, self.client, row, self.bot_user_id())
        if row.kind == Kind.INVITE:
            return channels.invite(self.ctx, self.client, row, self.bot_user_id())
        if row.kind == Kind.CHANNEL_TOPIC:
            return channels.set_topic(self.ctx, self.client, row)
        if row.kind == Kind.PROFILE:
            self._cache_profile(row.recipient, force=True)
            return None
        if row.kind == Kind.WEBHOOK:
            return webhook_sender.send(self.ctx, row)
        if row.kind == Kind.HOME_REFRESH:
            self._cache_profile(row.recipient)  # due dates show in the person's own time zone
            view_id = publish_home(self.ctx, self.client, row.recipient)
            return ("home", view_id) if view_id else None
        render = RENDERERS.get(row.kind)
        if render is None:
            raise SlackApiError(f"no renderer for kind {row.kind}", {"ok": False, "error": "invalid_arguments"})
        with unit_of_work(self.ctx.engine) as session:
            message = render(session, row, self.ctx)
        if message is None:
            return None
        if message.channel.startswith(("U", "W")) and not message.ephemeral_user:
            self._cache_profile(message.channel)
        return self._deliver(row, message)

    def _deliver(self, row: OutboxMessage, message: Message) -> tuple[str, str]:
        blocks = message.block_dicts()
        if message.ephemeral_user:
            self.pacer.wait(message.channel)
            self.client.chat_postEphemeral(channel=message.channel, user=message.ephemeral_user,
                                           text=message.text, blocks=blocks)
            return message.channel, ""
        ref = self._ref(message.purpose) if message.purpose and not message.post_new else None
        if ref is None and message.update_only:
            return None
        if ref is not None:
            self.pacer.wait(ref.channel_id)
            try:
                resp = self.client.chat_update(channel=ref.channel_id, ts=ref.ts, text=message.text, blocks=blocks)
                return resp["channel"], resp["ts"]
            except SlackApiError as exc:
                if exc.response.get("error") not in ("message_not_found", "channel_not_found", "cant_update_message"):
                    raise
                if message.update_only:
                    return None
                log.warning("remembered message %s is gone; posting a new one", message.purpose)
        self.pacer.wait(message.channel)
        resp = self.client.chat_postMessage(channel=message.channel, text=message.text, blocks=blocks,
                                            unfurl_links=False, unfurl_media=False)
        if message.purpose:
            self._remember(row.launch_id, message.purpose, resp["channel"], resp["ts"])
        if message.pin:
            self._pin(resp["channel"], resp["ts"])
        return resp["channel"], resp["ts"]

    def _pin(self, channel: str, ts: str) -> None:
        """Pin a freshly posted message (the status card). The message is out either way, so a
        failure is logged, never retried: a retry would post a second card."""
        try:
            self.client.pins_add(channel=channel, timestamp=ts)
        except SlackApiError as exc:
            if exc.response.get("error") != "already_pinned":
                log.warning("could not pin %s in %s: %s", ts, channel, exc.response.get("error"))

    def _ref(self, purpose: str) -> SlackMessageRef | None:
        with unit_of_work(self.ctx.engine) as session:
            return session.exec(select(SlackMessageRef).where(SlackMessageRef.purpose == purpose)).first()

    def _remember(self, launch_id: int | None, purpose: str, channel: str, ts: str) -> None:
        with unit_of_work(self.ctx.engine) as session:
            ref = session.exec(select(SlackMessageRef).where(SlackMessageRef.purpose == purpose)).first()
            ref = ref or SlackMessageRef(launch_id=launch_id, purpose=purpose, channel_id=channel, ts=ts)
            ref.channel_id, ref.ts, ref.updated_at = channel, ts, self.ctx.now()
            session.add(ref)

    def _cache_profile(self, user_id: str, force: bool = False) -> None:
        seen = self._profiles_seen.get(user_id)  # read with the batch's claim: no query per row
        if not force and seen is not None and self.ctx.now() - seen < PROFILE_TTL:
            return
        self.slack.cache_profile(user_id, force=force)

    def bot_user_id(self) -> str | None:
        if self._bot_user is None:
            try:
                self._bot_user = self.client.auth_test().get("user_id")
            except SlackApiError:
                return None
        return self._bot_user

    # -- outcomes -----------------------------------------------------------
    def _failed(self, row: OutboxMessage, now: datetime, exc: SlackApiError, report: DrainReport) -> None:
        status = exc.response.status_code
        error = exc.response.get("error") or f"http {status}"
        if status == 429:
            retry_after = float(exc.response.headers.get("Retry-After", exc.response.headers.get("retry-after", 1)))
            # The client paused the method (and channel) too: the rest of the batch waits without a request.
            self._finish(row, next_at=now + timedelta(seconds=retry_after), error="ratelimited", count=False)
            metrics.OUTBOX_RETRIED.labels("paused" if exc.response.get("paused") else "ratelimited").inc()
            report.retried += 1
        elif error in AUTH_ERRORS:  # the token, not this row: stays due, not counted, the batch stops
            self.auth.pause(error, now)
            self._finish(row, next_at=now, error=error, count=False)
            report.retried += 1
        elif status >= 500 or error in TRANSIENT_ERRORS:
            self._retry(row, now, error, report, transient=True)
        elif error in PERMANENT_ERRORS or row.attempts + 1 >= MAX_ATTEMPTS:
            self._dead(row, error)
            report.dead += 1
        else:
            self._retry(row, now, error, report)

    def _retry(self, row: OutboxMessage, now: datetime, error: str, report: DrainReport,
               transient: bool = False) -> None:
        """Transient failures retry until the time budget runs out; anything else (an unknown
        Slack error, a bug rendering the row) gets MAX_ATTEMPTS tries."""
        settings = self.ctx.settings
        since = row.failing_since or now
        if transient:
            budget = timedelta(hours=settings.outbox_retry_hours)
            if now - since >= budget:
                self._dead(row, f"gave up after {_hours(budget)} of transient errors: {error}")
                report.dead += 1
                return
        elif row.attempts + 1 >= MAX_ATTEMPTS:
            self._dead(row, f"gave up after {MAX_ATTEMPTS} attempts: {error}")
            report.dead += 1
            return
        next_at = now + timedelta(seconds=backoff(row.attempts + 1, settings.outbox_backoff_max_seconds))
        if transient and next_at > now + timedelta(seconds=PROBE_SECONDS) and not self._probe_due(row, now):
            # Nothing else will ask Slack within a minute: this row is the outage probe.
            next_at = now + timedelta(seconds=random.uniform(0.5, 1.0) * PROBE_SECONDS)
        self._finish(row, next_at=next_at, error=error, failing_since=since)
        metrics.OUTBOX_RETRIED.labels("server" if transient else "error").inc()
        report.retried += 1

    def _probe_due(self, row: OutboxMessage, now: datetime) -> bool:
        """Is another failing row already due within PROBE_SECONDS?"""
        with unit_of_work(self.ctx.engine) as session:
            return bool(session.scalar(select(exists().where(
                OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.id != row.id,
                OutboxMessage.failing_since.is_not(None),
                OutboxMessage.next_attempt_at <= now + timedelta(seconds=PROBE_SECONDS),
            ))))

    def _recovered(self, now: datetime) -> None:
        """A row that had been failing went through: Slack is back, so every row backing off
        after a failure is due now instead of at the end of its backoff (rate limits excepted)."""
        with unit_of_work(self.ctx.engine) as session:
            session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.failing_since.is_not(None),
                       OutboxMessage.next_attempt_at > now, OutboxMessage.last_error != "ratelimited",
                       or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < now))
                .values(next_attempt_at=now)
            )

    def _dead(self, row: OutboxMessage, error: str) -> None:
        log.error("outbox row %s (%s to %s) dead-lettered: %s", row.id, row.kind, row.recipient, error)
        metrics.OUTBOX_DEAD.labels(error.split(":")[0][:40]).inc()
        with unit_of_work(self.ctx.engine) as session:
            self._mark(session, row, status=OutboxStatus.DEAD, error=error)
            if row.kind != Kind.ADMIN_ALERT:
                day = self.ctx.now().date().isoformat()
                text = (f"⚠️ launchgate could not deliver a `{row.kind}` message to `{row.recipient}`: "
                        f"`{error}`. It is kept as dead-lettered outbox row {row.id}.")
                for admin in directory.members(session, directory.ADMIN):
                    enqueue(session, Kind.ADMIN_ALERT, admin, TextPayload(text=text).dump(),
                            dedupe_key=f"alert:{admin}:{error}:{row.recipient}:{day}")

    def _finish(self, row: OutboxMessage, *, status: str = OutboxStatus.PENDING, next_at: datetime | None = None,
                error: str | None = None, count: bool = True, channel: str | None = None, ts: str | None = None,
                failing_since: datetime | None = None):
        with unit_of_work(self.ctx.engine) as session:
            self._mark(session, row, status=status, next_at=next_at, error=error, count=count,
                       channel=channel, ts=ts, failing_since=failing_since)

    def _mark(self, session: Session, row: OutboxMessage, *, status: str, next_at: datetime | None = None,
              error: str | None = None, count: bool = True, channel: str | None = None, ts: str | None = None,
              failing_since: datetime | None = None):
        """Only the claim holder may settle a row; a lost lease means another worker owns it."""
        values: dict = {"status": status, "claimed_until": None, "last_error": error}
        if failing_since is not None:
            values["failing_since"] = failing_since
        elif status == OutboxStatus.SENT:
            values["failing_since"] = None
        if count:
            values["attempts"] = OutboxMessage.attempts + 1
        if next_at is not None:
            values["next_attempt_at"] = next_at
        if status == OutboxStatus.SENT:
            values.update(sent_at=self.ctx.now(), result_channel=channel, result_ts=ts)
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == row.id, OutboxMessage.claimed_by == self.worker_id)
            .values(**values)
        )


def _hours(delta: timedelta) -> str:
    hours = delta.total_seconds() / 3600
    return f"{hours:g} h"


def due_rows(session: Session, now: datetime, limit: int, kinds: tuple[str, ...] | None = None) -> list[OutboxMessage]:
    """Pending rows due at `now` and not leased (of `kinds` only, if given); on PostgreSQL locked
    `FOR UPDATE SKIP LOCKED` so concurrent workers (threads or processes) each get rows the others do not."""
    stmt = (
        select(OutboxMessage)
        .where(
            OutboxMessage.status == OutboxStatus.PENDING,
            OutboxMessage.next_attempt_at <= now,
            or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < now),
        )
        .order_by(OutboxMessage.id)
        .limit(limit)
    )
    if kinds is not None:
        stmt = stmt.where(OutboxMessage.kind.in_(kinds))
    if is_postgres(session):
        stmt = stmt.with_for_update(skip_locked=True)
    return list(session.exec(stmt))


def launch_of(session: Session, row: OutboxMessage) -> Launch | None:
    return session.get(Launch, row.launch_id) if row.launch_id else None
