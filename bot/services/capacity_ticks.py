"""Monday tick steps: WFM's capacity digest across launches, and the prompt for last week's actuals.

Both run at the first pass on a Monday from 07:00 UTC and at most once that Monday: the
actuals prompt through the Nudge ledger's unique (launch, person, day, kind) key, the digest
through its audit event. Every read is set-based (one query for the launches, one for the
actuals, one for the ledger), whatever the number of launches.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from models import AuditEvent, ForecastActual, Item, ItemState, Launch, LaunchRole, LaunchStatus, Nudge

from . import audit, capacity, directory, outbox
from .actuals import forecast_queues, week_ended
from .context import AppContext, TickReport
from .readable import safe

MONDAY_FROM_HOUR = 7
ACTUALS_PROMPT = outbox.Kind.ACTUALS_PROMPT     # DM with an "Enter actuals" button


def _is_monday_morning(now: datetime) -> bool:
    return now.weekday() == 0 and now.hour >= MONDAY_FROM_HOUR


def due_actuals(session: Session, ctx: AppContext, today: date) -> dict[int, dict[str, list[int]]]:
    """{launch: {queue: [weeks that have ended and have no actuals]}} for launches in their six weeks."""
    since = today - timedelta(days=7 * 7)
    launches = session.exec(select(Launch).where(Launch.status != LaunchStatus.CANCELLED,
                                                 Launch.launch_date > since, Launch.launch_date < today)).all()
    ids = [launch.id for launch in launches]
    forecasts = forecast_queues(session, ids, capacity.safe_queues(ctx.settings.capacity_file))
    have = set(session.exec(select(ForecastActual.launch_id, ForecastActual.queue, ForecastActual.week)
                            .where(ForecastActual.launch_id.in_(ids))).all()) if ids else set()
    out: dict[int, dict[str, list[int]]] = {}
    for launch in launches:
        for queue, _ in (forecasts.get(launch.id) or {}).items():
            weeks = [w for w in range(1, 7) if week_ended(launch.launch_date, w, today)
                     and (launch.id, queue, w) not in have]
            if weeks:
                out.setdefault(launch.id, {})[queue] = weeks
    return out


def send_actuals_prompts(session: Session, ctx: AppContext, now: datetime, report: TickReport) -> None:
    """Each Monday: WFM (the capacity plan's owner, else the launch's WFM role) is asked for missing actuals."""
    if not _is_monday_morning(now):
        return
    due = due_actuals(session, ctx, now.date())
    if not due:
        return
    owners = dict(session.exec(select(Item.launch_id, Item.owner_id).where(
        Item.launch_id.in_(list(due)), Item.answer_kind == capacity.PLAN)).all())
    wfm: dict[int, list[str]] = {}
    for lid, user in session.exec(select(LaunchRole.launch_id, LaunchRole.user_id).where(
            LaunchRole.launch_id.in_(list(due)), LaunchRole.role == "wfm")).all():
        wfm.setdefault(lid, []).append(user)
    sent = set(session.exec(select(Nudge.launch_id, Nudge.user_id).where(
        Nudge.launch_id.in_(list(due)), Nudge.day == now.date(), Nudge.kind == "actuals")).all())
    for lid, queues in due.items():
        people = [owners[lid]] if owners.get(lid) else wfm.get(lid, [])
        for person in people:
            if (lid, person) in sent:
                continue
            try:
                with session.begin_nested():
                    session.add(Nudge(launch_id=lid, user_id=person, day=now.date(), kind="actuals", at=now))
            except IntegrityError:
                continue          # another replica sent it
            outbox.enqueue(session, ACTUALS_PROMPT, person, {"launch": lid, "queues": queues},
                           launch_id=lid, now=now)
            report.lines.append(f"actuals prompt LR-{lid} → {person}")


def send_capacity_digest(session: Session, ctx: AppContext, now: datetime, report: TickReport) -> None:
    """Each Monday: WFM gets the weeks where launches collide on a queue or plans fall short."""
    if not _is_monday_morning(now):
        return
    week = now.date().isocalendar()
    marker = f"{week[0]}-W{week[1]:02d}"
    if session.exec(select(AuditEvent.id).where(AuditEvent.action == "capacity.digest",
                                                AuditEvent.note == marker)).first() is not None:
        return
    tolerance = ctx.settings.capacity_gap_tolerance_percent / 100
    cells = capacity.portfolio(session, capacity.safe_queues(ctx.settings.capacity_file), now.date(), weeks=6)
    flagged = [c for c in cells if c.collision or (c.required is None) or (
        c.planned_fte is not None and c.required.fte - c.planned_fte > c.required.fte * tolerance)]
    people = directory.members(session, "wfm")
    audit.record(session, actor="launchgate", action="capacity.digest", entity="launch", entity_id=None,
                 launch_id=None, after={"cells": len(cells), "flagged": len(flagged), "to": people},
                 note=marker, at=now)
    if not people or not cells:      # no launch load in the next six weeks: nothing to tell WFM
        return
    text = digest_text(flagged, len(cells), tolerance, marker)
    for person in people:
        outbox.enqueue(session, outbox.Kind.TEXT, person, {"text": text}, now=now)
        report.lines.append(f"capacity digest {marker} → {person}")


def digest_text(flagged, total: int, tolerance: float, marker: str) -> str:
    if not flagged:
        return (f"📊 *Capacity, week {marker}*: {total} queue-week(s) carry launch load in the next 6 weeks; "
                "no launches collide on a queue and every plan covers its requirement.")
    lines = [f"📊 *Capacity, week {marker}*: {len(flagged)} of {total} queue-week(s) need a look "
             "(`/launch capacity` for all):"]
    for c in flagged[:25]:
        r = c.required
        keys = ", ".join(sorted({x.launch_key for x in c.contributions}))
        if r is None:
            lines.append(f"• `{c.queue.id}` {c.iso_week}: ⚠️ {safe(c.problem or 'cannot be staffed')} ({keys})")
            continue
        bits = [f"{c.contacts:,.0f} contacts → {r.fte:.1f} FTE"]
        if c.planned_fte is not None and r.fte - c.planned_fte > r.fte * tolerance:
            bits.append(f"plan {c.planned_fte:.1f}: *short {r.fte - c.planned_fte:.1f}*")
        if c.collision:
            bits.append(f"💥 {c.launches} launches")
        lines.append(f"• `{c.queue.id}` {c.iso_week}: " + " · ".join(bits) + f" ({keys})")
    if len(flagged) > 25:
        lines.append(f"…and {len(flagged) - 25} more.")
    return "\n".join(lines)[:2900]


__all__ = ["ACTUALS_PROMPT", "ItemState", "due_actuals", "send_actuals_prompts", "send_capacity_digest"]
