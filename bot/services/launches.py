"""Opening launches and reading them back (list, status)."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime

import pycountry
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from bot.codecs import ChannelPayload, PromptPayload
from bot.config import Settings
from models import Gate, GateStatus, Item, Launch, LaunchRole, LaunchStatus

from . import audit, calendar, changes, directory, permissions, reminders
from .changes import LaunchChanged
from .errors import FieldErrors, NotFound
from .ids import db_id
from .outbox import LAUNCH_CHANNEL, Kind, enqueue
from .templates import LAUNCH_KINDS, ChecklistTemplate, ItemTemplate

NAME_MAX = 80
BRIEF_MAX = 2000
KEY_RE = re.compile(r"^\s*(?:LR-?)?([0-9]{1,10})\s*$", re.IGNORECASE)


@dataclass
class LaunchForm:
    name: str = ""
    kind: str = ""
    markets: list[str] = field(default_factory=list)
    launch_date: date | None = None
    readiness_lead_id: str | None = None
    brief: str = ""
    channel_id: str | None = None
    private: bool = False


def market_label(code: str) -> str:
    country = pycountry.countries.get(alpha_2=code)
    return f"{code} – {getattr(country, 'common_name', None) or country.name}" if country else code


def earliest_launch_date(template: ChecklistTemplate, today: date, markets: list[str]) -> date:
    """The first date that leaves room for every gate, starting with the first."""
    return calendar.add_business_days(today, -template.first_gate_offset, markets)


def validate_form(form: LaunchForm, templates: dict[str, ChecklistTemplate], today: date) -> LaunchForm:
    """Clean the form or raise FieldErrors keyed by field name."""
    errors: dict[str, str] = {}
    name = " ".join((form.name or "").split())
    if not name:
        errors["name"] = "Give the launch a name."
    elif len(name) > NAME_MAX:
        errors["name"] = f"Keep the name to {NAME_MAX} characters (this one has {len(name)})."
    kind = (form.kind or "").lower()
    if kind not in LAUNCH_KINDS or kind not in templates:
        errors["kind"] = "Pick Product, Market or Campaign."
    markets: list[str] = []
    for raw in form.markets:
        code = raw.strip().upper()
        if pycountry.countries.get(alpha_2=code) is None:
            errors["markets"] = f"Unknown market '{raw}'. Use ISO country codes such as FR, DE or US."
        elif code not in markets:
            markets.append(code)
    if not markets and "markets" not in errors:
        errors["markets"] = "Pick at least one market."
    if form.launch_date is None:
        errors["launch_date"] = "Pick the target launch date."
    elif form.launch_date <= today:
        errors["launch_date"] = "The launch date must be in the future."
    elif "kind" not in errors and "markets" not in errors:
        template = templates[kind]
        earliest = earliest_launch_date(template, today, markets)
        if form.launch_date < earliest:
            have = calendar.business_days_between(today, form.launch_date, markets)
            first = template.gates[0]
            errors["launch_date"] = (
                f"Too close: a {kind} launch starts readiness at {first.name} "
                f"({-template.first_gate_offset} business days before launch) and "
                f"{form.launch_date.isoformat()} is only {have} business days away. "
                f"Pick {earliest.isoformat()} or later."
            )
    if not form.readiness_lead_id:
        errors["readiness_lead"] = "Pick the readiness lead who approves the gates."
    brief = (form.brief or "").strip()
    if len(brief) > BRIEF_MAX:
        errors["brief"] = f"Keep the brief to {BRIEF_MAX} characters (this one has {len(brief)})."
    if form.private and form.channel_id:
        errors["private"] = ("A private launch gets its own private channel: leave *Existing channel* empty, "
                             "or untick Private.")
    if errors:
        raise FieldErrors(errors)
    return LaunchForm(name, kind, markets, form.launch_date, form.readiness_lead_id, brief, form.channel_id or None,
                      form.private)


def channel_name(launch: Launch) -> str:
    """`lr-12-summer-promo`: Slack's rules are lower case, a-z 0-9 - _, ≤ 80 chars.

    python-slugify transliterates rather than drops what Slack refuses, so
    "Été à Paris" becomes `ete-a-paris` and "Straße" `strasse`.
    """
    key = launch.key.lower()
    from slugify import slugify  # imported when a channel is named: ~70 ms off every start

    slug = slugify(launch.name, max_length=80 - len(key) - 1, word_boundary=True, save_order=True)
    return f"{key}-{slug}" if slug else key


def _owner_for(session: Session, item: ItemTemplate, launch: Launch, resolved: dict[str, list[str]]) -> str:
    """The item's owner: the launch owner or lead for their roles, else the role's first holder.

    An item that only applies to some markets (German legal wording, say) goes to
    the holder for those markets, so a FR+DE launch sends it to German content, not
    to whoever covers France.
    """
    role = item.owner_role
    if role == "product_manager":
        return launch.owner_id
    if role == "readiness_lead":
        return launch.readiness_lead_id
    holders = resolved.get(role) or []
    if item.when and item.when.markets:
        markets = [m for m in launch.markets if m in item.when.markets]
        holders = directory.members(session, role, markets) or holders
    # An unstaffed role falls back to the lead, who can reassign.
    return (holders or [launch.readiness_lead_id])[0]


def open_launch(
    session: Session,
    form: LaunchForm,
    *,
    actor: str,
    template: ChecklistTemplate,
    now: datetime,
    launches_channel: str | None = None,
    reminder_policy: dict | None = None,
    idempotency_key: str | None = None,
    settings: Settings | None = None,
) -> Launch:
    """Create the launch, its gates and items, roles, audit and outbox rows.

    With an `idempotency_key` (the submitted modal's view id) a repeated or concurrent
    copy of the same submission returns the launch the first one opened — the unique
    key decides, whatever the concurrency — and creates nothing.
    """
    if idempotency_key:
        existing = by_idempotency_key(session, idempotency_key)
        if existing is not None:
            return existing
    if settings is not None:  # workspace policy: who opens, who leads (refusals audited)
        permissions.check_may_open(session, settings, actor, now)
        permissions.check_lead(session, settings, actor, form.readiness_lead_id, now)
    launch = Launch(
        name=form.name,
        kind=form.kind,
        markets=form.markets,
        launch_date=form.launch_date,
        template_kind=template.kind,
        template_version=template.version,
        owner_id=actor,
        readiness_lead_id=form.readiness_lead_id,
        brief=form.brief,
        channel_id=form.channel_id,
        private=form.private,
        status=LaunchStatus.OPEN,
        created_at=now,
        updated_at=now,
        reminder_policy=reminder_policy or {},
        idempotency_key=idempotency_key,
    )
    try:
        with session.begin_nested():  # a concurrent copy committing first fails only this savepoint
            session.add(launch)
            session.flush()
    except IntegrityError:
        existing = by_idempotency_key(session, idempotency_key) if idempotency_key else None
        if existing is None:
            raise
        return existing

    resolved = _add_roles(session, launch, template, actor)
    gates = _add_gates(session, launch, template)
    items = _add_items(session, launch, template, gates, resolved)
    rules = reminders.pinned_policy(launch)
    for item in items:
        reminders.schedule_item(item, launch, rules, now)
    session.flush()

    audit.record(
        session,
        actor=actor,
        action="launch.created",
        entity="launch",
        entity_id=launch.id,
        launch_id=launch.id,
        after=launch_snapshot(launch) | {"items": len(items), "gates": len(gates)},
        at=now,
    )
    _queue_opening_messages(session, launch, items, launches_channel)
    return launch


def _add_roles(session: Session, launch: Launch, template: ChecklistTemplate, actor: str) -> dict[str, list[str]]:
    """The launch's role holders (PM, leads, and each template role's people in its markets);
    returns the template roles' holders, who own the items."""
    resolved = {role: directory.members(session, role, launch.markets) for role in _roles_in(template)}
    roles = {"product_manager": [actor], "readiness_lead": [launch.readiness_lead_id]}
    for extra in directory.members(session, "readiness_lead", launch.markets):
        roles["readiness_lead"].append(extra)
    for role, users in resolved.items():
        roles.setdefault(role, []).extend(users)
    for role, users in roles.items():
        for user in dict.fromkeys(users):
            session.add(LaunchRole(launch_id=launch.id, role=role, user_id=user))
    return resolved


