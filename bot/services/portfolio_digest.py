"""The weekly portfolio digest: on Monday morning, to the readiness leads (DM) or PORTFOLIO_CHANNEL.

One row per recipient and ISO week (the outbox dedupe key `portfolio:<week>:<to>`),
so overlapping passes and replicas queue it once. What it says is read when it is
sent (bot/delivery/portfolio_renderers.py): launches by next gate and its date,
at-risk launches (overdue required items, blocked items, held), decisions of the
last seven days and launches in the next seven. A channel digest leaves private
launches out; a lead's DM shows what that lead may see (leads see private launches).
"""
from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, select

from models import UserProfile

from . import directory, outbox
from .context import AppContext, TickReport
from .recipients import zone_named

MONDAY = 0


def send_portfolio_digest(session: Session, ctx: AppContext, now: datetime, report: TickReport) -> None:
    start = ctx.settings.workday_start
    channel = ctx.settings.portfolio_channel
    if channel:
        targets = [(channel, now)]
    else:
        leads = directory.members(session, "readiness_lead")
        zones = dict(session.exec(select(UserProfile.user_id, UserProfile.tz)
                                  .where(UserProfile.user_id.in_(leads))).all()) if leads else {}
        targets = [(lead, now.astimezone(zone_named(zones.get(lead)))) for lead in leads]
    for to, local in targets:
        if local.weekday() != MONDAY or local.time() < start:
            continue
        year, week, _ = local.isocalendar()
        # Written at once: whether the week's key was new says whether this pass queued it.
        if outbox.enqueue_now(session, outbox.Kind.PORTFOLIO_DIGEST, to, {"channel": bool(channel)},
                              dedupe_key=f"portfolio:{year}-W{week:02d}:{to}", now=now):
            report.add(f"portfolio digest {to} ({year}-W{week:02d})")
