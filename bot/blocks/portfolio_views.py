"""The weekly portfolio digest as Block Kit: a handful of sections, far inside Slack's limits."""
from __future__ import annotations

from slack_sdk.models.blocks import ContextBlock, DividerBlock, HeaderBlock, MarkdownTextObject, SectionBlock

from bot.services.portfolio_report import Portfolio

from .text import clip, day, esc

SHOWN = 15


def _lines(rows: list[str], more: str) -> str:
    out = rows[:SHOWN]
    if len(rows) > SHOWN:
        out.append(f"…and {len(rows) - SHOWN} more {more}")
    return "\n".join(out)


def portfolio_digest(p: Portfolio) -> tuple[str, list]:
    n = len(p.launches)
    text = f"Launch portfolio: {n} open launch{'es' if n != 1 else ''}, {len(p.at_risk)} at risk"
    blocks: list = [HeaderBlock(text=clip(f"📋 Launch portfolio · week of {day(p.generated.date())}", 150))]

    def section(title: str, rows: list[str], empty: str, more: str) -> None:
        body = _lines(rows, more) if rows else f"_{empty}_"
        blocks.append(SectionBlock(text=MarkdownTextObject(text=clip(f"*{title}*\n{body}"))))

    section("By next gate", [
        f"• *{line.key}* {esc(line.name)}{' 🔒' if line.private else ''} — "
        + (f"{esc(line.current.name)} due {day(line.current.due)}" if line.current else "every gate passed")
        + f" · launches {day(line.launch_date)} · {line.percent}% done"
        for line in sorted(p.launches, key=lambda x: (x.current.due if x.current else x.launch_date, x.key))
    ], "No open launches.", "launches")
    section("At risk", [f"• *{line.key}* {esc(line.name)}: {', '.join(line.risks)}" for line in p.at_risk],
            "Nothing held, overdue or blocked.", "at risk")
    section("Decided in the last 7 days", [
        f"• {d['at']} · *{d['key']}* {esc(d['launch'])} · {esc(d['gate'])}: *{d['outcome']}*" for d in p.decisions
    ], "No gate decisions.", "decisions")
    section("Launching in the next 7 days", [
        f"• {day(line.launch_date)} · *{line.key}* {esc(line.name)} ({line.status.lower()})" for line in p.next_week
    ], "No launch dates this week.", "launches")
    blocks.append(DividerBlock())
    blocks.append(ContextBlock(elements=[MarkdownTextObject(
        text="`/launch list overdue` · `/launch list state:held` · `launchgate portfolio --html` for the timeline")]))
    return text, blocks
