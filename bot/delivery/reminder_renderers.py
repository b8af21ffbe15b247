"""Rendering reminder rows: nudges (and their in-place refreshes), escalations,
digests, moved dates and handovers. Each reads the latest state at send time,
so a nudge for items answered in the meantime is not sent at all."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from sqlmodel import Session, select

from bot.blocks import daily, nudges
from bot.codecs import EscalationRefreshPayload
from bot.services import digest as digests
from bot.services import launches
from bot.services.context import AppContext
from bot.services.escalations import overdue_days
from bot.services.outbox import LAUNCH_CHANNEL, Kind
from models import Item, Launch, OutboxMessage, OutboxStatus

from .renderers import Message, launch_channel, target, user_tz


def nudge_purpose(launch_id: int, user_id: str) -> str:
    return f"nudge:{launch_id}:{user_id}"


def _items(session: Session, ids: list[int]) -> list[Item]:
    if not ids:
        return []
    return list(session.exec(select(Item).where(Item.id.in_(ids)).order_by(Item.due_at, Item.id)))


def _sent(kind: str, row: OutboxMessage):
    """Messages of `kind` already posted to the refresh row's recipient for its launch, newest first."""
    return (
        select(OutboxMessage).where(OutboxMessage.kind == kind, OutboxMessage.launch_id == row.launch_id,
                                    OutboxMessage.recipient == row.recipient, OutboxMessage.status == OutboxStatus.SENT,
                                    OutboxMessage.result_ts.is_not(None))
        .order_by(OutboxMessage.sent_at.desc(), OutboxMessage.id.desc())
    )


def _nudge(session: Session, launch: Launch, user_id: str, items: list[Item], ctx: AppContext,
           *, update_only: bool, covering: Sequence[str] = ()) -> Message | None:
    now = ctx.now()
    mine = [i for i in items if i.owner_id == user_id or i.delegate_id == user_id or i.owner_id in covering]
    open_items = [i for i in mine if i.is_open]
    if not update_only and not open_items:
        return None  # answered before the nudge went out: nothing to say
    tz = user_tz(session, user_id)
    snoozed = [i.snoozed_until for i in open_items if i.snoozed_until and i.snoozed_until > now]
    text = (nudges.nudge_text(launch, open_items, now) if open_items
            else f"{launch.key}: all set — thank you")
    return Message(channel=user_id, text=text,
                   blocks=nudges.nudge(launch, launches.gates_of(session, launch.id), mine, tz, now=now,
                                       snoozed_until=min(snoozed) if snoozed else None,
                                       covering=sorted({i.owner_id for i in mine if i.owner_id in covering})),
                   purpose=nudge_purpose(launch.id, user_id), post_new=not update_only, update_only=update_only)


def render_nudge_row(session: Session, row: OutboxMessage, ctx: AppContext) -> Message | None:
    launch = session.get(Launch, row.launch_id)
    return _nudge(session, launch, row.recipient, _items(session, row.payload.get("items", [])), ctx,
                  update_only=False, covering=row.payload.get("covering", []))


def render_nudge_refresh(session: Session, row: OutboxMessage, ctx: AppContext) -> Message | None:
    """Re-render the latest nudge sent to this person for this launch, in place."""
    latest = session.exec(_sent(Kind.NUDGE, row)).first()
    if latest is None:
        return None
    launch = session.get(Launch, row.launch_id)
    return _nudge(session, launch, row.recipient, _items(session, latest.payload.get("items", [])), ctx,
                  update_only=True, covering=latest.payload.get("covering", []))


def escalation_purpose(launch_id: int, recipient: str, level: int) -> str:
    return f"escalation:{launch_id}:{recipient}:{level}"


def _escalation(session: Session, launch: Launch, recipient: str, payload: dict, ctx: AppContext,
                *, update_only: bool) -> Message | None:
    level = int(payload.get("level", 1))
    now = ctx.now()
    items = session.exec(
        select(Item).where(Item.launch_id == launch.id, Item.escalation_level >= level, Item.required.is_(True))
        .order_by(Item.due_at, Item.id)
    ).all()
    tz = user_tz(session, recipient)
    today = date.fromisoformat(payload["day"]) if payload.get("day") else now.date()
    rows = [(i, overdue_days(i, today, launch.markets)) for i in items if i.is_open and i.due_at < now]
    purpose = escalation_purpose(launch.id, recipient, level)
    if not rows:
        if not update_only:
            return None  # answered in the meantime
        return Message(channel=recipient, text=f"{launch.key}: nothing overdue any more",
                       blocks=nudges.escalation_cleared(launch), purpose=purpose, update_only=True)
    return Message(channel=recipient, text=nudges.escalation_text(launch, len(rows), level),
                   blocks=nudges.escalation(launch, rows, tz, level=level, new_ids=set(payload.get("new", []))),
                   purpose=purpose, post_new=not update_only, update_only=update_only)


