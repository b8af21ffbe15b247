"""The one place where what changed becomes what is sent.

At commit (a `before_commit` hook on every session, so units of work, tick steps
and tests all go through it) the transaction's change set (bot/services/changes.py)
is turned into outbox rows, last in the transaction:

1. the rows use cases queued themselves (notices, intro DMs, review requests…), in
   the order they were queued;
2. every function of `DERIVED`, in order, given the session and the change set.

`refreshes` derives status cards, prompts, Home tabs, nudges, delegate DMs,
escalations and review copies, coalesced (one row per message however many changes
touched it) and only where something can be sent — no Home refresh for someone who
never opened Home, no nudge refresh without a nudge. `link_checks` and `webhooks`
derive from the transaction's audit events (`cs.events`): evidence-link rows due now
when an item's answer changes or a review opens, and one outgoing webhook row per
subscribed endpoint.

To add a derived effect: write `def my_effect(session: Session, cs: ChangeSet) -> None`
that reads `cs.changes` and/or `cs.events` and queues rows with `outbox.enqueue_now`
(or records rows of its own), and add it to `DERIVED`. It runs inside the transaction,
so it commits with the change or not at all. This is the only session hook that
derives anything (tests/test_architecture.py checks no other module listens to sessions).
"""
from __future__ import annotations

import weakref
from datetime import timedelta
from collections.abc import Callable, Iterable
from datetime import datetime
from dataclasses import dataclass, field

from sqlalchemy import Engine, event, inspect, tuple_
from sqlalchemy.orm.util import identity_key
from sqlmodel import Session, select

from bot.codecs import DelegatePayload, EscalationRefreshPayload, PromptPayload, ReviewPayload
from models import Gate, Item, Launch, OutboxMessage, OutboxStatus, SlackMessageRef, utcnow

from . import capacity, changes, gates, links, locks, outbox
from .changes import (
    ApprovalsChanged,
    ChangeSet,
    ItemChanged,
    LaunchChanged,
    NudgeSnoozed,
    PromptChanged,
    PromptsChanged,
    ReviewChanged,
)
from .item_state import ANSWER_ACTIONS
from .outbox import LAUNCH_CHANNEL, Kind

DerivedEffect = Callable[[Session, ChangeSet], None]


class Refreshes:
    """The messages a change set touches, each once (insertion-ordered)."""

    def __init__(self) -> None:
        self.cards: dict[int, None] = {}
        self.escalations: dict[int, None] = {}
        self.prompts: dict[tuple[int, str], None] = {}
        self.nudges: dict[tuple[int, str], None] = {}
        self.delegates: dict[tuple[int, int, str], None] = {}
        self.reviews: dict[tuple[int, int, int], None] = {}
        self.homes: dict[str, None] = {}

    def person(self, launch_id: int, user_id: str | None, nudge: bool = True) -> None:
        if user_id:
            self.prompts[(launch_id, user_id)] = None
            if nudge:
                self.nudges[(launch_id, user_id)] = None
            self.homes[user_id] = None

    def delegate(self, launch_id: int, item_id: int, user_id: str | None) -> None:
        if user_id:
            self.delegates[(launch_id, item_id, user_id)] = None
            self.homes[user_id] = None


def _collect(session: Session, cs: ChangeSet) -> Refreshes:
    out = Refreshes()
    for change in cs.changes:
        if isinstance(change, ItemChanged):
            out.escalations[change.launch_id] = None
            for owner in change.owners:
                out.person(change.launch_id, owner)
            for delegate in change.delegates:
                out.delegate(change.launch_id, change.item_id, delegate)
            out.cards[change.launch_id] = None
        elif isinstance(change, LaunchChanged):
            out.cards[change.launch_id] = None
        elif isinstance(change, PromptsChanged):
            _everyone(session, change, out)
        elif isinstance(change, ReviewChanged):
            out.reviews[(change.launch_id, change.gate_id, change.round)] = None
        elif isinstance(change, ApprovalsChanged):
            out.homes.update(dict.fromkeys(u for u in change.user_ids if u))
        elif isinstance(change, PromptChanged):
            out.person(change.launch_id, change.user_id, nudge=False)
        elif isinstance(change, NudgeSnoozed):
            out.nudges[(change.launch_id, change.user_id)] = None
    return out


