"""What a person's App Home shows: their open items, approvals waiting for
them, and the launches they own or lead with gate progress."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import and_, or_
from sqlmodel import Session, select

from models import (
    Gate,
    GateStatus,
    Item,
    ItemState,
    Launch,
    LaunchRole,
    LaunchStatus,
    PersonPreference,
    SlackMessageRef,
    UserProfile,
    Vote,
    utcnow,
)

from . import directory, gates, outbox

LIVE = (LaunchStatus.OPEN, LaunchStatus.ON_HOLD)


@dataclass
class Approval:
    launch: Launch
    gate: Gate
    together: list[Gate]        # fast-path gates decided with it
    done: int
    required: int
    go_votes: int
    needed: int


@dataclass
class MyItem:
    launch: Launch
    gate: Gate
    item: Item
    covering: bool = False      # the owner is away and this person is their role's backup


@dataclass
class MyLaunch:
    launch: Launch
    gates: list[Gate]
    percent: int
    role: str


@dataclass
class Home:
    user_id: str
    tz: str | None
    approvals: list[Approval] = field(default_factory=list)
    items: list[MyItem] = field(default_factory=list)
    launches: list[MyLaunch] = field(default_factory=list)
    away_until: date | None = None        # away through this day (their items go to their role's backup)
    summary_days: int | None = None       # weekly summary for items not due within N days; None: daily


def home_for(session: Session, user_id: str) -> Home:
    """What this person's Home shows, read for them only: their open items, the launches
    they own or lead, and the reviews waiting for their vote — never every launch's items."""
    profile = session.get(UserProfile, user_id)
    home = Home(user_id, profile.tz if profile else None)
    pref = session.get(PersonPreference, user_id)
    if pref is not None:
        today = utcnow().date()
        home.away_until = pref.away_until if pref.away_until and pref.away_until >= today else None
        home.summary_days = pref.summary_days
    live = Launch.status.in_(LIVE)
    mine = or_(Item.owner_id == user_id, Item.delegate_id == user_id)
    covered = [role for role, people in directory.backups(session).items() if user_id in people]
    if covered:  # a backup also sees the items of the people in those roles who are away
        away = select(PersonPreference.user_id).where(PersonPreference.away_until >= utcnow().date())
        mine = or_(mine, and_(Item.owner_role.in_(covered), Item.owner_id.in_(away)))
    for item, launch, gate in session.exec(
            select(Item, Launch, Gate).join(Launch, Launch.id == Item.launch_id).join(Gate, Gate.id == Item.gate_id)
            .where(live, Item.state.in_([ItemState.OPEN, ItemState.BLOCKED]), mine)
            .order_by(Item.due_at, Item.id)):
        home.items.append(MyItem(launch, gate, item, covering=user_id not in (item.owner_id, item.delegate_id)))

    roles = select(LaunchRole.launch_id).where(LaunchRole.user_id == user_id)
    mine = list(session.exec(select(Launch).where(live, or_(
        Launch.owner_id == user_id, Launch.readiness_lead_id == user_id, Launch.id.in_(roles.where(
            LaunchRole.role == "readiness_lead")))).order_by(Launch.launch_date, Launch.id)))
    # Someone approves only as a role holder of the launch, its readiness lead, or (no one else
    # being eligible) an admin: only those launches with a gate in review are looked at.
    reviewing = select(Launch).where(Launch.status == LaunchStatus.OPEN, Launch.id.in_(
        select(Gate.launch_id).where(Gate.status == GateStatus.IN_REVIEW)))
    if not directory.is_admin(session, user_id):
        reviewing = reviewing.where(or_(Launch.readiness_lead_id == user_id, Launch.id.in_(roles)))
    candidates = list(session.exec(reviewing.order_by(Launch.launch_date, Launch.id)))
    ids = {launch.id for launch in mine} | {launch.id for launch in candidates}
    if not ids:
        return home
    gates_by_launch: dict[int, list[Gate]] = {}
    for gate in session.exec(select(Gate).where(Gate.launch_id.in_(ids)).order_by(Gate.launch_id, Gate.position)):
        gates_by_launch.setdefault(gate.launch_id, []).append(gate)
    items_by_launch: dict[int, list[Item]] = {}
    for item in session.exec(select(Item).where(Item.launch_id.in_(ids)).order_by(Item.due_at, Item.id)):
        items_by_launch.setdefault(item.launch_id, []).append(item)

    for launch in candidates:
        _approval(session, home, launch, gates_by_launch.get(launch.id, []), items_by_launch.get(launch.id, []))
    for launch in mine:
        role = "owner" if launch.owner_id == user_id else "lead"
        items = items_by_launch.get(launch.id, [])
        required = [i for i in items if i.required] or items
        percent = round(100 * sum(i.satisfied for i in required) / len(required)) if required else 100
        home.launches.append(MyLaunch(launch, gates_by_launch.get(launch.id, []), percent, role))
    return home


def _approval(session: Session, home: Home, launch: Launch, launch_gates: list[Gate], items: list[Item]) -> None:
    chain = gates.review_chain(launch_gates)
    if not chain:
        return
    lead = chain[0]
    people = gates.approvers(session, launch, lead)
    if home.user_id not in people:
        return
    votes = list(session.exec(select(Vote).where(Vote.gate_id == lead.id, Vote.round == lead.review_round)))
    if any(v.voter_id == home.user_id for v in votes):
        return
    ids = {g.id for g in chain}
    required = [i for i in items if i.gate_id in ids and i.required]
    home.approvals.append(Approval(launch, lead, chain[1:], sum(i.satisfied for i in required), len(required),
                                   sum(v.outcome in ("go", "go_with_conditions") for v in votes),
                                   gates.needed_votes(lead, people)))



def _home_ref(session: Session, user_id: str) -> SlackMessageRef | None:
    return session.exec(select(SlackMessageRef).where(SlackMessageRef.purpose == f"home:{user_id}")).first()


def has_opened(session: Session, user_id: str) -> bool:
    """Whether we ever published this person's Home (they opened it): only then is it kept fresh."""
    return _home_ref(session, user_id) is not None


def show(session: Session, user_id: str, now) -> None:
    """The person is looking at their Home (opened it, clicked Refresh, acted from it): remember
    that they use it (from now on changes elsewhere keep it fresh) and queue its publish, which
    the outbox worker sends like every other message (retried, rate-limited, never lost)."""
    ref = _home_ref(session, user_id) or SlackMessageRef(purpose=f"home:{user_id}", channel_id="home", ts="opened")
    ref.updated_at = now
    session.add(ref)
    outbox.refresh_home(session, user_id, now=now)
