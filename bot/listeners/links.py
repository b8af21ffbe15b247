"""`/launch current LR-12 item-key why…`: the owner confirms a page flagged "possibly stale" is current."""
from __future__ import annotations

from bot.db import unit_of_work
from bot.runtime import Runtime
from bot.services import links

from .common import ephemeral

USAGE = "Use `/launch current LR-12 item-key why the page is current` (the ⚠ on the status card names the item)."


def current_command(rt: Runtime, ack, client, body, args: list[str]):
    if len(args) < 3:
        ack(ephemeral(USAGE, escape=False))
        return
    with unit_of_work(rt.ctx.engine) as session:
        count = links.confirm_stale_by_key(session, args[0], args[1], " ".join(args[2:]), actor=body["user_id"],
                                           now=rt.ctx.now())
    ack(ephemeral(f"Thanks — {count} page(s) of {args[1]} confirmed as current; the ⚠ is gone from "
                  f"{args[0].upper()}'s status card."))
    rt.kick()
