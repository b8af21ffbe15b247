"""Publishing a person's App Home: when they open it (listener) and, once they have,
after changes elsewhere (HOME_REFRESH outbox rows), so a tab left open stays true."""
from __future__ import annotations

from slack_sdk import WebClient

from bot.blocks import home_views
from bot.db import unit_of_work
from bot.services import home
from bot.services.context import AppContext


def publish_home(ctx: AppContext, client: WebClient, user_id: str, *, tz: str | None = None,
                 only_if_opened: bool = False) -> str | None:
    """views.publish the Home tab; returns the view id (None: never opened, nothing sent).
    Slack errors propagate: the listener logs them, the worker retries them."""
    with unit_of_work(ctx.engine) as session:
        if only_if_opened and not home.has_opened(session, user_id):
            return None
        if not only_if_opened:
            home.remember_opened(session, user_id, ctx.now())  # before publishing: no change can slip past
        data = home.home_for(session, user_id)
    data.tz = tz or data.tz
    return client.views_publish(user_id=user_id, view=home_views.home_view(data))["view"]["id"]