def _add_gates(session: Session, launch: Launch, template: ChecklistTemplate) -> dict[str, Gate]:
    """The template's gates, due by business days before the launch date; by gate key."""
    gates: dict[str, Gate] = {}
    for position, gate_t in enumerate(template.gates):
        gate = Gate(
            launch_id=launch.id,
            gate_key=gate_t.id,
            name=gate_t.name,
            position=position,
            offset_business_days=gate_t.offset_business_days,
            due_at=calendar.due_at(launch.launch_date, gate_t.offset_business_days, launch.markets),
            opens_offset_business_days=gate_t.opens,
            opens_at=calendar.opens_at(launch.launch_date, gate_t.opens, launch.markets),
            approver_role=gate_t.approver_role,
            quorum=str(gate_t.quorum),
            fast_path=gate_t.fast_path,
            allow_self_approval=gate_t.allow_self_approval,
            status=GateStatus.PENDING,
        )
        session.add(gate)
        gates[gate_t.id] = gate
    session.flush()
    return gates


def _add_items(session: Session, launch: Launch, template: ChecklistTemplate, gates: dict[str, Gate],
               resolved: dict[str, list[str]]) -> list[Item]:
    """The template's items for this kind and these markets, each with its owner and due date."""
    items: list[Item] = []
    for gate_t, item_t in template.items_for(launch.kind, launch.markets):
        offset = gate_t.item_due_offset(item_t)
        item = Item(
            launch_id=launch.id,
            gate_id=gates[gate_t.id].id,
            item_key=item_t.id,
            question=item_t.question,
            action=item_t.action,
            link=item_t.link,
            why=item_t.why,
            owner_role=item_t.owner_role,
            owner_id=_owner_for(session, item_t, launch, resolved),
            answer_kind=item_t.answer,
            choices=item_t.choices,
            min_value=item_t.min,
            max_value=item_t.max,
            unit=item_t.unit,
            required=item_t.required,
            url_pattern=item_t.url_pattern,
            must_be_updated=item_t.updated or item_t.updated_date is not None,
            updated_date=item_t.updated_date.rule() if item_t.updated_date else None,
            due_offset_business_days=offset,
            due_at=calendar.due_at(launch.launch_date, offset, launch.markets),
            opens_offset_business_days=gate_t.item_opens_offset(item_t),
            opens_at=calendar.opens_at(launch.launch_date, gate_t.item_opens_offset(item_t), launch.markets),
        )
        session.add(item)
        items.append(item)
    return items


