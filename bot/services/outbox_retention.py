"""Keeping the outbox small: delivered rows nobody needs are deleted after a while.

The audit trail lives in `AuditEvent`, not here. Kept for good: rows that still carry
an idempotency key (it is what stops a repeated command from queueing the message
again), dead letters (for the operator), and nudges and escalations (in-place
refreshes re-render the latest one). That leaves coalesced refreshes and plain
notices, the bulk of the table, to go after `RETENTION`.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlmodel import Session, select

from models import OutboxMessage, OutboxStatus

from .context import AppContext, TickReport
from .outbox import Kind

log = logging.getLogger(__name__)
RETENTION = timedelta(days=30)
BATCH = 5000   # rows per pass, so a first prune of a large table does not hold locks for long
KEEP_KINDS = (Kind.NUDGE, Kind.ESCALATION, Kind.NUDGE_DAY, Kind.ESCALATION_DAY)


def prune_outbox(session: Session, ctx: AppContext, now: datetime, report: TickReport) -> None:
    old = (
        select(OutboxMessage.id)
        .where(OutboxMessage.status == OutboxStatus.SENT, OutboxMessage.sent_at < now - RETENTION,
               OutboxMessage.dedupe_key.is_(None), OutboxMessage.kind.not_in(KEEP_KINDS))
        .limit(BATCH)
    )
    if report.dry_run:  # a dry run deletes nothing, so it says nothing about deleting
        return
    ids = list(session.exec(old))
    if ids:
        session.execute(delete(OutboxMessage).where(OutboxMessage.id.in_(ids)))
        log.info("outbox: deleted %d delivered row(s) older than %d days", len(ids), RETENTION.days)
