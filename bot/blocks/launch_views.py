"""The launch modal, status card, `/launch list` and `/launch status`."""
from __future__ import annotations

from datetime import date
from functools import lru_cache

import pycountry
from slack_sdk.models.blocks import (
    CheckboxesElement,
    ContextBlock,
    DatePickerElement,
    DividerBlock,
    HeaderBlock,
    InputBlock,
    MarkdownTextObject,
    Option,
    OptionGroup,
    PlainTextInputElement,
    PlainTextObject,
    SectionBlock,
    StaticMultiSelectElement,
    StaticSelectElement,
    UserSelectElement,
)
from slack_sdk.models.blocks.block_elements import ConversationSelectElement
from slack_sdk.models.views import View

from bot.services.launches import BRIEF_MAX, NAME_MAX, LaunchOverview, OpeningNotes
from bot.services.portfolio import PAGE_SIZE, USAGE, ListPage, describe
from bot.services.readable import outcome_label
from models import AuditEvent, Gate, GateDecision, GateStatus, Item, ItemState, Launch, LaunchStatus

from .ids import Callback, Field
from .text import clip, day, esc, user

KIND_LABELS = {"product": "Product", "market": "Market", "campaign": "Campaign"}
GATE_ICONS: dict[str, str] = {  # enum keys (str) looked up with the stored strings
    GateStatus.PENDING: "⏳",
    GateStatus.IN_REVIEW: "🔎",
    GateStatus.GO: "✅",
    GateStatus.GO_WITH_CONDITIONS: "☑️",
    GateStatus.HOLD: "⏸️",
    GateStatus.KILLED: "🛑",
}
ITEM_ICONS: dict[str, str] = {
    ItemState.OPEN: "◻️",
    ItemState.DONE: "✅",
    ItemState.NA: "➖",
    ItemState.BLOCKED: "⛔",
    ItemState.WAIVED: "🟰",
}
STATUS_LABELS: dict[str, str] = {
    LaunchStatus.OPEN: "Open",
    LaunchStatus.ON_HOLD: "On hold",
    LaunchStatus.CANCELLED: "Cancelled",
    LaunchStatus.LAUNCHED: "Launched",
}
MAX_MESSAGE_BLOCKS = 50


@lru_cache(maxsize=1)
def _market_groups() -> tuple[OptionGroup, ...]:
    """Every ISO country, in groups of ≤ 100 options as Slack requires."""
    names = sorted((getattr(c, "common_name", None) or c.name, c.alpha_2) for c in pycountry.countries)
    groups = []
    for start in range(0, len(names), 90):
        chunk = names[start:start + 90]
        options = [Option(value=code, text=clip(f"{name} ({code})", 75)) for name, code in chunk]
        groups.append(OptionGroup(label=f"{chunk[0][0][0]}–{chunk[-1][0][0]}", options=options))
    return tuple(groups)


def market_option(code: str) -> Option:
    for group in _market_groups():
        for option in group.options:
            if option.value == code:
                return option
    return Option(value=code, text=code)


def launch_modal(
    kinds: list[str],
    default_lead: str | None,
    today: date,
    *,
    private_metadata: str = "",
) -> View:
    kind_options = [Option(value=k, text=KIND_LABELS.get(k, k.title())) for k in kinds]
    return View(
        type="modal",
        callback_id=Callback.LAUNCH_NEW,
        title="New launch",
        submit="Open launch",
        close="Cancel",
        private_metadata=private_metadata,
        blocks=[
            InputBlock(
                block_id=Field.NAME,
                label="Launch name",
                element=PlainTextInputElement(action_id=Field.NAME, max_length=NAME_MAX + 40,
                                              placeholder="e.g. Instant payouts in France"),
            ),
            InputBlock(
                block_id=Field.KIND,
                label="Kind",
                element=StaticSelectElement(action_id=Field.KIND, options=kind_options,
                                            placeholder="Product, market or campaign"),
            ),
            InputBlock(
                block_id=Field.MARKETS,
                label="Markets",
                hint="Every market changes the holiday calendar and the owners who are asked.",
                element=StaticMultiSelectElement(action_id=Field.MARKETS, option_groups=list(_market_groups()),
                                                 placeholder="Countries"),
            ),
            InputBlock(
                block_id=Field.LAUNCH_DATE,
                label="Target launch date",
                element=DatePickerElement(action_id=Field.LAUNCH_DATE),
            ),
            InputBlock(
                block_id=Field.READINESS_LEAD,
                label="Readiness lead",
                hint="Approves the gates.",
                element=UserSelectElement(action_id=Field.READINESS_LEAD, initial_user=default_lead,
                                          placeholder="Pick a person"),
            ),
            InputBlock(
                block_id=Field.BRIEF,
                label="Short brief",
                optional=True,
                element=PlainTextInputElement(action_id=Field.BRIEF, multiline=True, max_length=BRIEF_MAX),
            ),
            InputBlock(
                block_id=Field.CHANNEL,
                label="Existing channel",
                optional=True,
                hint="Leave empty and launchgate creates one named after the launch.",
                element=ConversationSelectElement(action_id=Field.CHANNEL,
                                                  filter={"include": ["public", "private"],
                                                          "exclude_bot_users": True}),
            ),
            InputBlock(
                block_id=Field.PRIVATE,
                label="Visibility",
                optional=True,
                hint="Private: a private channel, and only its members, stakeholders, readiness leads and admins "
                     "can see the launch anywhere in launchgate.",
                element=CheckboxesElement(action_id=Field.PRIVATE, options=[
                    Option(value="private", text="Private launch")]),
            ),
        ],
    )


