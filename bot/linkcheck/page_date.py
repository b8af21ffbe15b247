"""The date a page gives itself, read from the first bytes of its body (never stored).

A template item can say where its evidence page states when it was last updated
(`updated_date: {meta: article:modified_time}` or `{json: updated_at}`); many
help centres send no `Last-Modified`, or one that changes on every request, but
carry the article's own date in a <meta> tag or their JSON API's answer.
"""
from __future__ import annotations

import email.utils
import re
from datetime import datetime, timezone
from html.parser import HTMLParser

MAX_DATE = 64


def parse_date(value: str | None) -> datetime | None:
    """ISO 8601 (`2027-08-03`, `2027-08-03T10:00:00Z`, with an offset) or an HTTP date; UTC."""
    value = (value or "").strip()[:MAX_DATE]
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        try:
            parsed = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
    return parsed.replace(tzinfo=timezone.utc) if parsed.tzinfo is None else parsed.astimezone(timezone.utc)


class _MetaFinder(HTMLParser):
    def __init__(self, name: str):
        super().__init__(convert_charrefs=True)
        self.name, self.found = name.lower(), None

    def handle_starttag(self, tag, attrs):
        if tag != "meta" or self.found is not None:
            return
        attrs = {k.lower(): (v or "") for k, v in attrs}
        if self.name in (attrs.get(k, "").lower() for k in ("name", "property", "itemprop", "http-equiv")):
            self.found = attrs.get("content")


def _meta(text: str, name: str) -> str | None:
    finder = _MetaFinder(name)
    try:
        finder.feed(text)
    except Exception:  # a cut-off or broken page: whatever was found before it counts
        pass
    return finder.found


def _json(text: str, key: str) -> str | None:
    """The first `"key": "value"` (a JSON API answer, or JSON-LD inside HTML); a cut-off body is fine."""
    match = re.search(r'"' + re.escape(key) + r'"\s*:\s*"([^"\\]{1,64})"', text)
    return match.group(1) if match else None


def read(rule: str | None, head: bytes) -> datetime | None:
    """The page's date per the item's rule (`meta:NAME` / `json:KEY`), or None."""
    if not rule or not head:
        return None
    kind, _, name = rule.partition(":")
    text = head.decode("utf-8", errors="replace")
    raw = _meta(text, name) if kind == "meta" else _json(text, name) if kind == "json" else None
    return parse_date(raw)
