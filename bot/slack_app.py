"""The Bolt app: listeners are registered here and nothing else happens."""
from __future__ import annotations

import logging

from slack_bolt import App

from bot.listeners import commands, gates, home, items, launch_edit, launch_modal
from bot.listeners.common import inject_runtime
from bot.runtime import Runtime

log = logging.getLogger(__name__)

# Every module whose `register(app)` lists its module-level listeners.
LISTENERS = (commands, launch_modal, items, launch_edit, gates, home)


class _TokenNoticeFilter(logging.Filter):
    """Bolt reads SLACK_BOT_TOKEN itself and warns that the client we pass wins; that is the
    point (our client carries SLACK_API_URL and retry handlers), so the warning is noise."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "`token` will be unused" not in record.getMessage()


def create_app(rt: Runtime) -> App:
    settings = rt.ctx.settings
    bolt_log = logging.getLogger("slack_bolt.App")
    if not any(isinstance(f, _TokenNoticeFilter) for f in bolt_log.filters):
        bolt_log.addFilter(_TokenNoticeFilter())
    app = App(
        signing_secret=settings.slack_signing_secret or "socket-mode-unused",
        client=rt.listener_client or rt.client,
        token_verification_enabled=False,
        ignoring_self_events_enabled=True,
    )
    app.middleware(inject_runtime(rt))
    for module in LISTENERS:
        module.register(app)

    @app.error
    def _on_error(error, body, logger):
        logger.exception("unhandled error in listener: %s", error)

    return app
