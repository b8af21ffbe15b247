"""Delegation messages: the delegate's DM (with the item's controls) and the owner's note."""
from __future__ import annotations

from datetime import datetime

from slack_sdk.models.blocks import ContextBlock, MarkdownTextObject, SectionBlock

from models import Gate, Item, Launch, LaunchStatus

from .prompts import STATUS_BANNERS, item_controls, item_line
from .text import clip, day, esc, user


def _what(item: Item, launch: Launch, tz: str | None) -> str:
    return f"*{esc(item.question)}* ({launch.key} · {esc(launch.name)}, due {day(item.due_at, tz)})"


def delegate_text(launch: Launch, item: Item) -> str:
    return f"{launch.key} {esc(launch.name)}: {user(item.owner_id)} delegated an item to you"


def delegate_dm(launch: Launch, gate: Gate | None, item: Item, tz: str | None, *, by: str, viewer: str,
                now: datetime) -> list:
    """To the delegate while they are one: who delegated which item, due when, answerable right here."""
    owner = user(item.owner_id)
    where = f"*{launch.key} · {esc(launch.name)}*"
    if by == viewer:
        lead = f"🤝 You are now the delegate for {owner}'s item on {where}"
    elif by == item.owner_id:
        lead = f"🤝 {owner} delegated their item on {where} to you"
    else:
        lead = f"🤝 {user(by)} delegated {owner}'s item on {where} to you"
    text = (f"{lead}, due *{day(item.due_at, tz)}*. "
            "You can answer it for them right here or on your launchgate Home tab.")
    gate_name = f"\n_{esc(gate.name)} gate_" if gate else ""
    blocks: list = [SectionBlock(text=MarkdownTextObject(text=clip(text)))]
    banner = STATUS_BANNERS.get(launch.status)
    if banner:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=banner)]))
    blocks.append(SectionBlock(block_id=f"q-{item.id}", text=MarkdownTextObject(text=clip(
        item_line(item, tz, now, viewer) + gate_name))))
    if launch.status not in (LaunchStatus.CANCELLED, LaunchStatus.LAUNCHED):  # closed: nothing left to click
        blocks.append(item_controls(item, now))
    blocks.append(ContextBlock(elements=[MarkdownTextObject(
        text=f"{owner} stays the owner and gets its reminders; they and the readiness lead see your answer.")]))
    return blocks


def no_longer_delegate(launch: Launch, item: Item, tz: str | None, *, viewer: str) -> list:
    """The same DM once they are not the delegate any more: no controls left to click."""
    if item.owner_id == viewer:
        text = f"🔀 {_what(item, launch, tz)} is yours now: it is in your launch prompt."
    else:
        text = (f"🤝 {_what(item, launch, tz)} is no longer delegated to you; {user(item.owner_id)} has it. "
                "Nothing more to do on it.")
    return [SectionBlock(text=MarkdownTextObject(text=clip(text)))]


def owner_note(launch: Launch, item: Item, tz: str | None, *, by: str, delegate: str | None,
               old: str | None) -> list:
    """To the owner when someone else chose (or removed) their delegate."""
    if delegate:
        text = (f"🤝 {user(by)} delegated {_what(item, launch, tz)} to {user(delegate)}: they can answer it for "
                "you. You stay the owner and keep getting its reminders.")
    else:
        text = f"🤝 {user(by)} removed {user(old)} as the delegate of {_what(item, launch, tz)}."
    return [SectionBlock(text=MarkdownTextObject(text=clip(text)))]