def _gate_line(gate: Gate, items: list[Item]) -> str:
    required = [i for i in items if i.required]
    done = sum(i.satisfied for i in required)
    blocked = sum(i.state == ItemState.BLOCKED for i in items)
    parts = [f"{GATE_ICONS.get(gate.status, '')} *{esc(gate.name)}* · due {day(gate.due_at)} · {done}/{len(required)} done"]
    if blocked:
        parts.append(f"{blocked} blocked")
    return " · ".join(parts)


def launch_heading(ov: LaunchOverview) -> list:
    launch = ov.launch
    markets = ", ".join(launch.markets)
    return [
        HeaderBlock(text=clip(f"{launch.key} · {esc(launch.name)}", 150)),
        ContextBlock(elements=[MarkdownTextObject(text=clip(
            f"{KIND_LABELS.get(launch.kind, launch.kind)} launch · {esc(markets)} · "
            f"launches {day(launch.launch_date)} · owner {user(launch.owner_id)} · "
            f"readiness lead {user(launch.readiness_lead_id)} · *{STATUS_LABELS.get(launch.status, launch.status)}*"
        ))]),
    ]


def status_card(ov: LaunchOverview, decisions: dict[int, GateDecision] | None = None,
                change: AuditEvent | None = None, link_warnings: dict[int, list[str]] | None = None,
                capacity: str | None = None) -> list:
    """The card pinned in the launch channel; updated in place after every change.

    `change` is the latest hold / resume / cancel on record (from a review or a command);
    `link_warnings` are the ⚠ evidence links per item id; `capacity` the one-line capacity
    verdict (services.capacity.verdict_for).
    """
    decisions = decisions or {}
    blocks = launch_heading(ov)
    banner = _status_banner(ov, decisions, change)
    if banner:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=clip(banner))))
    if capacity:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=clip(esc(capacity)))))
    if ov.unstaffed and ov.launch.status in (LaunchStatus.OPEN, LaunchStatus.ON_HOLD):
        blocks.append(SectionBlock(text=MarkdownTextObject(text=clip(unstaffed_warning(ov.launch, ov.unstaffed)))))
    if ov.launch.brief:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=clip(esc(ov.launch.brief), 600))))
    lines = [_gate_line(g, ov.items_in(g)) + _decided(g, decisions.get(g.id)) for g in ov.gates]
    blocks.append(SectionBlock(text=MarkdownTextObject(text=clip("\n".join(lines)))))
    current = ov.current_gate
    if current is not None and ov.launch.status in (LaunchStatus.OPEN, LaunchStatus.ON_HOLD):
        open_items = [i for i in ov.items_in(current) if i.is_open]
        if open_items:
            rows = [f"{ITEM_ICONS[i.state]} {esc(i.question)} — {user(i.owner_id)}, due {day(i.due_at)}"
                    for i in open_items[:15]]
            if len(open_items) > 15:
                rows.append(f"…and {len(open_items) - 15} more")
            blocks.append(SectionBlock(text=MarkdownTextObject(
                text=clip(f"*Open in {esc(current.name)}*\n" + "\n".join(rows)))))
    if link_warnings:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=clip(_link_lines(ov, link_warnings)))))
    blocks.append(ContextBlock(elements=[MarkdownTextObject(
        text=f"{ov.percent_done}% of required items done · `/launch status {ov.launch.key}` for everything · "
             f"`/launch timeline {ov.launch.key}` for who did what")]))
    return blocks


def role_names(roles: list[str]) -> str:
    return ", ".join(r.replace("_", " ") for r in roles)


def unstaffed_warning(launch: Launch, roles: list[str], sync_problems: list[str] = ()) -> str:
    """Roles whose items fell back to the readiness lead because nobody holds them."""
    why = (f" The stakeholders file did not sync: {esc(clip('; '.join(sync_problems), 600))}."
           if sync_problems else "")
    return (f"⚠️ *Nobody holds {esc(role_names(roles))}* for {esc(', '.join(launch.markets) or 'this launch')} "
            f"in the stakeholder directory, so their items went to the readiness lead "
            f"{user(launch.readiness_lead_id)}.{why} Add the right people with *Someone's missing…* on the "
            "stakeholder list, reassign the items, or fix the stakeholders file and run "
            "`launchgate stakeholders sync`.")


