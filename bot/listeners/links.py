"""`/launch current LR-12 item-key why…`: the owner confirms a page flagged "possibly stale" is current."""
from __future__ import annotations

from slack_bolt import Ack
from slack_sdk import WebClient

from bot.runtime import Runtime
from bot.services import links

from .common import ephemeral

USAGE = "Use `/launch current LR-12 item-key why the page is current` (the ⚠ on the status card names the item)."


def current_command(rt: Runtime, ack: Ack, client: WebClient, body: dict, args: list[str]) -> None:
    if len(args) < 3:
        ack(ephemeral(USAGE, escape=False))
        return
    with rt.unit_of_work() as session:
        count = links.confirm_stale_by_key(session, args[0], args[1], " ".join(args[2:]), actor=body["user_id"],
                                           now=rt.ctx.now())
    ack(ephemeral(f"Thanks — {count} page(s) of {args[1]} confirmed as current; the ⚠ is gone from "
                  f"{args[0].upper()}'s status card."))
    rt.kick()