def render_escalation_row(session: Session, row: OutboxMessage, ctx: AppContext) -> Message | None:
    return _escalation(session, session.get(Launch, row.launch_id), row.recipient, row.payload, ctx,
                       update_only=False)


def render_escalation_refresh(session: Session, row: OutboxMessage, ctx: AppContext) -> Message | None:
    """Re-render the latest escalation of this level to this person, in place."""
    level = EscalationRefreshPayload.load(row.payload).level
    latest = next((r for r in session.exec(_sent(Kind.ESCALATION, row)) if int(r.payload.get("level", 1)) == level),
                  None)
    if latest is None:
        return None
    return _escalation(session, session.get(Launch, row.launch_id), row.recipient, latest.payload, ctx,
                       update_only=True)


def render_digest(session: Session, row: OutboxMessage, ctx: AppContext) -> Message:
    launch = session.get(Launch, row.launch_id)
    channel = launch_channel(session, row)
    since = datetime.fromisoformat(row.payload["since"]) if row.payload.get("since") else None
    at = datetime.fromisoformat(row.payload["at"]) if row.payload.get("at") else ctx.now()
    d = digests.build(session, launch, since, at)
    today = date.fromisoformat(row.payload["day"]) if row.payload.get("day") else at.date()
    overdue = [(i, overdue_days(i, today, launch.markets)) for i in d.overdue]
    tz = user_tz(session, launch.readiness_lead_id)
    return Message(channel=channel, text=nudges.digest_text(launch, len(d.changes), len(overdue)),
                   blocks=nudges.digest(launch, d.gates, d.items, d.changes, overdue, tz, since))


def render_dates_moved(session: Session, row: OutboxMessage, ctx: AppContext) -> Message | None:
    launch = session.get(Launch, row.launch_id)
    p = row.payload
    old, new = date.fromisoformat(p["old"]), date.fromisoformat(p["new"])
    if row.recipient == LAUNCH_CHANNEL:
        return Message(channel=target(session, row), text=f"{launch.key} launch date moved to {new.isoformat()}",
                       blocks=nudges.dates_moved_channel(launch, old=old, new=new, by=p["by"], reason=p.get("reason"),
                                                         count=p.get("count", 0), owners=p.get("owners", 0)))
    by_id = {i.id: i for i in _items(session, [c[0] for c in p.get("changes", [])])}
    rows = [(by_id[i], datetime.fromisoformat(before), datetime.fromisoformat(after))
            for i, before, after in p.get("changes", []) if i in by_id]
    if not rows:
        return None
    return Message(channel=row.recipient,
                   text=f"{launch.key} moved to {new.isoformat()}: {len(rows)} of your due dates moved",
                   blocks=nudges.dates_moved(launch, rows, user_tz(session, row.recipient), old=old, new=new,
                                             by=p["by"], reason=p.get("reason")))


def render_handover(session: Session, row: OutboxMessage, ctx: AppContext) -> Message | None:
    launch = session.get(Launch, row.launch_id)
    item = session.get(Item, row.payload["item"])
    if item is None:
        return None
    p = row.payload
    text = (f"{launch.key}: an item was handed to you" if p["to"] == "new"
            else f"{launch.key}: an item of yours was reassigned")
    return Message(channel=row.recipient, text=text,
                   blocks=nudges.handover(launch, item, to=p["to"], old=p.get("old"), new=p["new"], by=p["by"],
                                          tz=user_tz(session, row.recipient)))


# -- one message a day across launches (bot/blocks/daily.py) ---------------------------------

def home_url(ctx: AppContext) -> str | None:
    """Slack's deep link to the app's Home tab, when SLACK_APP_ID and SLACK_TEAM_ID are set."""
    s = ctx.settings
    return f"slack://app?team={s.slack_team_id}&id={s.slack_app_id}&tab=home" if s.slack_app_id and s.slack_team_id \
        else None


def _launches(session: Session, ids: set[int]) -> dict[int, Launch]:
    return {launch.id: launch for launch in session.exec(select(Launch).where(Launch.id.in_(ids)))} if ids else {}


