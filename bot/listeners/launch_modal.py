"""Submitting the New launch modal."""
from __future__ import annotations

import logging

from slack_bolt import Ack, App, BoltContext

from bot.blocks import launch_views
from bot.blocks.gate_views import notice_modal
from bot.blocks.ids import Callback, Field
from bot.services import launches, policy
from bot.services.errors import FieldErrors, Forbidden

from .common import parse_date, runtime, view_state

log = logging.getLogger(__name__)

FIELD_BLOCKS = {
    "name": Field.NAME, "kind": Field.KIND, "markets": Field.MARKETS, "launch_date": Field.LAUNCH_DATE,
    "readiness_lead": Field.READINESS_LEAD, "brief": Field.BRIEF, "channel": Field.CHANNEL,
    "private": Field.PRIVATE,
}


def parse_form(values: dict) -> launches.LaunchForm:
    launch_date = parse_date(values.get(Field.LAUNCH_DATE))
    return launches.LaunchForm(
        name=values.get(Field.NAME) or "",
        kind=values.get(Field.KIND) or "",
        markets=list(values.get(Field.MARKETS) or []),
        launch_date=launch_date,
        readiness_lead_id=values.get(Field.READINESS_LEAD),
        brief=values.get(Field.BRIEF) or "",
        channel_id=values.get(Field.CHANNEL),
        private="private" in (values.get(Field.PRIVATE) or []),
    )


def submission_key(body: dict) -> str | None:
    """The modal's view id: Slack retries and a second press of Submit carry the same one."""
    view_id = (body.get("view") or {}).get("id")
    return f"view:{view_id}"[:64] if isinstance(view_id, str) and view_id else None


def submit(ack: Ack, body: dict, context: BoltContext) -> None:
    rt = runtime(context)
    user = body["user"]["id"]
    now = rt.ctx.now()
    try:
        form = launches.validate_form(parse_form(view_state(body)), rt.ctx.templates, now.date())
        template = rt.ctx.templates[form.kind]
        notes = rt.transaction(lambda session: launches.opening_notes(session, launches.open_launch(
            session, form, actor=user, template=template, now=now,
            launches_channel=rt.ctx.settings.launches_channel,
            reminder_policy=policy.for_template(rt.ctx.settings, template).as_dict(),
            idempotency_key=submission_key(body), settings=rt.ctx.settings,
        )))
    except FieldErrors as exc:
        ack(response_action="errors",
            errors={FIELD_BLOCKS.get(k, k): v for k, v in exc.errors.items()})
        return
    except Forbidden as exc:
        ack(response_action="update", view=notice_modal("New launch", str(exc)).to_dict())
        return
    if notes.unstaffed:  # roles fell back to the readiness lead: say so before the modal closes
        ack(response_action="update", view=launch_views.opened_modal(notes).to_dict())
    else:
        ack()
    log.info("launch %s opened by %s", notes.launch.key, user)
    rt.kick()


def register(app: App) -> None:
    app.view(Callback.LAUNCH_NEW)(submit)