def opened_modal(notes: OpeningNotes) -> View:
    """The New launch modal's confirmation when the opener must know something at once."""
    launch = notes.launch
    text = (f"*{launch.key} · {esc(launch.name)}* is open; its channel and the stakeholders' DMs follow.\n\n"
            + unstaffed_warning(launch, notes.unstaffed, notes.sync_problems))
    return View(type="modal", title="Launch opened", close="OK",
                blocks=[SectionBlock(text=MarkdownTextObject(text=clip(text)))])


def _link_lines(ov: LaunchOverview, warnings: dict[int, list[str]]) -> str:
    items = {i.id: i for g in ov.gates for i in ov.items_in(g)}
    rows = [f"⚠️ {esc(clip(items[item_id].question, 120))} (`{esc(items[item_id].item_key)}`): {esc(clip(w, 300))}"
            for item_id, lines in warnings.items() if item_id in items for w in lines]
    more = f"\n…and {len(rows) - 10} more" if len(rows) > 10 else ""
    hint = (f"\n_A page flagged possibly stale that is current: `/launch current {ov.launch.key} ITEM-KEY WHY`_"
            if any("possibly stale" in w for lines in warnings.values() for w in lines) else "")
    return "*Evidence links*\n" + "\n".join(rows[:10]) + more + hint


def _who(decision: GateDecision) -> str:
    going = decision.outcome in ("go", "go_with_conditions")
    voters = [v["voter"] for v in decision.votes
              if (v["outcome"] in ("go", "go_with_conditions") if going else v["outcome"] == decision.outcome)]
    return ", ".join(user(v) for v in voters[:5]) or "launchgate"


def _decided(gate: Gate, decision: GateDecision | None) -> str:
    if gate.status == GateStatus.IN_REVIEW:
        return f" · in review (round {gate.review_round})"
    if decision is None or gate.status not in (GateStatus.GO, GateStatus.GO_WITH_CONDITIONS, GateStatus.KILLED,
                                               GateStatus.HOLD):
        return ""
    fast = " (fast path)" if decision.decided_with_id else ""
    return f" · *{outcome_label(decision.outcome)}*{fast} by {_who(decision)}, {day(decision.decided_at)}"


def _status_banner(ov: LaunchOverview, decisions: dict[int, GateDecision],
                   change: AuditEvent | None = None) -> str | None:
    status, key = ov.launch.status, ov.launch.key
    if change is not None and change.action in ("launch.held", "launch.cancelled"):
        who, at, reason = user(change.actor), change.at, change.note
    else:
        latest = max(decisions.values(), key=lambda d: (d.decided_at, d.id), default=None)
        who, at, reason = (_who(latest), latest.decided_at, latest.reason) if latest is not None else (None, None, None)
    why = f": {esc(clip(reason, 500))}" if reason else ""
    if status == LaunchStatus.ON_HOLD:
        since = f" since {day(at)} ({who}{why})" if who else ""
        return (f"⏸️ *On hold*{since}. Prompts and reminders are paused until the owner or a readiness lead runs "
                f"`/launch resume {key}`.")
    if status == LaunchStatus.CANCELLED:
        by = f" by {who} on {day(at)}{why}" if who else ""
        return f"🛑 *Cancelled*{by}. Prompts have stopped."
    if status == LaunchStatus.LAUNCHED:
        return "🚀 *Launched* — every gate passed."
    if ov.gates and ov.current_gate is None:
        return f"✅ *Ready* — every gate passed. Launched on {day(ov.launch.launch_date)}."
    return None


def channel_topic(launch: Launch, change: AuditEvent | None = None) -> str:
    """The launch channel's topic (plain text, Slack allows 250 characters)."""
    reason = f": {change.note}" if change is not None and change.note and change.action in (
        "launch.held", "launch.cancelled") else ""
    status = {
        LaunchStatus.ON_HOLD: f"⏸️ ON HOLD{reason} — /launch resume {launch.key}",
        LaunchStatus.CANCELLED: f"🛑 CANCELLED{reason}",
        LaunchStatus.LAUNCHED: f"🚀 Launched {launch.launch_date.isoformat()}",
    }.get(launch.status, f"Launching {launch.launch_date.isoformat()} · /launch status {launch.key}")
    return clip(esc(f"{launch.key} · {status}"), 250)


def status_card_text(ov: LaunchOverview) -> str:
    return f"{ov.launch.key} {esc(ov.launch.name)}: {ov.percent_done}% done"


