"""Publishing a person's App Home (HOME_REFRESH outbox rows): queued when they open it,
click Refresh or act from it (bot.services.home.show), and, once they have opened it,
after changes elsewhere (bot/services/effects.py), so a tab left open stays true."""
from __future__ import annotations

from slack_sdk import WebClient

from bot.blocks import home_views
from bot.db import read_only
from bot.services import home
from bot.services.context import AppContext


def publish_home(ctx: AppContext, client: WebClient, user_id: str) -> str | None:
    """views.publish the Home tab; returns the view id (None: never opened, nothing sent).
    Slack errors propagate: the worker retries them."""
    with read_only(ctx.engine) as session:
        if not home.has_opened(session, user_id):
            return None
        data = home.home_for(session, user_id)
    return client.views_publish(user_id=user_id, view=home_views.home_view(data))["view"]["id"]
