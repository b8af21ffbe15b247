"""The App Home tab: approvals waiting for me, my open items, my launches.

Slack allows 100 blocks on a Home tab; lists are cut to fit and end with
"…and N more" so the view is always valid however busy someone is.
"""
from __future__ import annotations

from slack_sdk.models.blocks import (
    ActionsBlock,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot.services.away import SUMMARY_DAYS
from bot.services.home import Approval, Home, MyItem, MyLaunch
from models import LaunchStatus

from .gate_views import decide_buttons
from .ids import Action
from .launch_views import GATE_ICONS, ITEM_ICONS, STATUS_LABELS
from .prompts import delegated_note, item_controls
from .text import clip, day, esc, user

MAX_BLOCKS = 100
MAX_APPROVALS = 8
MAX_LAUNCHES = 10


def _more(count: int, what: str) -> ContextBlock:
    return ContextBlock(elements=[MarkdownTextObject(text=f"…and {count} more {what}")])


def _approval(a: Approval, tz: str | None) -> list:
    together = "".join(f" + *{esc(g.name)}* (fast path)" for g in a.together)
    text = (f"*{a.launch.key} · {esc(a.launch.name)}* — *{esc(a.gate.name)}*{together} is ready for your decision\n"
            f"{a.done}/{a.required} required items answered or waived · {a.go_votes} of {a.needed} Go vote"
            f"{'s' if a.needed != 1 else ''} · gate due {day(a.gate.due_at, tz)}")
    return [SectionBlock(text=MarkdownTextObject(text=clip(text))),
            decide_buttons(a.gate, a.gate.review_round, f"home-decide-{a.gate.id}")]


def _item(m: MyItem, tz: str | None, viewer: str) -> list:
    item = m.item
    paused = " · _launch on hold_" if m.launch.status == LaunchStatus.ON_HOLD else ""
    delegated = f"\n{delegated_note(item, viewer)}" if item.delegate_id else ""
    if m.covering:
        delegated += f"\n🏖️ Covering for {user(item.owner_id)} while they are away"
    text = (f"{ITEM_ICONS.get(item.state, '')} *{esc(clip(item.question, 500))}*\n"
            f"{m.launch.key} · {esc(m.launch.name)} · {esc(m.gate.name)} · due {day(item.due_at, tz)}"
            + ("" if item.required else " · optional") + paused + delegated)
    return [SectionBlock(block_id=f"home-q-{item.id}", text=MarkdownTextObject(text=clip(text))), item_controls(item)]


def _launch(m: MyLaunch, tz: str | None) -> SectionBlock:
    launch = m.launch
    progress = " › ".join(f"{esc(g.name)} {GATE_ICONS.get(g.status, '')}" for g in m.gates)
    role = "you own it" if m.role == "owner" else "you lead readiness"
    return SectionBlock(text=MarkdownTextObject(text=clip(
        f"*{launch.key} · {esc(launch.name)}* · {STATUS_LABELS.get(launch.status, launch.status)} · launches "
        f"{day(launch.launch_date)} · {role} · owner {user(launch.owner_id)}\n{progress} · {m.percent}% done")))


def _reminders(data: Home) -> list:
    """How this person is reminded: away or not, daily nudges or a weekly summary, with the switch."""
    if data.away_until:
        status = (f"🏖️ *Away through {day(data.away_until)}*: your items' reminders go to your role's backup and "
                  "nothing is escalated to you. `/launch away off` when you are back.")
    else:
        status = "Going away? `/launch away until 2027-03-01` sends your reminders to your role's backup meanwhile."
    if data.summary_days is None:
        how = "⏰ *Daily reminders* for every item that needs you."
        button = ButtonElement(text="Weekly summary instead", action_id=Action.REMINDER_SUMMARY,
                               value=f"weekly {SUMMARY_DAYS}")
    else:
        how = (f"🗓️ *Weekly summary* on Mondays; items due within {data.summary_days} "
               f"day{'s' if data.summary_days != 1 else ''} and overdue ones still come daily.")
        button = ButtonElement(text="Daily reminders", action_id=Action.REMINDER_SUMMARY, value="daily")
    return [SectionBlock(block_id="home-reminders", text=MarkdownTextObject(text=clip(f"{how}\n{status}")),
                         accessory=button)]


def home_view(data: Home) -> View:
    tz = data.tz
    blocks: list = [
        HeaderBlock(text="launchgate"),
        ActionsBlock(block_id="home-top", elements=[ButtonElement(text="Refresh", action_id=Action.HOME_REFRESH,
                                                                  value="refresh")]),
    ]
    approvals = data.approvals[:MAX_APPROVALS]
    launches = data.launches[:MAX_LAUNCHES]
    blocks += _reminders(data)
    # Fixed: 3 above, 3 headers, 3 dividers, 3 "…more" lines, 1 footer; items get what is left.
    room = MAX_BLOCKS - len(blocks) - 10 - max(2 * len(approvals), 1) - max(len(launches), 1)
    items = data.items[: max(room // 2, 0)]

    blocks.append(HeaderBlock(text=clip(f"Approvals waiting for you ({len(data.approvals)})", 150)))
    if not approvals:
        blocks.append(SectionBlock(text="Nothing to decide right now."))
    for a in approvals:
        blocks += _approval(a, tz)
    if len(data.approvals) > len(approvals):
        blocks.append(_more(len(data.approvals) - len(approvals), "approvals — see the review messages in your DMs"))
    blocks.append(DividerBlock())

    blocks.append(HeaderBlock(text=clip(f"Your open items ({len(data.items)})", 150)))
    if not data.items:
        blocks.append(SectionBlock(text="You have no open items. 🎉"))
    for m in items:
        blocks += _item(m, tz, data.user_id)
    if len(data.items) > len(items):
        blocks.append(_more(len(data.items) - len(items), "items — the soonest due are shown first"))
    blocks.append(DividerBlock())

    blocks.append(HeaderBlock(text=clip(f"Your launches ({len(data.launches)})", 150)))
    if not launches:
        blocks.append(SectionBlock(text="You don't own or lead any open launch. Start one with `/launch new`."))
    blocks += [_launch(m, tz) for m in launches]
    if len(data.launches) > len(launches):
        blocks.append(_more(len(data.launches) - len(launches), "launches — `/launch list` shows them all"))
    blocks.append(DividerBlock())
    blocks.append(ContextBlock(elements=[MarkdownTextObject(
        text="Answer items here or in your DMs · `/launch help` for commands")]))
    return View(type="home", blocks=blocks[:MAX_BLOCKS])
