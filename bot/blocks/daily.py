"""One message a day per person across launches: the grouped reminder and the grouped escalation.

Both are a list of launches, most urgent first, each one section with its counts and its most
urgent items; past `MAX_LAUNCHES` the rest fold into "…and N more launches" pointing at the Home
tab. A message is at most 6 + MAX_LAUNCHES blocks and every section is clipped, so a person in any
number of launches stays inside Slack's limits (50 blocks, 3,000 characters a section).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from slack_sdk.models.blocks import (
    ActionsBlock,
    ButtonElement,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.codecs import SnoozeValue
from models import Item, Launch

from .ids import Action
from .launch_views import ITEM_ICONS
from .text import clip, day, esc, user

MAX_LAUNCHES = 8     # launches shown in full; the rest are folded into one line
MAX_LINES = 3        # items listed per launch (its most urgent)


@dataclass
class Part:
    """One launch in a person's daily message: their items there, most urgent first."""

    launch: Launch
    items: list[Item]
    overdue: int = 0
    role: str = ""              # escalations: "readiness lead" / "launch owner"
    covering: list[str] = field(default_factory=list)  # owners this person stands in for (away)

    @property
    def urgency(self) -> tuple:
        return (-self.overdue, min((i.due_at for i in self.items), default=datetime.max), self.launch.id)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}{'es' if word.endswith('ch') else 's'}"


def home_button(home_url: str | None) -> ButtonElement:
    """Open the App Home (a deep link when the app's ids are configured) — else refresh it."""
    if home_url:
        return ButtonElement(text="Open your Home tab", action_id="home.open", url=home_url)
    return ButtonElement(text="Update your Home tab", action_id=Action.HOME_REFRESH, value="refresh")


def _fold(parts: list[Part], what: str, home_url: str | None) -> list:
    if len(parts) <= MAX_LAUNCHES:
        return [ActionsBlock(block_id="daily-home", elements=[home_button(home_url)])]
    rest = parts[MAX_LAUNCHES:]
    count = sum(len(p.items) for p in rest)
    return [
        ContextBlock(elements=[MarkdownTextObject(text=clip(
            f"…and {_plural(len(rest), 'more launch')}"
            f" ({_plural(count, what)}): every one is on your launchgate *Home* tab."))]),
        ActionsBlock(block_id="daily-home", elements=[home_button(home_url)]),
    ]


def _item_line(item: Item, tz: str | None, now: datetime, *, owner: bool) -> str:
    late = " · *overdue*" if item.due_at < now else ""
    who = f" — {user(item.owner_id)}" if owner else ""
    return f"{ITEM_ICONS.get(item.state, '')} {esc(clip(item.question, 150))}{who} · due {day(item.due_at, tz)}{late}"


def _launch_section(part: Part, tz: str | None, now: datetime, *, owners: bool, accessory=None) -> SectionBlock:
    launch = part.launch
    counts = _plural(len(part.items), "item") + (f", {part.overdue} overdue" if part.overdue else "")
    extra = f" · as {part.role}" if part.role else ""
    if part.covering:
        extra += " · covering for " + ", ".join(user(u) for u in part.covering)
    lines = [_item_line(i, tz, now, owner=owners) for i in part.items[:MAX_LINES]]
    if len(part.items) > MAX_LINES:
        lines.append(f"…and {len(part.items) - MAX_LINES} more · `/launch status {launch.key}`")
    return SectionBlock(block_id=f"daily-{launch.id}", text=MarkdownTextObject(text=clip(
        f"*{launch.key} · {esc(clip(launch.name, 120))}* — {counts}{extra}\n" + "\n".join(lines))),
        accessory=accessory)


def nudge_day_text(parts: list[Part]) -> str:
    items = sum(len(p.items) for p in parts)
    overdue = sum(p.overdue for p in parts)
    return (f"Reminder: {_plural(items, 'item')} in {_plural(len(parts), 'launch')} need your answer"
            + (f" ({overdue} overdue)" if overdue else ""))


def nudge_day(parts: list[Part], tz: str | None, *, now: datetime, home_url: str | None = None,
              weekly: bool = False) -> list:
    """Today's reminder across launches: a section per launch with a snooze button for that launch."""
    parts = sorted(parts, key=lambda p: p.urgency)
    title = "⏰ Your weekly readiness summary" if weekly else "⏰ Your readiness reminders for today"
    blocks: list = [HeaderBlock(text=title),
                    SectionBlock(text=MarkdownTextObject(text=clip(
                        nudge_day_text(parts) + ". Most urgent first; answer them on your Home tab or in each "
                        "launch's prompt.")))]
    for part in parts[:MAX_LAUNCHES]:
        snooze = ButtonElement(text="Snooze 1 day", action_id=f"{Action.SNOOZE}:1d:{part.launch.id}",
                               value=SnoozeValue(launch=part.launch.id, choice="1d").encode())
        blocks.append(_launch_section(part, tz, now, owners=bool(part.covering), accessory=snooze))
    return blocks + _fold(parts, "item", home_url)


def escalation_day_text(parts: list[Part]) -> str:
    overdue = sum(len(p.items) for p in parts)
    return (f"Overdue: {_plural(overdue, 'item')} in {_plural(len(parts), 'launch')} (escalated to you)")


def escalation_day(parts: list[Part], tz: str | None, *, now: datetime, home_url: str | None = None) -> list:
    """Today's escalation across launches: overdue items with their owners, per launch."""
    parts = sorted(parts, key=lambda p: p.urgency)
    blocks: list = [HeaderBlock(text="🚨 Overdue in your launches"),
                    SectionBlock(text=MarkdownTextObject(text=clip(
                        escalation_day_text(parts) + ". Their owners have been reminded daily; chase, reassign "
                        "or waive them (`/launch status KEY` lists each launch's items with their menus).")))]
    for part in parts[:MAX_LAUNCHES]:
        blocks.append(_launch_section(part, tz, now, owners=True))
    return blocks + _fold(parts, "overdue item", home_url)


def all_set(icon: str) -> list:
    """The day's message once nothing in it needs anyone: no buttons left to click."""
    return [SectionBlock(text=MarkdownTextObject(text=f"{icon} All set: everything in today's message has been "
                                                      "answered, waived or moved. Thank you."))]