def _everyone(session: Session, change: PromptsChanged, out: Refreshes) -> None:
    """Every stakeholder's live prompt and delegate DM of the launch (hold, cancel, resume…)."""
    rows = session.exec(select(Item.id, Item.owner_id, Item.delegate_id).where(Item.launch_id == change.launch_id)
                        .order_by(Item.id)).all()
    for owner in dict.fromkeys(o for _, o, _ in rows if o):
        out.person(change.launch_id, owner, nudge=False)
    for item_id, _, delegate in rows:
        out.delegate(change.launch_id, item_id, delegate)


def _opened_home(session: Session, users: Iterable[str]) -> set[str]:
    purposes = [f"home:{u}" for u in users]
    if not purposes:
        return set()
    found = session.exec(select(SlackMessageRef.purpose).where(SlackMessageRef.purpose.in_(purposes)))
    return {p.removeprefix("home:") for p in found}


def _nudged(session: Session, pairs: Iterable[tuple[int, str]]) -> set[tuple[int, str]]:
    """(launch, person) pairs with a nudge to update (one that is not dead-lettered)."""
    pairs = list(pairs)
    if not pairs:
        return set()
    rows = session.exec(select(OutboxMessage.launch_id, OutboxMessage.recipient).where(
        OutboxMessage.kind == Kind.NUDGE, OutboxMessage.status != OutboxStatus.DEAD,
        tuple_(OutboxMessage.launch_id, OutboxMessage.recipient).in_(pairs)).distinct())
    return {(launch_id, recipient) for launch_id, recipient in rows}


def _escalated(session: Session, launch_ids: Iterable[int]) -> list[tuple[int, str, int]]:
    """(launch, recipient, level) of every escalation sent for these launches."""
    ids = list(launch_ids)
    if not ids:
        return []
    rows = session.exec(select(OutboxMessage.launch_id, OutboxMessage.recipient, OutboxMessage.payload).where(
        OutboxMessage.kind == Kind.ESCALATION, OutboxMessage.launch_id.in_(ids)).order_by(OutboxMessage.id))
    return list(dict.fromkeys((lid, r, int((p or {}).get("level", 1))) for lid, r, p in rows))


DAILY_KINDS = {Kind.NUDGE_DAY: Kind.NUDGE_DAY_REFRESH, Kind.ESCALATION_DAY: Kind.ESCALATION_DAY_REFRESH}


def _daily_touched(session: Session, out: Refreshes, now) -> list[tuple[str, str]]:
    """(refresh kind, recipient) of each of the last days' messages across launches (a person's
    reminder or escalation of the day) that shows a launch that changed: found by their daily
    keys (unique index), for the item owners and the launches' leads and owners."""
    launch_ids = {lid for lid, _ in out.nudges} | set(out.escalations)
    if not launch_ids:
        return []
    days = [(now + timedelta(days=d)).date().isoformat() for d in (-1, 0, 1)]  # anyone's local today
    held = [session.identity_map.get(identity_key(Launch, lid)) for lid in launch_ids]  # the click's launch
    heads = [(launch.readiness_lead_id, launch.owner_id) for launch in held if launch is not None]
    if len(heads) < len(launch_ids):
        heads = session.exec(select(Launch.readiness_lead_id, Launch.owner_id).where(Launch.id.in_(launch_ids))).all()
    keys = [f"nudge-day:{user}:{day}" for _, user in out.nudges for day in days]
    keys += [f"escalation-day:{user}:{day}" for pair in heads for user in pair for day in days]
    rows = session.exec(select(OutboxMessage.kind, OutboxMessage.recipient, OutboxMessage.payload).where(
        OutboxMessage.dedupe_key.in_(keys), OutboxMessage.kind.in_(list(DAILY_KINDS)),
        OutboxMessage.status == OutboxStatus.SENT))
    found = {}
    for kind, recipient, payload in rows:
        shown = {part[0] for part in (payload or {}).get("launches" if kind == Kind.NUDGE_DAY else "parts", [])}
        if shown & launch_ids:
            found[(DAILY_KINDS[kind], recipient)] = None
    return list(found)


