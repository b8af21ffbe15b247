"""Escaping and small text helpers for mrkdwn."""
from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

SECTION_MAX = 3000
PLAIN_MAX = 150


def esc(value: object) -> str:
    """Escape user text for mrkdwn so `<!channel>` or `<http://x|y>` stay inert."""
    return str(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def clip(text: str, limit: int = SECTION_MAX) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def user(user_id: str | None) -> str:
    return f"<@{user_id}>" if user_id else "_unassigned_"


def link(url: str | None, label: str) -> str:
    """A link only for http(s) URLs; the label is escaped, the URL too."""
    if not url or not url.startswith(("http://", "https://")) or any(c in url for c in "<>| "):
        return esc(label)
    return f"<{esc(url)}|{esc(label)}>"


def clip_links(answer: dict, budget: int = 1200) -> str:
    """`FR: <link> · DE: <link>` for a one-link-per-market answer (mrkdwn), whole links only, within `budget`."""
    shown: list[str] = []
    for market, url in answer.items():
        part = f"{esc(market)}: {link(str(url), clip(str(url), 80))}"
        if sum(len(p) + 3 for p in shown) + len(part) > budget:
            return " · ".join(shown) + f" · and {len(answer) - len(shown)} more"
        shown.append(part)
    return " · ".join(shown)


def day(value: date | datetime, tz_name: str | None = None) -> str:
    if isinstance(value, datetime):
        try:
            value = value.astimezone(ZoneInfo(tz_name or "UTC"))
        except ZoneInfoNotFoundError:
            pass
        value = value.date()
    return value.strftime("%a %d %b %Y")


def when(value: datetime, tz_name: str | None = None) -> str:
    try:
        zone = ZoneInfo(tz_name or "UTC")
    except ZoneInfoNotFoundError:
        zone = ZoneInfo("UTC")
    local = value.astimezone(zone)
    return local.strftime("%a %d %b %Y %H:%M ") + (local.tzname() or "")