def by_idempotency_key(session: Session, key: str) -> Launch | None:
    return session.exec(select(Launch).where(Launch.idempotency_key == key)).first()


def _roles_in(template: ChecklistTemplate) -> set[str]:
    return {item.owner_role for gate in template.gates for item in gate.items} | {
        gate.approver_role for gate in template.gates
    }


def record_channel(session: Session, launch_id: int, channel_id: str, name: str, *, adopted: bool,
                   now: datetime) -> Launch:
    """The launch channel exists in Slack (created, or adopted after a crash): remember and audit it."""
    launch = session.get(Launch, launch_id)
    if launch is None:
        raise NotFound("That launch no longer exists.")
    launch.channel_id = channel_id
    session.add(launch)
    after = {"channel": channel_id, "name": name} | ({"adopted": True} if adopted else {})
    audit.record(session, actor=audit.SYSTEM, action="launch.channel_created", entity="launch", entity_id=launch.id,
                 launch_id=launch.id, after=after, at=now)
    return launch


def stakeholders(launch: Launch, items: list[Item]) -> list[str]:
    people = [launch.owner_id, launch.readiness_lead_id] + [i.owner_id for i in items if i.owner_id]
    return list(dict.fromkeys(people))


def _queue_opening_messages(session: Session, launch: Launch, items: list[Item], launches_channel: str | None) -> None:
    people = stakeholders(launch, items)
    if launch.channel_id:
        enqueue(session, Kind.INVITE, launch.channel_id, ChannelPayload(users=people).dump(), launch_id=launch.id,
                dedupe_key=f"invite:{launch.id}")
    else:
        enqueue(session, Kind.CREATE_CHANNEL, LAUNCH_CHANNEL,
                ChannelPayload(name=channel_name(launch), users=people, private=bool(launch.private)).dump(),
                launch_id=launch.id, dedupe_key=f"create_channel:{launch.id}")
    changes.record(session, LaunchChanged(launch.id))
    if launches_channel and not launch.private:  # a private launch is never announced
        enqueue(session, Kind.ANNOUNCE, launches_channel, {}, launch_id=launch.id, dedupe_key=f"announce:{launch.id}")
    for user in dict.fromkeys(i.owner_id for i in items if i.owner_id):
        enqueue(session, Kind.INTRO_DM, user, PromptPayload(user=user).dump(), launch_id=launch.id,
                dedupe_key=f"intro:{launch.id}:{user}")


