"""A stakeholder's live prompt: their items for one launch, with controls."""
from __future__ import annotations

from bot.codecs import ItemAction, SnoozeValue

from datetime import datetime

from slack_sdk.models.blocks import (
    ActionsBlock,
    ButtonElement,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    Option,
    OverflowMenuElement,
    SectionBlock,
)

from bot.services.item_state import is_open_yet
from bot.services.readable import forecast_text, plan_text
from bot.services.stakeholders import ROSTER_ITEM
from models import Gate, Item, ItemState, Launch, LaunchStatus

from .ids import Action
from .launch_views import ITEM_ICONS
from .text import clip, clip_links, day, esc, link, user

MAX_ITEMS = 18  # 2 blocks each, inside Slack's 50-block message limit


def answer_summary(item: Item) -> str:
    if item.state == ItemState.WAIVED:
        return f"waived: {esc(item.waiver_reason or '')}"
    if item.state in (ItemState.NA, ItemState.BLOCKED):
        label = "not applicable" if item.state == ItemState.NA else "blocked"
        return f"{label}: {esc(item.note or '')}"
    if item.state != ItemState.DONE:
        return ""
    answer = item.answer
    if item.answer_kind == "forecast" and isinstance(answer, dict):
        return esc(clip("forecast " + forecast_text(answer), 600))
    if item.answer_kind == "capacity_plan" and isinstance(answer, dict):
        return esc(clip("plan " + plan_text(answer), 600))
    if item.answer_kind == "accuracy" and isinstance(answer, dict) and answer.get("wape") is not None:
        return f"accuracy: WAPE {answer['wape']:.1%} · bias {answer['bias']:+.1%}"
    if item.answer_kind == "link" and isinstance(answer, str):
        return link(answer, answer)
    if item.answer_kind == "market_links" and isinstance(answer, dict):
        return clip_links(answer)
    if answer in (None, True, ""):
        return "done"
    return esc(clip(str(answer) + (f" {item.unit}" if item.unit else ""), 300))


def due_text(item: Item, tz: str | None, now: datetime | None = None) -> str:
    overdue = now is not None and item.is_open and item.due_at < now
    return (f"Due {day(item.due_at, tz)}" + (" · *overdue*" if overdue else "")
            + ("" if item.required else " · optional"))


def delegated_note(item: Item, viewer: str | None = None) -> str:
    """Who may answer it besides its owner ("" when nobody)."""
    if not item.delegate_id:
        return ""
    if viewer and viewer == item.delegate_id:
        return f"🤝 Delegated to you by {user(item.owner_id)}"
    return f"🤝 Delegated to {user(item.delegate_id)}"


def item_line(item: Item, tz: str | None, now: datetime | None = None, viewer: str | None = None) -> str:
    parts = [f"{ITEM_ICONS.get(item.state, '')} *{esc(item.question)}*"]
    summary = answer_summary(item)
    if summary:
        parts.append(f"→ {summary}")
        if item.state == ItemState.BLOCKED:
            parts.append(due_text(item, tz, now))
        if item.state == ItemState.DONE and item.note:
            parts.append(f"_{esc(clip(item.note, 500))}_")
        if item.evidence:
            parts.append(link(item.evidence, "Evidence"))
    else:
        parts.append(due_text(item, tz, now))
        if now is not None and item.is_open and not is_open_yet(item, now):
            parts.append(f"🔒 _Opens {day(item.opens_at, tz)}: it can only be answered close to the launch._")
        if item.action:
            parts.append(esc(item.action))
        if item.why:
            parts.append(f"_Why: {esc(item.why)}_")
        if item.link:
            parts.append(link(item.link, "How to"))
    if item.delegate_id:
        parts.append(delegated_note(item, viewer))
    return clip("\n".join(parts))


def menu_options(item: Item) -> list[Option]:
    """The overflow fits the state: no "Not applicable" on an n/a item, "Reopen" once answered,
    "Delegate…" while open (or to change / remove a delegate already set)."""
    ops = []
    if item.state != ItemState.NA:
        ops.append(("na", "Not applicable…"))
    ops.append(("blocked", "Update blocker…" if item.state == ItemState.BLOCKED else "Blocked…"))
    if item.state in (ItemState.DONE, ItemState.NA):
        ops.append(("reopen", "Reopen"))
    if item.is_open or item.delegate_id:
        ops.append(("delegate", "Change delegate…" if item.delegate_id else "Delegate…"))
    ops.append(("reassign", "Reassign…"))
    return [Option(value=ItemAction(item=item.id, op=op).encode(), text=label) for op, label in ops]


def roster_blocks(launch: Launch, roster: list[tuple[str, list[str]]], closed: bool) -> list:
    """Who each role resolved to for this launch, and a way to add whoever is missing."""
    lines = [f"• {esc(role.replace('_', ' ').capitalize())}: " + ", ".join(user(u) for u in people[:10])
             for role, people in roster]
    out: list = [SectionBlock(text=MarkdownTextObject(text=clip("*Who is on this launch*\n" + "\n".join(lines))))]
    if not closed:
        out.append(ActionsBlock(block_id=f"roster-{launch.id}", elements=[ButtonElement(
            text="Someone's missing…", action_id=f"{Action.ROSTER_ADD}", value=str(launch.id))]))
    return out


