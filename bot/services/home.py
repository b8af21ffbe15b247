"""What a person's App Home shows: their open items, approvals waiting for
them, and the launches they own or lead with gate progress."""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlmodel import Session, select

from models import Gate, Item, ItemState, Launch, LaunchRole, LaunchStatus, SlackMessageRef, UserProfile, Vote

from . import gates

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


def home_for(session: Session, user_id: str) -> Home:
    profile = session.get(UserProfile, user_id)
    home = Home(user_id, profile.tz if profile else None)
    live = {launch.id: launch for launch in session.exec(select(Launch).where(Launch.status.in_(LIVE))
                                                         .order_by(Launch.launch_date, Launch.id))}
    if not live:
        return home
    gate_rows = session.exec(select(Gate).where(Gate.launch_id.in_(live)).order_by(Gate.launch_id, Gate.position))
    gates_by_launch: dict[int, list[Gate]] = {}
    for gate in gate_rows:
        gates_by_launch.setdefault(gate.launch_id, []).append(gate)
    items_by_launch: dict[int, list[Item]] = {}
    for item in session.exec(select(Item).where(Item.launch_id.in_(live)).order_by(Item.due_at, Item.id)):
        items_by_launch.setdefault(item.launch_id, []).append(item)

    for launch_id, launch in live.items():
        launch_gates = {g.id: g for g in gates_by_launch.get(launch_id, [])}
        for item in items_by_launch.get(launch_id, []):
            if item.state in (ItemState.OPEN, ItemState.BLOCKED) and user_id in (item.owner_id, item.delegate_id):
                home.items.append(MyItem(launch, launch_gates[item.gate_id], item))
        if launch.status == LaunchStatus.OPEN:
            _approval(session, home, launch, gates_by_launch.get(launch_id, []), items_by_launch.get(launch_id, []))
    home.items.sort(key=lambda m: (m.item.due_at, m.item.id))

    leads = set(session.exec(select(LaunchRole.launch_id).where(LaunchRole.user_id == user_id,
                                                                 LaunchRole.role == "readiness_lead")))
    for launch_id, launch in live.items():
        role = "owner" if launch.owner_id == user_id else \
            "lead" if launch.readiness_lead_id == user_id or launch_id in leads else None
        if role:
            items = items_by_launch.get(launch_id, [])
            required = [i for i in items if i.required] or items
            percent = round(100 * sum(i.satisfied for i in required) / len(required)) if required else 100
            home.launches.append(MyLaunch(launch, gates_by_launch.get(launch_id, []), percent, role))
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


def remember_opened(session: Session, user_id: str, now) -> None:
    ref = _home_ref(session, user_id) or SlackMessageRef(purpose=f"home:{user_id}", channel_id="home", ts="opened")
    ref.updated_at = now
    session.add(ref)