def launch_snapshot(launch: Launch) -> dict:
    return {
        "name": launch.name,
        "kind": launch.kind,
        "markets": launch.markets,
        "launch_date": launch.launch_date.isoformat(),
        "owner": launch.owner_id,
        "readiness_lead": launch.readiness_lead_id,
        "status": launch.status,
        "private": launch.private,
        "template": f"{launch.template_kind} v{launch.template_version}",
    }


def get_launch(session: Session, key: str, viewer: str | None = None) -> Launch:
    """The launch by key. With `viewer`, a private launch they may not see is "not found",
    worded exactly like a key that does not exist, so its existence does not leak."""
    from . import access

    match = KEY_RE.match(key or "") if isinstance(key, str) else None
    launch_id = db_id(match.group(1)) if match else None
    launch = session.get(Launch, launch_id) if launch_id else None
    if launch is not None and viewer is not None and not access.can_see(session, launch, viewer):
        launch = None
    if launch is None:
        typed = str(key or "").strip()[:40] or "(nothing)"
        shown = typed.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")  # shown as mrkdwn
        raise NotFound(f"No launch {shown}. Try `/launch list` to see open launches and their keys (like LR-12).",
                       cli=f"No launch {typed}. `launchgate portfolio` lists the open launches and their keys "
                           "(like LR-12).")
    return launch


def gates_of(session: Session, launch_id: int) -> list[Gate]:
    return list(session.exec(select(Gate).where(Gate.launch_id == launch_id).order_by(Gate.position)))


def items_of(session: Session, launch_id: int) -> list[Item]:
    return list(session.exec(select(Item).where(Item.launch_id == launch_id).order_by(Item.due_at, Item.id)))


@dataclass
class LaunchOverview:
    launch: Launch
    gates: list[Gate]
    items: list[Item]
    unstaffed: list[str] = field(default_factory=list)  # roles nobody held: their items sit with the lead

    @property
    def current_gate(self) -> Gate | None:
        return next((g for g in self.gates if not g.decided), None)

    @property
    def percent_done(self) -> int:
        required = [i for i in self.items if i.required] or self.items
        if not required:
            return 100
        return round(100 * sum(i.satisfied for i in required) / len(required))

    def items_in(self, gate: Gate) -> list[Item]:
        return [i for i in self.items if i.gate_id == gate.id]


def overview(session: Session, launch: Launch) -> LaunchOverview:
    items = items_of(session, launch.id)
    return LaunchOverview(launch, gates_of(session, launch.id), items, unstaffed_roles(session, launch, items))


LEAD_ROLES = ("product_manager", "readiness_lead")


def unstaffed_roles(session: Session, launch: Launch, items: list[Item]) -> list[str]:
    """Roles nobody held for the launch's markets when it opened (and nobody was added to since)
    whose open items therefore fell back to the readiness lead. Empty once each is staffed
    (*Someone's missing…*) or its items are reassigned."""
    held = set(session.exec(select(LaunchRole.role).where(LaunchRole.launch_id == launch.id).distinct()))
    return sorted({i.owner_role for i in items if i.is_open and i.owner_role not in LEAD_ROLES
                   and i.owner_role not in held and i.owner_id == launch.readiness_lead_id})


@dataclass
class OpeningNotes:
    """What the opener of a launch should know at once (the modal's confirmation)."""
    launch: Launch
    unstaffed: list[str]
    sync_problems: list[str]


def opening_notes(session: Session, launch: Launch) -> OpeningNotes:
    unstaffed = unstaffed_roles(session, launch, items_of(session, launch.id))
    return OpeningNotes(launch, unstaffed, directory.last_sync_problems(session) if unstaffed else [])

