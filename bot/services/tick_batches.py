"""Set-based building blocks of the scheduler's steps.

A step reads its due rows for a bounded batch of launches in one query, looks up
the time zones of everyone in the batch in one more, and writes the ledger, item,
outbox and audit rows of the whole batch with a handful of bulk statements; then it
commits the batch, so no lock is held for long and memory stays flat whatever the
number of launches. The number of statements grows with the number of batches,
never with the number of launches, items or people.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date, datetime
from functools import lru_cache
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import String, delete, insert, tuple_, update
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, select

from models import AuditEvent, Nudge, OutboxMessage, OutboxStatus, UserProfile

from . import calendar, changes
from .audit import _plain
from .context import TickReport
from .outbox import Kind, profile_key
from .policy import WorkingHours
from .recipients import UTC, zone_named

BATCH_LAUNCHES = 500   # launches per batch: ~15,000 items read, one commit
BATCH_ROWS = 500       # due items per batch of a per-person step (reminders, escalations): one commit
CHUNK = 2000           # ids per IN (…) list / rows per multi-row INSERT (well under SQLite's 32,766 variables)
PARAMS = 30000         # bound values per statement of the per-person steps' bulk writes (SQLite allows 32,766,
                       # PostgreSQL 65,535): a pass's ledger, outbox and item writes stay one statement each up to
                       # 6,000 reminders a pass


class unindexed(FunctionElement):
    """The column, compared as `column || ''` on SQLite: the same value, but SQLite (which keeps no
    statistics unless asked) no longer drives a scheduler query from that column's index (every
    open launch's items) instead of the due-time index on item the query is made for. Other
    databases get the column itself: PostgreSQL plans by its statistics, and the expression
    would hide them (it then guessed 1 % of launches open and read every launch's items)."""

    inherit_cache = True
    name = "unindexed"
    type = String()


@compiles(unindexed)
def _column(element, compiler, **kw):
    return compiler.process(element.clauses, **kw)


@compiles(unindexed, "sqlite")
def _column_sqlite(element, compiler, **kw):
    return f"({compiler.process(element.clauses, **kw)} || '')"


def chunks(values: Sequence, size: int = CHUNK) -> Iterator[Sequence]:
    for start in range(0, len(values), size):
        yield values[start:start + size]


def weighted_chunks(values: Sequence, weight: dict, limit: int | None = None) -> Iterator[list]:
    """`values` in order, cut into batches of about `limit` due rows (a value's weight); a value
    heavier than the limit is a batch of its own. Bounds a batch by the work it holds, not by the
    number of people in it."""
    limit = limit or BATCH_ROWS
    batch: list = []
    load = 0
    for value in values:
        if batch and load + weight.get(value, 1) > limit:
            yield batch
            batch, load = [], 0
        batch.append(value)
        load += weight.get(value, 1)
    if batch:
        yield batch


def launch_ranges(launch_ids: Sequence[int], size: int | None = None) -> Iterator[tuple[int, int]]:
    """Sorted launch ids → (first, last) of consecutive batches of `size` launches."""
    for part in chunks(list(launch_ids), size or BATCH_LAUNCHES):
        yield part[0], part[-1]


FINISHED = "finished"  # a step's mark in TickReport.resume: done for this round of passes


def budgeted(batches: Iterable[Sequence], report: TickReport, step: str) -> Iterator[Sequence]:
    """The batches a step runs this pass: while the pass's time budget lasts (TickReport.deadline),
    and at least one in every pass, so each pass makes progress. Batches are in key order (people's
    ids, launch ids); a step that stops records the last key it did, and the next pass skips the
    batches up to it (`after`); a step that finishes is not run again until every step has (the
    round of passes is over), so rows that stay due (a snoozed item) cannot starve the others."""
    done = report.start_after.get(step)
    for batch in batches:
        if report.batches and report.out_of_time():
            report.unfinished.append(step)
            report.resume[step] = done
            return
        report.batches += 1
        yield batch
        done = batch[-1]
    report.resume[step] = FINISHED


def step_batches(values: Sequence, report: TickReport, step: str,
                 cut: Callable[[Sequence], Iterable[Sequence]]) -> Iterator[Sequence]:
    """A step's batches this pass: the sorted `values` it has not reached yet, cut into batches by
    `cut`, for as long as the budget lasts (`after`, then `budgeted`)."""
    return budgeted(cut(after(values, report, step)), report, step)


def after(values: Sequence, report: TickReport, step: str) -> list:
    """The sorted `values` an unfinished step has not reached yet (all of them on a fresh start)."""
    start = report.start_after.get(step)
    if start == FINISHED:
        return []
    return list(values) if start is None else [v for v in values if v > start]


def end_batch(session: Session, report: TickReport) -> None:
    """Commit what the batch wrote and release its row locks (a dry run keeps one transaction,
    rolled back at the end)."""
    if not getattr(report, "dry_run", False):
        session.commit()


def _insert(session: Session, model):
    return (pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert)(model)


@lru_cache(maxsize=4096)
def is_business_day(day: date, markets: tuple[str, ...]) -> bool:
    return calendar.is_business_day(day, markets)


@lru_cache(maxsize=65536)
def add_business_days(start: date, days: int, markets: tuple[str, ...]) -> date:
    return calendar.add_business_days(start, days, markets)


@lru_cache(maxsize=65536)
def business_days_between(start: date, end: date, markets: tuple[str, ...]) -> int:
    return calendar.business_days_between(start, end, markets)


def in_working_hours(zones: "Zones", people: Sequence[str], hours: WorkingHours) -> list[str]:
    """Those of `people` whose clock now reads inside working hours (one zone look-up for all of
    them). Whether it is a business day depends on each launch's markets and is checked per launch
    later; people outside their hours are not read at all this pass."""
    zones.load(people)
    return [p for p in people
            if zones[p] is not None and hours.start <= zones.now.astimezone(zones[p]).time() < hours.end]


def in_working_time(local: datetime, hours: WorkingHours, markets: tuple[str, ...]) -> bool:
    return is_business_day(local.date(), markets) and hours.start <= local.time() < hours.end


class Zones:
    """Time zones of the people a batch concerns, looked up once per person.

    A person whose profile was never fetched gets one `users.info` row queued (all of
    them in one INSERT) and waits one tick; one Slack could not tell us about is UTC.
    """

    def __init__(self, session: Session, now: datetime):
        self.session, self.now = session, now
        self.known: dict[str, ZoneInfo | None] = {}

    def load(self, people: Iterable[str]) -> None:
        missing = sorted({p for p in people if p} - self.known.keys())
        found: dict[str, str | None] = {}
        for part in chunks(missing):
            found |= dict(self.session.exec(
                select(UserProfile.user_id, UserProfile.tz).where(UserProfile.user_id.in_(part))).all())
        for person in missing:
            if person in found:
                self.known[person] = zone_named(found[person])
        unknown = [p for p in missing if p not in found]
        if not unknown:
            return
        attempted: set[str] = set()
        for part in chunks(unknown):
            keys = [profile_key(p) for p in part]
            attempted |= set(self.session.exec(
                select(OutboxMessage.recipient).where(OutboxMessage.dedupe_key.in_(keys),
                                                      OutboxMessage.status != OutboxStatus.PENDING)).all())
        ask = [p for p in unknown if p not in attempted]
        enqueue_many(self.session, [outbox_row(Kind.PROFILE, p, {}, None, profile_key(p), self.now) for p in ask])
        for person in unknown:
            self.known[person] = UTC if person in attempted else None

    def __getitem__(self, person: str) -> ZoneInfo | None:
        return self.known.get(person)


def outbox_row(kind: str, recipient: str, payload: dict, launch_id: int | None, dedupe_key: str | None,
               now: datetime) -> dict[str, Any]:
    return {"kind": kind, "recipient": recipient, "payload": payload, "launch_id": launch_id,
            "dedupe_key": dedupe_key, "status": OutboxStatus.PENDING, "attempts": 0, "next_attempt_at": now,
            "created_at": now}


def enqueue_many(session: Session, rows: list[dict[str, Any]], *, returning: bool = False) -> set[str]:
    """Queue outbox rows; a row whose dedupe key is already there is skipped (ON CONFLICT DO NOTHING).
    With `returning`, the dedupe keys of the rows written (the others lost to an earlier row)."""
    written: set[str] = set()
    stmt = (_insert(session, OutboxMessage).on_conflict_do_nothing(index_elements=["dedupe_key"])
            .execution_options(insertmanyvalues_page_size=PARAMS))
    for part in chunks(rows, PARAMS // 12):
        if returning:  # one multi-row INSERT … RETURNING (an executemany would go row by row here)
            written |= set(session.execute(stmt.values(list(part)).returning(OutboxMessage.dedupe_key)).scalars())
        else:
            session.execute(stmt, list(part))
    return written


def claim_many(session: Session, claims: list[tuple[int, str, date, str]], now: datetime
               ) -> set[tuple[int, str, date, str]]:
    """Record reminders in the ledger (launch, person, local day, kind); returns those this
    pass won — a second replica or pass the same day wins none and must not send."""
    won: set[tuple[int, str, date, str]] = set()
    stmt = (_insert(session, Nudge)
            .on_conflict_do_nothing(index_elements=["launch_id", "user_id", "day", "kind"])
            .returning(Nudge.launch_id, Nudge.user_id, Nudge.day, Nudge.kind)
            .execution_options(insertmanyvalues_page_size=PARAMS))
    for part in chunks(claims, PARAMS // 5):
        won |= {tuple(r) for r in session.execute(stmt, [
            {"launch_id": lid, "user_id": user, "day": day, "kind": kind, "at": now} for lid, user, day, kind in part])}
    return won


def release_claims(session: Session, claims: list[tuple[int, str, date, str]]) -> None:
    """Give back ledger claims this pass won but will not send (rare: the person's message of the
    day was already queued by another pass)."""
    for part in chunks(claims, PARAMS // 4):
        session.execute(delete(Nudge).where(tuple_(Nudge.launch_id, Nudge.user_id, Nudge.day, Nudge.kind).in_(
            [tuple(c) for c in part])))


def audit_many(session: Session, events: list[dict[str, Any]]) -> None:
    """Audit events of the batch, in one executemany per chunk."""
    rows = [{"launch_id": e["launch_id"], "at": e["at"], "actor": e["actor"], "action": e["action"],
             "entity": e["entity"], "entity_id": e.get("entity_id"), "before": _plain(e.get("before")),
             "after": _plain(e.get("after")), "note": e.get("note")} for e in events]
    stmt = insert(AuditEvent).execution_options(insertmanyvalues_page_size=PARAMS // 9)
    for part in chunks(rows, PARAMS // 9):
        session.execute(stmt, list(part))
    # Written without the ORM: hand them to the derived effects as plain records (webhooks such as item.overdue).
    changes.of(session).written_events.extend(SimpleNamespace(id=None, **row) for row in rows)


def set_many(session: Session, model, ids: Iterable[int], **values) -> None:
    """UPDATE model SET values WHERE id IN ids (chunked)."""
    ids = sorted(set(ids))
    for part in chunks(ids, PARAMS):
        session.execute(update(model).where(model.id.in_(part)).values(**values)
                        .execution_options(synchronize_session=False))


def taken_keys(session: Session, keys: list[str]) -> set[str]:
    """Which of these outbox dedupe keys are already written (e.g. someone's message of the day)."""
    found: set[str] = set()
    for part in chunks(keys):
        found |= set(session.exec(select(OutboxMessage.dedupe_key).where(OutboxMessage.dedupe_key.in_(part))).all())
    return found
