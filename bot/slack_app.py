"""The Bolt app: listeners are registered here and nothing else happens."""
from __future__ import annotations

import json
import logging

from slack_bolt import App, BoltResponse

from bot import logs, metrics
from bot.listeners import adhoc, capacity, commands, gates, home, items, launch_edit, launch_modal, people
from bot.listeners.common import SORRY, inject_runtime
from bot.runtime import Runtime

log = logging.getLogger(__name__)

# Every module whose `register(app)` lists its module-level listeners.
LISTENERS = (commands, launch_modal, items, launch_edit, gates, home, adhoc, capacity, people)


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
        name="launchgate",  # without a name Bolt walks the call stack for one: ~0.2 s of every start
        signing_secret=settings.slack_signing_secret or "socket-mode-unused",
        client=rt.listener_client or rt.client,
        token_verification_enabled=False,
        ignoring_self_events_enabled=True,
        listener_executor=logs.ContextExecutor(max_workers=5),  # listeners keep the request's log ids
    )
    app.middleware(logs.slack_request_middleware)
    app.middleware(inject_runtime(rt))
    for module in LISTENERS:
        module.register(app)

    @app.error
    def _on_error(error, body):
        return last_resort(error, body)

    return app


def last_resort(error: Exception, body) -> BoltResponse:
    """Bolt's error handler: a safety net, not the way bad input is handled (listeners parse
    payloads and answer problems themselves). One log line, a polite 200, never a 500."""
    body = body if isinstance(body, dict) else {}
    kind = body.get("type") or ("slash_command" if body.get("command") else "event")
    log.error("unhandled %s in a %s request: %s", type(error).__name__, kind, str(error)[:300])
    log.debug("traceback of the unhandled error", exc_info=error)
    metrics.UNHANDLED_ERRORS.labels(kind if isinstance(kind, str) else "other").inc()
    if kind == "view_submission":
        view = body.get("view") if isinstance(body.get("view"), dict) else {}
        inputs = [b.get("block_id") for b in view.get("blocks") or [] if isinstance(b, dict) and b.get("type") == "input"]
        if inputs and isinstance(inputs[0], str):  # the modal stays open with what was typed
            return _json({"response_action": "errors", "errors": {inputs[0]: SORRY}})
        return BoltResponse(status=200, body="")
    if kind == "slash_command":
        return _json({"response_type": "ephemeral", "text": SORRY})
    return BoltResponse(status=200, body="")


def _json(payload: dict) -> BoltResponse:
    return BoltResponse(status=200, body=json.dumps(payload), headers={"content-type": "application/json"})
