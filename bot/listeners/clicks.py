"""Done and Reopen: the click is saved, Slack gets its ack, then the change is made.

Saving the click is one short transaction (bot/services/clicks.py), so the ack does not wait
for the change — on a busy server that is most of the request. The change runs on the
runtime's click pool right after the ack, in its own transaction with the retry net of every
command; a refusal reaches only the person, through the click's response_url. Clicks their
process did not apply (it stopped in between, or the database was away) are applied by the
scheduler (`apply_due`), on any replica.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from bot import metrics
from bot.runtime import Runtime
from bot.services import clicks
from bot.services.errors import ServiceError

from .common import from_home, problem, tell
from .home import settled

log = logging.getLogger(__name__)


def take(rt: Runtime, ack, body: dict, client, respond, action: str, item_id: int) -> None:
    """Save the click, ack, and apply it on the click pool."""
    actor = body["user"]["id"]
    click_id = rt.transaction(lambda session: clicks.record(session, action, actor, item_id, now=rt.ctx.now(),
                                                            response_url=body.get("response_url"),
                                                            home=from_home(body)))
    ack()
    rt.apply_later(lambda: apply(rt, click_id, lambda reply: tell(client, body, respond, reply)))


def apply(rt: Runtime, click_id: int, told: Callable[[dict], None]) -> None:
    """Apply one saved click; a refusal is told to the person and the click dropped; anything
    else leaves it for the scheduler's next attempt."""
    try:
        click = rt.transaction(lambda session: clicks.apply(session, click_id, rt.ctx.settings))
    except ServiceError as exc:
        rt.transaction(lambda session: clicks.discard(session, click_id))
        told(problem(exc))
        return
    except Exception as exc:  # noqa: BLE001 - acked already: the row stays and is tried again
        log.error("click %s not applied (%s: %s); the scheduler tries again", click_id, type(exc).__name__,
                  str(exc)[:300])
        log.debug("traceback of the failed click", exc_info=exc)
        metrics.UNHANDLED_ERRORS.labels("block_actions").inc()
        return
    if click is not None:
        settled(rt, click.actor, click.home)


def apply_due(rt: Runtime, now: datetime | None = None) -> int:
    """The scheduler's share: clicks their process did not apply, each in its own transaction.
    A refusal goes to the click's response_url (Slack keeps it 30 minutes), else to the person's DM."""
    claimed = rt.transaction(lambda session: clicks.claim_due(session, now or rt.ctx.now()))
    for click_id, actor, url in claimed:
        body = {"user": {"id": actor}, "response_url": url}
        apply(rt, click_id, lambda reply, body=body: tell(rt.listener_client or rt.client, body, None, reply))
    return len(claimed)
