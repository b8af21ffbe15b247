"""`/launch timeline`: the recent audit trail as readable lines, newest first."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from slack_sdk.models.blocks import ContextBlock, HeaderBlock, MarkdownTextObject, SectionBlock

from bot.services.timeline import SYSTEM, Entry, Mention
from models import Launch

from .text import clip, esc, user

MAX_BLOCKS = 50
SECTION_CHARS = 2900


def stamp(at: datetime, tz: str | None) -> str:
    """`Tue 3 Aug 14:02` in the reader's time zone."""
    try:
        local = at.astimezone(ZoneInfo(tz or "UTC"))
    except ZoneInfoNotFoundError:
        local = at
    return f"{local:%a} {local.day} {local:%b %H:%M}"


def line(entry: Entry, tz: str | None) -> str:
    who = "launchgate" if entry.actor == SYSTEM else user(entry.actor)
    phrase = "".join(user(p.user_id) if isinstance(p, Mention) else esc(p) for p in entry.parts)
    return clip(f"{stamp(entry.at, tz)} · {who} {phrase}", 1000)


def timeline_blocks(launch: Launch, entries: list[Entry], tz: str | None, total: int) -> list:
    blocks: list = [HeaderBlock(text=clip(f"Timeline · {launch.key} · {launch.name}", 150))]
    if not entries:
        return blocks + [SectionBlock(text="Nothing has happened yet.")]
    chunk, in_chunk, shown = "", 0, 0
    for entry in entries:
        text = " ".join(line(entry, tz).split())
        if chunk and len(chunk) + len(text) + 1 > SECTION_CHARS:
            if len(blocks) >= MAX_BLOCKS - 2:
                chunk = ""
                break
            blocks.append(SectionBlock(text=MarkdownTextObject(text=chunk)))
            shown += in_chunk
            chunk, in_chunk = "", 0
        chunk = f"{chunk}\n{text}" if chunk else text
        in_chunk += 1
    if chunk:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=chunk)))
        shown += in_chunk
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text=clip(
        f"Newest first · times in {esc(tz or 'UTC')} · showing {shown} of {total} events. "
        f"The full record: `launchgate export {launch.key} --format csv`."))]))
    return blocks