def _latest_daily(session: Session, kind: str, recipient: str) -> OutboxMessage | None:
    return session.exec(select(OutboxMessage).where(
        OutboxMessage.kind == kind, OutboxMessage.recipient == recipient, OutboxMessage.status == OutboxStatus.SENT,
        OutboxMessage.result_ts.is_not(None)).order_by(OutboxMessage.sent_at.desc(), OutboxMessage.id.desc())).first()


def _nudge_day(session: Session, row: OutboxMessage, ctx: AppContext, *, update_only: bool) -> Message | None:
    now = ctx.now()
    wanted = {lid: set(ids) for lid, ids in row.payload.get("launches", [])}
    covering = set(row.payload.get("covering", []))
    items = _items(session, [i for ids in wanted.values() for i in ids])
    launches = _launches(session, set(wanted))
    parts = []
    for lid, ids in wanted.items():
        mine = [i for i in items if i.id in ids and i.state == "open"
                and (i.owner_id in covering | {row.recipient} or i.delegate_id == row.recipient)]
        launch = launches.get(lid)
        if mine and launch is not None and launch.active:
            parts.append(daily.Part(launch, mine, overdue=sum(i.due_at < now for i in mine),
                                    covering=sorted({i.owner_id for i in mine if i.owner_id != row.recipient})))
    return _daily_message(row, "nudge-day", parts, update_only, ("⏰", "All set — thank you"), lambda: (
        daily.nudge_day_text(parts),
        daily.nudge_day(parts, user_tz(session, row.recipient), now=now, home_url=home_url(ctx),
                        weekly=bool(row.payload.get("weekly")))))


def _daily_message(row: OutboxMessage, purpose: str, parts: list, update_only: bool, empty: tuple[str, str],
                   render) -> Message | None:
    """Post (remembered under the person's daily purpose) or update a message of the day; once
    nothing in it is left, an update says so and a first send is dropped."""
    purpose = f"{purpose}:{row.recipient}"
    if not parts:
        if not update_only:
            return None  # everything answered (or the launches stopped) before it went out
        return Message(channel=row.recipient, text=empty[1], blocks=daily.all_set(empty[0]), purpose=purpose,
                       update_only=True)
    text, blocks = render()
    return Message(channel=row.recipient, text=text, blocks=blocks, purpose=purpose, post_new=not update_only,
                   update_only=update_only)


def render_nudge_day(session: Session, row: OutboxMessage, ctx: AppContext) -> Message | None:
    """A person's one reminder of the day across launches; items answered meanwhile drop out."""
    return _nudge_day(session, row, ctx, update_only=False)


def render_nudge_day_refresh(session: Session, row: OutboxMessage, ctx: AppContext) -> Message | None:
    """Bring the person's latest reminder of the day up to date, in place."""
    latest = _latest_daily(session, Kind.NUDGE_DAY, row.recipient)
    return _nudge_day(session, latest, ctx, update_only=True) if latest else None


def _escalation_day(session: Session, row: OutboxMessage, ctx: AppContext, *, update_only: bool) -> Message | None:
    now = ctx.now()
    spec = [(lid, int(level), set(ids)) for lid, level, ids in row.payload.get("parts", [])]
    items = _items(session, [i for *_, ids in spec for i in ids])
    launches = _launches(session, {lid for lid, *_ in spec})
    parts = []
    for lid, level, ids in spec:
        late = [i for i in items if i.id in ids and i.is_open and i.due_at < now]
        launch = launches.get(lid)
        if late and launch is not None and launch.active:
            parts.append(daily.Part(launch, late, overdue=len(late), role=LEVEL_ROLES.get(level, "")))
    return _daily_message(row, "escalation-day", parts, update_only, ("✅", "Nothing overdue any more"), lambda: (
        daily.escalation_day_text(parts),
        daily.escalation_day(parts, user_tz(session, row.recipient), now=now, home_url=home_url(ctx))))


def render_escalation_day(session: Session, row: OutboxMessage, ctx: AppContext) -> Message | None:
    """A lead's or owner's one escalation of the day across launches: what is still overdue."""
    return _escalation_day(session, row, ctx, update_only=False)


def render_escalation_day_refresh(session: Session, row: OutboxMessage, ctx: AppContext) -> Message | None:
    latest = _latest_daily(session, Kind.ESCALATION_DAY, row.recipient)
    return _escalation_day(session, latest, ctx, update_only=True) if latest else None


LEVEL_ROLES = {1: "readiness lead", 2: "launch owner"}
