"""The one lock order every command follows: launch row → gate(s) → items → outbox.

Two commands on the same launch (two owners clicking Done at the same moment)
queue on the launch row before they touch anything else, so they serialise
instead of taking item, gate and outbox locks in opposite orders — which
PostgreSQL resolves by killing one of them as a deadlock. Every write path
that changes a launch's gates or items starts with one of these helpers.
On SQLite a writing transaction holds the database's single write lock from
its first statement (`BEGIN IMMEDIATE`), so the helpers only re-read there.
A saved Done/Reopen click (`pending_click`, bot/services/clicks.py) is locked before the launch
by the transaction that applies it, and only ever with SKIP LOCKED: nobody waits for it.

A launch row is locked (and re-read) once per transaction: the session remembers the rows
it locked until the transaction (or a SAVEPOINT) ends, and a later `launch()` for the same
row returns that object without a statement — nobody else can change the row meanwhile, and
this transaction's own changes are on the object. Holding it also keeps it in the session's
identity map, so the commit-time effects find it with `session.get` instead of a SELECT.
"""
from __future__ import annotations

from sqlmodel import Session, select

from bot.db import is_postgres
from models import Gate, Item, Launch

from .errors import NotFound
from .ids import db_id


HELD = "launchgate_locked_launches"  # session.info: {launch id: Launch} locked in this transaction
KEPT = "launchgate_locked_rows"       # session.info: the items and gates locked (kept in the identity map)


def _locked(session: Session, stmt):
    stmt = stmt.execution_options(populate_existing=True)
    return session.exec(stmt.with_for_update() if is_postgres(session) else stmt).first()


def _held(session: Session) -> dict[int, Launch]:
    return session.info.setdefault(HELD, {})


def _keep(session: Session, row):
    if row is not None:
        session.info.setdefault(KEPT, []).append(row)
    return row


def forget(session: Session, transaction) -> None:
    """Locks end with the transaction; a SAVEPOINT's end forgets them too (a rolled-back
    one releases its row locks on PostgreSQL; re-locking after a released one costs one read).
    A flush's internal sub-transaction is not an end. Called by effects.py's session hook
    (the one module that hooks into sessions)."""
    if transaction.parent is None or transaction.nested:
        session.info.pop(HELD, None)
        session.info.pop(KEPT, None)


def launch(session: Session, launch_id: int) -> Launch:
    """The launch row, re-read and (PostgreSQL) locked until the transaction ends (once per transaction)."""
    found = _held(session).get(launch_id)
    if found is None:
        found = _locked(session, select(Launch).where(Launch.id == launch_id))
        if found is None:
            raise NotFound("That launch no longer exists.")
        _held(session)[launch_id] = found
    return found


def launches(session: Session, launch_ids) -> dict[int, Launch]:
    """Several launch rows, re-read and (PostgreSQL) locked in ascending id order, in one statement
    (a batch of link-check results spans launches; a single-launch command can never wait in a cycle with it)."""
    ids = sorted(set(launch_ids))
    if not ids:
        return {}
    stmt = select(Launch).where(Launch.id.in_(ids)).order_by(Launch.id).execution_options(populate_existing=True)
    found = {row.id: row for row in session.exec(stmt.with_for_update() if is_postgres(session) else stmt)}
    _held(session).update(found)
    return found


def item(session: Session, item_id: int | str) -> tuple[Item, Launch]:
    """The item and its launch, locked in order: the launch row first (found through the item
    in the same statement), then the item."""
    key = db_id(item_id)  # anything that cannot be an id is simply not found
    if key is None:
        raise NotFound("That item no longer exists.")
    locked_launch = _locked(session, select(Launch).where(
        Launch.id == select(Item.launch_id).where(Item.id == key).scalar_subquery()))
    if locked_launch is None:
        raise NotFound("That item no longer exists.")
    _held(session)[locked_launch.id] = locked_launch
    found = _keep(session, _locked(session, select(Item).where(Item.id == key)))
    if found is None:
        raise NotFound("That item no longer exists.")
    return found, locked_launch


def gate(session: Session, gate_id: int) -> tuple[Gate, Launch]:
    """The gate and its launch, locked in order: the launch row first, then the gate."""
    launch_id = session.exec(select(Gate.launch_id).where(Gate.id == gate_id)).first()
    if launch_id is None:
        raise NotFound("That gate no longer exists.")
    locked_launch = launch(session, launch_id)
    return _keep(session, _locked(session, select(Gate).where(Gate.id == gate_id))), locked_launch