def refreshes(session: Session, cs: ChangeSet) -> None:
    """Re-render, in place, every message that shows something that changed."""
    out = _collect(session, cs)
    if not any(vars(out).values()):
        return
    now = cs.now or utcnow()
    for launch_id, recipient, level in _escalated(session, out.escalations):
        outbox.refresh(session, Kind.ESCALATION_REFRESH, recipient, launch_id, f"{launch_id}:{recipient}:{level}",
                       now=now, **EscalationRefreshPayload(level=level).dump())
    for launch_id, user_id in out.prompts:
        if (launch_id, user_id) not in cs.intros:
            outbox.refresh(session, Kind.PROMPT_REFRESH, user_id, launch_id, f"{launch_id}:{user_id}", now=now,
                           **PromptPayload(user=user_id).dump())
    for launch_id, user_id in sorted(_nudged(session, out.nudges), key=list(out.nudges).index):
        outbox.refresh(session, Kind.NUDGE_REFRESH, user_id, launch_id, f"{launch_id}:{user_id}", now=now,
                       **PromptPayload(user=user_id).dump())
    for kind, user_id in _daily_touched(session, out, now):
        outbox.refresh(session, kind, user_id, None, user_id, now=now)
    for launch_id, item_id, user_id in out.delegates:
        outbox.refresh(session, Kind.DELEGATE_REFRESH, user_id, launch_id, f"{item_id}:{user_id}", now=now,
                       **DelegatePayload(item=item_id, user=user_id).dump())
    for launch_id in out.cards:
        outbox.refresh(session, Kind.STATUS_CARD, LAUNCH_CHANNEL, launch_id, str(launch_id), now=now)
        launch = session.get(Launch, launch_id)
        if launch is not None:
            out.homes.update(dict.fromkeys(u for u in (launch.owner_id, launch.readiness_lead_id) if u))
    for launch_id, gate_id, round_ in out.reviews:
        _review_copies(session, launch_id, gate_id, round_, out, now)
    opened = _opened_home(session, out.homes)
    for user_id in out.homes:
        if user_id in opened:
            outbox.refresh_home(session, user_id, now=now)


def _review_copies(session: Session, launch_id: int, gate_id: int, round_: int, out: Refreshes, now) -> None:
    """Every copy of a review (approvers, voters, the channel), and the Home of each person."""
    launch, gate = session.get(Launch, launch_id), session.get(Gate, gate_id)
    if launch is None or gate is None or round_ < 1:
        return
    for target in gates.review_targets(session, launch, gate, round_):
        outbox.refresh(session, Kind.REVIEW_REFRESH, gates.recipient(target), launch_id,
                       f"{gate_id}:{round_}:{target}", now=now,
                       **ReviewPayload(gate=gate_id, round=round_, to=target).dump())
        if target != gates.CHANNEL:
            out.homes[target] = None


@dataclass(frozen=True)
class EffectsConfig:
    """What derived effects need from settings, per engine (each runtime, and each test, has its own)."""

    languages: dict[str, str] = field(default_factory=dict)
    endpoints: list = field(default_factory=list)


_CONFIG: weakref.WeakKeyDictionary[Engine, EffectsConfig] = weakref.WeakKeyDictionary()
NONE = EffectsConfig()


def configure(engine: Engine, settings) -> EffectsConfig:
    """Read MARKET_LANGUAGES and the webhooks file for sessions on `engine` (raises WebhookConfigError)."""
    from bot.webhooks.config import load_endpoints

    config = EffectsConfig(dict(settings.market_languages), load_endpoints(settings.webhooks_file))
    _CONFIG[engine] = config
    return config