def item_controls(item: Item, now: datetime | None = None) -> ActionsBlock:
    """With `now`, an item not open yet shows its opening date on the button instead of Done /
    Answer…; a click (this message may be read after it opens) works as usual or says why not yet."""
    value = ItemAction(item=item.id).button_value()
    elements: list = []
    if now is not None and item.is_open and not is_open_yet(item, now):
        action = Action.ITEM_DONE if item.answer_kind == "confirm" else Action.ITEM_ANSWER
        elements.append(ButtonElement(text=clip(f"🔒 Opens {item.opens_at:%a %d %b}", 75), action_id=f"{action}",
                                      value=value))
    elif item.is_open and item.answer_kind == "confirm":
        elements.append(ButtonElement(text="Done", action_id=f"{Action.ITEM_DONE}", value=value, style="primary"))
    elif item.is_open:
        elements.append(ButtonElement(text="Answer…", action_id=f"{Action.ITEM_ANSWER}", value=value, style="primary"))
    else:
        elements.append(ButtonElement(text="Edit answer", action_id=f"{Action.ITEM_ANSWER}", value=value))
    elements.append(OverflowMenuElement(action_id=f"{Action.ITEM_MENU}", options=menu_options(item)))
    return ActionsBlock(block_id=f"item-{item.id}", elements=elements)


STATUS_BANNERS: dict[str, str] = {
    LaunchStatus.ON_HOLD: "⏸️ *This launch is on hold* — no reminders until it resumes. You can still answer.",
    LaunchStatus.CANCELLED: "🛑 *This launch was cancelled* — nothing more is needed from you.",
    LaunchStatus.LAUNCHED: "🚀 *This launch is complete* — every gate passed. Thank you.",
}


def prompt(
    launch: Launch,
    gates: list[Gate],
    items: list[Item],
    tz: str | None,
    *,
    intro: str,
    snooze: bool = False,
    now: datetime | None = None,
    roster: list[tuple[str, list[str]]] | None = None,
) -> list:
    """`roster`: the launch's roles and people, shown under the stakeholder-list item."""
    blocks: list = [
        HeaderBlock(text=clip(f"{launch.key} · {esc(launch.name)}", 150)),
        SectionBlock(text=MarkdownTextObject(text=clip(intro))),
    ]
    banner = STATUS_BANNERS.get(launch.status)
    if banner:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=banner)]))
    closed = launch.status in (LaunchStatus.CANCELLED, LaunchStatus.LAUNCHED)
    shown = 0
    hidden = 0
    for gate in gates:
        mine = [i for i in items if i.gate_id == gate.id]
        if not mine:
            continue
        room = MAX_ITEMS - shown
        if room <= 0:
            hidden += len(mine)
            continue
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=f"*{esc(gate.name)}* gate · due {day(gate.due_at, tz)}")]))
        for item in mine[:room]:
            blocks.append(SectionBlock(block_id=f"q-{item.id}",
                                       text=MarkdownTextObject(text=item_line(item, tz, now))))
            if not closed:
                blocks.append(item_controls(item, now))
            if roster is not None and item.item_key == ROSTER_ITEM:
                blocks.extend(roster_blocks(launch, roster, closed))
        shown += min(room, len(mine))
        hidden += max(0, len(mine) - room)
    if hidden:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=f"…and {hidden} more — see the launchgate Home tab.")]))
    if snooze and not closed:
        blocks.append(snooze_actions(launch.id))
    return blocks


def snooze_actions(launch_id: int, until_due: bool = True) -> ActionsBlock:
    """Snooze buttons for a nudge; "Until due" only while something is not yet due."""
    choices = [("1d", "Snooze 1 day"), ("3d", "Snooze 3 days")] + ([("due", "Until due")] if until_due else [])
    return ActionsBlock(block_id="snooze", elements=[
        ButtonElement(text=label, action_id=f"{Action.SNOOZE}:{key}", value=SnoozeValue(launch=launch_id, choice=key).encode())
        for key, label in choices
    ])


def intro_text(launch: Launch, count: int) -> str:
    return (f"{user(launch.owner_id)} opened *{esc(launch.name)}*, launching {day(launch.launch_date)}. "
            f"You own {count} readiness item{'s' if count != 1 else ''}; answer them here as you go. "
            f"Readiness lead: {user(launch.readiness_lead_id)}.")


def handover_intro(launch: Launch, by: str) -> str:
    return (f"{user(by)} handed you a readiness item on *{esc(launch.name)}*, launching {day(launch.launch_date)}. "
            f"Answer it here as you go. Readiness lead: {user(launch.readiness_lead_id)}.")
