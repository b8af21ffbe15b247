"""Which function renders each outbox kind: the whole table, written out.

Kinds missing here are actions rather than messages and are handled by the
worker itself: creating the channel, invites, profile look-ups and Home
publishing (see `ACTIONS`). A new kind is added to `Kind` and to this table.
"""
from __future__ import annotations

from bot.services.gates import GateKind
from bot.services.outbox import Kind

from . import capacity_renderers, delegate_renderers, gate_renderers, reminder_renderers, renderers
from .renderers import Renderer

RENDERERS: dict[str, Renderer] = {
    Kind.INTRO_DM: renderers.render_prompt,
    Kind.PROMPT_REFRESH: renderers.render_prompt,
    Kind.STATUS_CARD: renderers.render_status_card,
    Kind.ANNOUNCE: renderers.render_announce,
    Kind.TEXT: renderers.render_text,
    Kind.ADMIN_ALERT: renderers.render_text,
    Kind.EPHEMERAL: renderers.render_ephemeral,
    Kind.REVIEW: gate_renderers.render_review,
    Kind.REVIEW_REFRESH: gate_renderers.render_review,
    GateKind.NOTICE: gate_renderers.render_gate_notice,
    GateKind.LAUNCHES: gate_renderers.render_launches_notice,
    Kind.NUDGE: reminder_renderers.render_nudge_row,
    Kind.NUDGE_REFRESH: reminder_renderers.render_nudge_refresh,
    Kind.ESCALATION: reminder_renderers.render_escalation_row,
    Kind.ESCALATION_REFRESH: reminder_renderers.render_escalation_refresh,
    Kind.NUDGE_DAY: reminder_renderers.render_nudge_day,
    Kind.NUDGE_DAY_REFRESH: reminder_renderers.render_nudge_day_refresh,
    Kind.ESCALATION_DAY: reminder_renderers.render_escalation_day,
    Kind.ESCALATION_DAY_REFRESH: reminder_renderers.render_escalation_day_refresh,
    Kind.DIGEST: reminder_renderers.render_digest,
    Kind.DATES_MOVED: reminder_renderers.render_dates_moved,
    Kind.HANDOVER: reminder_renderers.render_handover,
    Kind.DELEGATED: delegate_renderers.render_delegated,
    Kind.DELEGATE_REFRESH: delegate_renderers.render_delegate_refresh,
    Kind.PORTFOLIO_DIGEST: renderers.render_portfolio_digest,
    Kind.ACTUALS_PROMPT: capacity_renderers.render_actuals_prompt,
}

# Sent by the worker without a renderer: they change Slack or the cache, they post no message.
ACTIONS = frozenset({Kind.CREATE_CHANNEL, Kind.INVITE, Kind.PROFILE, Kind.HOME_REFRESH, Kind.CHANNEL_TOPIC,
                     Kind.WEBHOOK})