def config_for(session: Session) -> EffectsConfig:
    bind = session.get_bind()
    return _CONFIG.get(getattr(bind, "engine", bind), NONE)


def endpoints(engine: Engine) -> list:
    """The webhook endpoints configured for this engine's runtime."""
    return list(_CONFIG.get(engine, NONE).endpoints)


def _events(cs: ChangeSet) -> list:
    """The audit events written (an event inside a rolled-back SAVEPOINT is not), then those a tick
    step inserted in bulk (`tick_batches.audit_many`: plain records with the same attributes)."""
    return [e for e in cs.events if inspect(e).persistent] + cs.written_events


def link_checks(session: Session, cs: ChangeSet) -> None:
    """An item whose answer changed has its links checked now; so has a gate's whose review opened."""
    languages = config_for(session).languages
    answered: dict[int, datetime] = {}
    reviews: dict[int, datetime] = {}
    for ev in _events(cs):
        if ev.entity == "item" and ev.entity_id and ev.action.startswith("item."):
            answered[ev.entity_id] = ev.at
        elif ev.action == "gate.review_opened" and ev.entity_id:
            reviews[ev.entity_id] = ev.at
    links.items_changed(session, answered, languages)
    for gate_id, at in reviews.items():
        links.review_opened(session, gate_id, at)


def capacity_checks(session: Session, cs: ChangeSet) -> None:
    """A forecast or capacity-plan item answered, edited, marked n/a or blocked, or reopened: the
    launch's staffing gap is re-checked and audited, and WFM hears about a new forecast
    (bot/services/capacity.py `item_changed`; other items are passed over there). Once per item."""
    if cs.settings is None:
        return
    answered = {c.item_id: c for c in cs.changes if isinstance(c, ItemChanged) and c.action in ANSWER_ACTIONS}
    if not answered:
        return
    for change in answered.values():
        item, launch = session.get(Item, change.item_id), session.get(Launch, change.launch_id)
        if item is not None and launch is not None:
            capacity.item_changed(session, item, launch, actor=change.actor, action=change.action,
                                  now=cs.now or utcnow(), settings=cs.settings)


def webhooks(session: Session, cs: ChangeSet) -> None:
    """One outgoing webhook row per subscribed endpoint and event (bot/webhooks/events.py)."""
    subscribed = config_for(session).endpoints
    if not subscribed:
        return
    from bot.webhooks import events as webhook_events

    for ev in _events(cs):
        webhook_events.derive(session, ev, subscribed)


# The derived effects, in order. Add yours here (see the module docstring).
DERIVED: tuple[DerivedEffect, ...] = (
    capacity_checks,
    refreshes,
    link_checks,
    webhooks,
)

MAX_ROUNDS = 5  # a derived effect may itself record changes; they are derived in the next round


def flush(session: Session) -> None:
    """Write this transaction's outbox rows and derived effects (called at commit)."""
    for _ in range(MAX_ROUNDS):
        session.flush()  # every row of the use case written: audit events have their ids
        cs = changes.take(session)
        if not cs:
            return
        for values in cs.outbox:
            outbox.write(session, values)
        for effect in DERIVED:
            effect(session, cs)
    raise RuntimeError("derived effects keep recording changes")  # pragma: no cover - a bug in an effect


@event.listens_for(Session, "before_commit")
def _before_commit(session: Session) -> None:
    if not session.in_nested_transaction():  # a SAVEPOINT released mid-use-case is not the end of the transaction
        flush(session)


@event.listens_for(Session, "after_transaction_end")
def _after_transaction_end(session: Session, transaction) -> None:
    locks.forget(session, transaction)  # the rows this transaction had locked (bot/services/locks.py)


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    if not session.in_nested_transaction():
        changes.take(session)  # what was rolled back sends nothing
