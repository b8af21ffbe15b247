"""Reminder messages: nudges, escalations, the daily digest, moved dates, handovers."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from slack_sdk.models.blocks import (
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    Option,
    OverflowMenuElement,
    SectionBlock,
)

from bot.codecs import ItemAction
from models import AuditEvent, Gate, Item, Launch

from .ids import Action
from .launch_views import GATE_ICONS, ITEM_ICONS
from .prompts import item_controls, item_line, snooze_actions
from .text import clip, day, esc, user, when

MAX_NUDGE_ITEMS = 20      # 2 blocks each, inside the 50-block message limit
MAX_LIST = 15             # lines per list section in escalations and digests


def _context(text: str) -> ContextBlock:
    return ContextBlock(elements=[MarkdownTextObject(text=clip(text))])


def _section(text: str) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=clip(text)))


def _bullets(lines: list[str], more_label: str = "more") -> str:
    shown = lines[:MAX_LIST]
    if len(lines) > len(shown):
        shown.append(f"…and {len(lines) - len(shown)} {more_label}")
    return "\n".join(shown)


# -- nudges ----------------------------------------------------------------------

def nudge_text(launch: Launch, open_items: list[Item], now: datetime) -> str:
    overdue = sum(i.due_at < now for i in open_items)
    count = f"{len(open_items)} item{'s' if len(open_items) != 1 else ''}"
    return (f"Reminder: {count} for {launch.key} {esc(launch.name)} need your answer"
            + (f" ({overdue} overdue)" if overdue else ""))


def nudge(launch: Launch, gates: list[Gate], items: list[Item], tz: str | None, *, now: datetime,
          snoozed_until: datetime | None = None, covering: Sequence[str] = ()) -> list:
    """The grouped daily nudge: the items that need an answer, with their controls and snooze buttons."""
    open_items = [i for i in items if i.is_open]
    blocks: list = [HeaderBlock(text=clip(f"⏰ {launch.key} · {esc(launch.name)}", 150))]
    if covering:
        blocks.append(_context("🏖️ Covering for " + ", ".join(user(u) for u in covering)
                               + " while they are away: you are their role's backup."))
    if open_items:
        blocks.append(_section(nudge_text(launch, open_items, now) + ". Answer right here, or snooze."))
    else:
        blocks.append(_section(f"All set for *{esc(launch.name)}* — thank you. Nothing here needs you today."))
    gate_names = {g.id: g.name for g in gates}
    for item in items[:MAX_NUDGE_ITEMS]:
        line = item_line(item, tz, now)
        blocks.append(SectionBlock(block_id=f"q-{item.id}", text=MarkdownTextObject(
            text=clip(f"{line}\n_{esc(gate_names.get(item.gate_id, ''))} gate_"))))
        blocks.append(item_controls(item, now))
    if len(items) > MAX_NUDGE_ITEMS:
        blocks.append(_context(f"…and {len(items) - MAX_NUDGE_ITEMS} more in your launch prompt and the Home tab."))
    if open_items:
        if snoozed_until and snoozed_until > now:
            blocks.append(_context(f"💤 Snoozed: next reminder {when(snoozed_until, tz)}."))
        not_due = any(i.due_at.date() > now.date() for i in open_items)
        blocks.append(snooze_actions(launch.id, until_due=not_due))
    return blocks


def snoozed_text(result, tz: str | None) -> str:
    """The confirmation after a snooze (`result` is a `snooze.Snoozed`)."""
    count = len(result.items)
    text = (f"💤 Snoozed {count} item{'s' if count != 1 else ''} in {result.launch.key}: "
            f"next reminder {when(result.until, tz)}.")
    if result.skipped:
        text += f" {result.skipped} already due item{'s' if result.skipped != 1 else ''} will still be reminded."
    return text


# -- escalations -----------------------------------------------------------------

def escalation_text(launch: Launch, count: int, level: int) -> str:
    who = "readiness lead" if level == 1 else "launch owner"
    return (f"Overdue in {launch.key} {esc(launch.name)}: {count} item{'s' if count != 1 else ''} "
            f"(escalated to you as {who})")


def _escalation_menu(item: Item, level: int) -> OverflowMenuElement:
    """What the person told can do about an overdue item without seeing the owner's DM:
    hand it to someone else, or (the readiness lead) waive it."""
    ops = [("reassign", "Reassign…"), ("delegate", "Add a delegate…")]
    if level == 1:
        ops.append(("waive", "Waive…"))
    return OverflowMenuElement(action_id=f"{Action.ITEM_MENU}", options=[
        Option(text=label, value=ItemAction(item=item.id, op=op).encode()) for op, label in ops])


def escalation(launch: Launch, rows: list[tuple[Item, int]], tz: str | None, *, level: int,
               new_ids: set[int]) -> list:
    """rows: (item, business days overdue), most overdue first; each with its own menu."""
    intro = ("These items are past due and their owners have been reminded daily. "
             "Chase, reassign or waive them:" if level == 1 else
             "These items are well past due, even after the readiness lead was told "
             f"({user(launch.readiness_lead_id)}). Chase or reassign them:")
    blocks: list = [
        HeaderBlock(text=clip(f"🚨 Overdue · {launch.key} · {esc(launch.name)}", 150)),
        _section(intro),
    ]
    for item, days in rows[:MAX_LIST]:
        mark = "🆕 " if item.id in new_ids else ""
        state = f" · ⛔ blocked: {esc(clip(item.note or '', 200))}" if item.state == "blocked" else ""
        blocks.append(SectionBlock(
            block_id=f"overdue-{item.id}",
            text=MarkdownTextObject(text=clip(
                f"{mark}*{esc(item.question)}* — {user(item.owner_id)} · due {day(item.due_at, tz)} · "
                f"{days} business day{'s' if days != 1 else ''} overdue{state}")),
            accessory=_escalation_menu(item, level)))
    if len(rows) > MAX_LIST:
        blocks.append(_context(f"…and {len(rows) - MAX_LIST} more overdue"))
    blocks.append(_context(f"`/launch status {launch.key}` shows every item"))
    return blocks


def escalation_cleared(launch: Launch) -> list:
    """The same escalation once nothing in it is overdue any more: no menus left to click."""
    return [
        HeaderBlock(text=clip(f"✅ Overdue · {launch.key} · {esc(launch.name)}", 150)),
        _section("Every item escalated here has been answered, waived or given a new due date. Nothing to chase."),
        _context(f"`/launch status {launch.key}` shows every item"),
    ]


# -- digest ----------------------------------------------------------------------

CHANGE_WORDS = {
    "item.answered": ("✅", "answered"),
    "item.edited": ("✏️", "edited the answer to"),
    "item.marked_na": ("➖", "marked not applicable:"),
    "item.marked_blocked": ("⛔", "flagged as blocked:"),
    "item.reopened": ("↩️", "reopened"),
    "item.reassigned": ("🔀", "reassigned"),
    "item.delegated": ("🤝", "delegated"),
    "item.waived": ("🟰", "waived"),
    "item.waiver_revoked": ("↩️", "took back the waiver on"),
    "item.waiver_expired": ("⏰", "reopened (waiver expired):"),
    "item.sent_back": ("↩️", "sent back"),
}


def change_line(event: AuditEvent, items: dict[int, Item]) -> str:
    if event.action in CHANGE_WORDS and event.entity == "item":
        icon, verb = CHANGE_WORDS[event.action]
        item = items.get(event.entity_id)
        what = f"*{esc(item.question)}*" if item else "an item"
        extra = ""
        if event.action == "item.reassigned" and isinstance(event.after, dict):
            extra = f" to {user(event.after.get('owner'))}"
        if event.action == "item.delegated" and isinstance(event.after, dict):
            if not event.after.get("delegate"):
                return f"{icon} {user(event.actor)} removed the delegate of {what}"
            extra = f" to {user(event.after.get('delegate'))}"
        return f"{icon} {user(event.actor)} {verb} {what}{extra}"
    if event.action == "launch.date_changed" and isinstance(event.after, dict):
        return f"📅 {user(event.actor)} moved the launch date to {esc(event.after.get('launch_date'))}"
    actor = "launchgate" if event.actor == "launchgate" else user(event.actor)
    return f"• {esc(event.action.replace('.', ' ').replace('_', ' '))} ({actor})"


def _gate_progress(gate: Gate, items: list[Item]) -> str:
    required = [i for i in items if i.required] or items
    done = sum(i.satisfied for i in required)
    bar = "▰" * round(10 * done / len(required)) + "▱" * (10 - round(10 * done / len(required))) if required else ""
    return f"{GATE_ICONS.get(gate.status, '')} *{esc(gate.name)}* {bar} {done}/{len(required)}"


def digest(launch: Launch, gates: list[Gate], items: list[Item], changes: list[AuditEvent],
           overdue: list[tuple[Item, int]], tz: str | None, since: datetime | None) -> list:
    by_id = {i.id: i for i in items}
    blocks: list = [HeaderBlock(text=clip(f"📋 Daily digest · {launch.key} · {esc(launch.name)}", 150))]
    progress = [_gate_progress(g, [i for i in items if i.gate_id == g.id]) for g in gates]
    blocks.append(_section("*Progress by gate*\n" + "\n".join(progress)))
    if changes:
        title = f"*Since {when(since, tz)}*" if since else "*Since the launch opened*"
        blocks.append(_section(title + "\n" + _bullets([change_line(e, by_id) for e in changes], "more changes")))
    if overdue:
        lines = [f"{ITEM_ICONS.get(i.state, '')} *{esc(i.question)}* — {user(i.owner_id)} · due {day(i.due_at, tz)} · "
                 f"{d} business day{'s' if d != 1 else ''} overdue" for i, d in overdue]
        blocks.append(_section(f"*Overdue ({len(overdue)})*\n" + _bullets(lines, "more overdue")))
    required = [i for i in items if i.required] or items
    percent = round(100 * sum(i.satisfied for i in required) / len(required)) if required else 100
    blocks.append(DividerBlock())
    blocks.append(_context(f"{percent}% of required items done · launches {day(launch.launch_date)} · "
                           f"`/launch status {launch.key}` for everything"))
    return blocks


def digest_text(launch: Launch, changes: int, overdue: int) -> str:
    return (f"Daily digest for {launch.key} {esc(launch.name)}: {changes} change{'s' if changes != 1 else ''}, "
            f"{overdue} overdue")


# -- moved dates and handovers ---------------------------------------------------

def dates_moved(launch: Launch, rows: list[tuple[Item, datetime, datetime]], tz: str | None, *, old: date,
                new: date, by: str, reason: str | None) -> list:
    """To one owner: every due date of theirs that moved, old → new."""
    lines = [f"• *{esc(i.question)}*: {day(before, tz)} → *{day(after, tz)}*" for i, before, after in rows]
    why = f"\n_Reason: {esc(reason)}_" if reason else ""
    return [
        _section(f"📅 {user(by)} moved *{launch.key} · {esc(launch.name)}* from {day(old)} to *{day(new)}*.{why}\n"
                 f"Your due dates moved with it:"),
        _section(_bullets(lines, "more")),
        _context("Your launch prompt shows the new dates."),
    ]


def dates_moved_channel(launch: Launch, *, old: date, new: date, by: str, reason: str | None, count: int,
                        owners: int) -> list:
    why = f" _Reason: {esc(reason)}_" if reason else ""
    return [_section(f"📅 {user(by)} moved the launch date from {day(old)} to *{day(new)}*.{why} "
                     f"{count} open due date{'s' if count != 1 else ''} moved; "
                     f"{owners} owner{'s were' if owners != 1 else ' was'} told.")]


def handover(launch: Launch, item: Item, *, to: str, old: str | None, new: str, by: str, tz: str | None) -> list:
    what = f"*{esc(item.question)}* ({launch.key} · {esc(launch.name)}, due {day(item.due_at, tz)})"
    if to == "new":
        who = "" if by == old else f" (for {user(old)})" if old else ""
        text = f"🔀 {user(by)}{who} handed you {what}. It is in your launch prompt now."
    else:
        text = f"🔀 {user(by)} reassigned {what} from you to {user(new)}. Nothing more to do on it."
    return [_section(text)]
