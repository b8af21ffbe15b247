"""Spotting control sequences an escaped user string could never produce.

`<!channel>`, `<!here>`, `<!everyone>` and `<!subteam^…>` ping people;
`<https://evil.example|https://bank.example>` shows one URL and opens another.
The bot escapes user text (`&lt;`), so any of these in what it sends means
something slipped through unescaped. Every text string is scanned — plain_text
as well as mrkdwn — because an escaped string produces none of them anywhere.
"""
from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

BROADCAST = re.compile(r"<!(?:channel|here|everyone)(?:\|[^>]*)?>|<!subteam\^[^>]*>", re.IGNORECASE)
LINK = re.compile(r"<((?:https?|mailto|ftp)://[^|>]*|mailto:[^|>]*)\|([^>]*)>", re.IGNORECASE)
URLISH = re.compile(r"^\s*(?:[a-z][a-z0-9+.-]*://)?((?:[a-z0-9-]+\.)+[a-z]{2,})(?::\d+)?(?:[/?#]\S*)?\s*$",
                    re.IGNORECASE)
TEXT_KEYS = {"text", "pretext", "fallback", "title", "footer", "author_name"}


def text_has_control(text: str) -> bool:
    if BROADCAST.search(text):
        return True
    for url, label in LINK.findall(text):
        shown = URLISH.match(label)
        if shown and _host(url) != shown.group(1).lower():
            return True
    return False


def _host(url: str) -> str:
    host = urlsplit(url).hostname or ""
    return host.lower().removeprefix("www.")


def mentions_broadcast(payload: Any) -> bool:
    """True if any text in a message/view payload (text, blocks, attachments, view) pings or disguises."""
    return any(text_has_control(s) for s in _texts(payload))


def _texts(node: Any, key: str | None = None):
    if isinstance(node, str):
        if key in TEXT_KEYS or key is None:
            yield node
    elif isinstance(node, dict):
        kind = node.get("type")
        if kind == "broadcast" or kind == "usergroup":   # rich_text elements that ping
            yield "<!channel>"
        if kind == "link" and isinstance(node.get("url"), str) and isinstance(node.get("text"), str):
            yield f"<{node['url']}|{node['text']}>"
        for k, v in node.items():
            if k == "fields" and isinstance(v, list):  # attachment fields: title/value are shown
                for f in v:
                    if isinstance(f, dict):
                        yield from (s for s in (f.get("title"), f.get("value")) if isinstance(s, str))
                        yield from _texts(f.get("text"), "text")
            elif isinstance(v, (dict, list)) or k in TEXT_KEYS:
                yield from _texts(v, k)
    elif isinstance(node, list):
        for item in node:
            yield from _texts(item, key if isinstance(item, str) else None)


def request_mentions_broadcast(params: dict) -> bool:
    """Scan the parts of a Web API request Slack shows to people."""
    return mentions_broadcast({k: params[k] for k in ("text", "blocks", "attachments", "view") if k in params})
