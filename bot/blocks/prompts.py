"""A stakeholder's live prompt: their items for one launch, with controls."""
from __future__ import annotations

import json

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

from models import Gate, Item, ItemState, Launch

from .ids import Action
from .launch_views import ITEM_ICONS
from .text import clip, day, esc, link, user

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
        weeks = answer.get("weekly_contacts") or []
        return (f"forecast {', '.join(str(w) for w in weeks)} extra contacts/week · AHT {answer.get('aht_minutes')} min · "
                f"SL {answer.get('sl_percent')}% in {answer.get('sl_seconds')}s · shrinkage {answer.get('shrinkage_percent')}%")
    if item.answer_kind == "link" and isinstance(answer, str):
        return link(answer, answer)
    if answer in (None, True, ""):
        return "done"
    return esc(clip(str(answer) + (f" {item.unit}" if item.unit else ""), 300))


def item_line(item: Item, tz: str | None) -> str:
    parts = [f"{ITEM_ICONS.get(item.state, '')} *{esc(item.question)}*"]
    summary = answer_summary(item)
    if summary:
        parts.append(f"→ {summary}")
    else:
        parts.append(f"Due {day(item.due_at, tz)}" + ("" if item.required else " · optional"))
        if item.action:
            parts.append(esc(item.action))
        if item.why:
            parts.append(f"_Why: {esc(item.why)}_")
        if item.link:
            parts.append(link(item.link, "How to"))
    return clip("\n".join(parts))


def item_controls(item: Item) -> ActionsBlock:
    value = str(item.id)
    elements: list = []
    if item.is_open and item.answer_kind == "confirm":
        elements.append(ButtonElement(text="Done", action_id=f"{Action.ITEM_DONE}", value=value, style="primary"))
    elif item.is_open:
        elements.append(ButtonElement(text="Answer…", action_id=f"{Action.ITEM_ANSWER}", value=value, style="primary"))
    else:
        elements.append(ButtonElement(text="Edit answer", action_id=f"{Action.ITEM_ANSWER}", value=value))
    menu = [Option(value=json.dumps({"i": item.id, "op": "na"}), text="Not applicable…"),
            Option(value=json.dumps({"i": item.id, "op": "blocked"}), text="Blocked…"),
            Option(value=json.dumps({"i": item.id, "op": "reassign"}), text="Reassign…")]
    elements.append(OverflowMenuElement(action_id=f"{Action.ITEM_MENU}", options=menu))
    return ActionsBlock(block_id=f"item-{item.id}", elements=elements)


def prompt(
    launch: Launch,
    gates: list[Gate],
    items: list[Item],
    tz: str | None,
    *,
    intro: str,
    snooze: bool = False,
) -> list:
    blocks: list = [
        HeaderBlock(text=clip(f"{launch.key} · {esc(launch.name)}", 150)),
        SectionBlock(text=MarkdownTextObject(text=clip(intro))),
    ]
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
            blocks.append(SectionBlock(block_id=f"q-{item.id}", text=MarkdownTextObject(text=item_line(item, tz))))
            blocks.append(item_controls(item))
        shown += min(room, len(mine))
        hidden += max(0, len(mine) - room)
    if hidden:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=f"…and {hidden} more — see the launchgate Home tab.")]))
    if snooze:
        blocks.append(ActionsBlock(block_id="snooze", elements=[
            ButtonElement(text="Snooze 1 day", action_id=f"{Action.SNOOZE}:1d", value=json.dumps({"l": launch.id, "s": "1d"})),
            ButtonElement(text="Snooze 3 days", action_id=f"{Action.SNOOZE}:3d", value=json.dumps({"l": launch.id, "s": "3d"})),
            ButtonElement(text="Until due", action_id=f"{Action.SNOOZE}:due", value=json.dumps({"l": launch.id, "s": "due"})),
        ]))
    return blocks


def intro_text(launch: Launch, count: int) -> str:
    return (f"{user(launch.owner_id)} opened *{esc(launch.name)}*, launching {day(launch.launch_date)}. "
            f"You own {count} readiness item{'s' if count != 1 else ''}; answer them here as you go. "
            f"Readiness lead: {user(launch.readiness_lead_id)}.")