def launch_list_page(page: ListPage) -> list:
    """One page of `/launch list` (20 launches at most, well inside 50 blocks)."""
    words = describe(page.filters)
    if not page.rows:
        hint = " matching `" + esc(words) + "`" if words else ""
        return [SectionBlock(text=MarkdownTextObject(text=clip(
            f"No launches{hint}. {USAGE}" if words else "No open launches. Start one with `/launch new`.")))]
    title = "Launches" + (f" · {words}" if words else " · open and on hold")
    blocks: list = [HeaderBlock(text=clip(title, 150))]
    for row in page.rows:
        launch, gate = row.launch, row.current_gate
        where = f"gate: {esc(gate.name)} (due {day(gate.due_at)})" if gate else "every gate passed"
        flags = []
        if launch.status != LaunchStatus.OPEN:
            flags.append(f"_{STATUS_LABELS.get(launch.status, launch.status).lower()}_")
        if row.overdue:
            flags.append(f"⚠️ {row.overdue} overdue")
        if launch.private:
            flags.append("🔒 private")
        blocks.append(SectionBlock(text=MarkdownTextObject(text=clip(
            f"*{launch.key}* · {esc(launch.name)} · {KIND_LABELS.get(launch.kind, launch.kind)} · "
            f"{esc(', '.join(launch.markets))} · launches {day(launch.launch_date)}\n"
            f"{where} · {row.percent_done}% done · lead {user(launch.readiness_lead_id)}"
            + (" · " + " · ".join(flags) if flags else "")))))
    first = (page.page - 1) * PAGE_SIZE + 1
    footer = f"Showing {first}–{first + len(page.rows) - 1} of {page.total}"
    if page.page < page.pages:
        footer += f" · next: `/launch list {esc(words + ' ' if words else '')}page:{page.page + 1}`"
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text=clip(footer + " · `/launch help` for filters"))]))
    return blocks


def launch_status(ov: LaunchOverview) -> list:
    """Every gate with its items, owners and states, inside 50 blocks."""
    blocks = launch_heading(ov)
    for gate in ov.gates:
        items = ov.items_in(gate)
        rows = [
            f"{ITEM_ICONS.get(i.state, '')} {esc(i.question)} — {user(i.owner_id)} · {i.state}"
            + ("" if i.required else " · optional")
            for i in items
        ]
        blocks.append(DividerBlock())
        blocks.append(SectionBlock(text=MarkdownTextObject(text=clip(_gate_line(gate, items)))))
        if rows:
            blocks.append(SectionBlock(text=MarkdownTextObject(text=clip("\n".join(rows)))))
    return blocks[:MAX_MESSAGE_BLOCKS]


def help_blocks() -> list:
    text = (
        "*launchgate* runs readiness gates for launches.\n"
        "• `/launch new` (or just `/launch`) — open a launch\n"
        "• `/launch list [mine] [lead:@x] [kind:market] [market:FR] [overdue] [state:held] [gate:planning]` — "
        "launches with their current gate; filters combine, `page:2` for more\n"
        "• `/launch status LR-12` — gates and items with owners\n"
        "• `/launch edit LR-12` — change the launch date (owner or lead)\n"
        "• `/launch timeline LR-12` — recent decisions and answers\n"
        "• `/launch waive LR-12` — waive an open item with a reason (readiness leads)\n"
        "• `/launch unwaive LR-12` — take a waiver back; the item opens again (readiness leads)\n"
        "• `/launch hold LR-12 reason` — pause prompts and reminders (owner or readiness lead)\n"
        "• `/launch resume LR-12` — lift a hold (owner or readiness lead)\n"
        "• `/launch cancel LR-12 reason` — stop the launch for good (owner or readiness lead)\n"
        "• `/launch add LR-12` — add an ad-hoc item; `/launch remove LR-12` — remove an open one, with a reason\n"
        "• `/launch capacity [queue] [weeks]` — all launches' staffing need per queue and week, and plan gaps\n"
        "• `/launch forecasts [@person]` — forecasters' track record: WAPE, bias, trend\n"
        "• `/launch away until 2027-03-01` — away through that day: your items' reminders go to your role's "
        "backup; `/launch away off` when back (admins: `/launch away @x until …`)\n"
        "• `/launch summary weekly [N]` — a Monday summary instead of daily nudges for items not due within N "
        "days; `/launch summary daily` to go back\n"
        "• `/launch help` — this message"
    )
    return [SectionBlock(text=MarkdownTextObject(text=text))]


def notice(text: str) -> list:
    """A one-section message; `text` must already be escaped."""
    return [SectionBlock(text=MarkdownTextObject(text=clip(text)))]


def plain(text: str) -> PlainTextObject:
    return PlainTextObject(text=clip(text, 75))
