"""`/launch capacity [queue] [weeks]`: the load of all launches, ephemeral."""
from __future__ import annotations

from bot.blocks import capacity_views
from bot.runtime import Runtime
from bot.services import capacity

from .common import ephemeral, open_modal


def capacity_command(rt: Runtime, ack, client, body, args: list[str]):
    weeks, queue = 6, None
    for word in args:
        if word.isdigit():
            weeks = max(1, min(int(word), 26))
        else:
            queue = word.lower()
    settings = rt.ctx.settings
    queues = capacity.safe_queues(settings.capacity_file)
    with rt.unit_of_work() as session:
        cells = capacity.portfolio(session, queues, rt.ctx.now().date(), weeks=weeks, queue=queue)
    blocks = capacity_views.portfolio_blocks(
        cells, title=f"Capacity, next {weeks} weeks" + (f" · {queue}" if queue else ""),
        tolerance=settings.capacity_gap_tolerance_percent / 100,
        empty="No launch load in these weeks: no answered forecasts.")
    ack(response_type="ephemeral", text="Capacity across launches", blocks=[b.to_dict() for b in blocks])


def actuals_clicked(ack, body: dict, client, context, respond) -> None:
    """The Monday DM's *Enter actuals* button: open the modal (one field per queue)."""
    from bot.blocks import capacity_views
    from bot.codecs import LaunchModal
    from bot.services import actuals
    from bot.services.errors import ServiceError

    from .common import problem, runtime, tell

    ack()
    rt = runtime(context)
    raw = body["actions"][0].get("value") or ""
    launch_id = int(raw) if raw.isdigit() and len(raw) < 10 else 0
    try:
        with rt.unit_of_work() as session:
            launch, rows = actuals.modal_rows(session, launch_id, capacity.safe_queues(rt.ctx.settings.capacity_file),
                                              rt.ctx.now().date())
            view = capacity_views.actuals_modal(launch, rows, private_metadata=LaunchModal(launch=launch.id).encode())
    except ServiceError as exc:
        tell(client, body, respond, problem(exc))
        return
    open_modal(client, body, view)


def actuals_submitted(ack, body: dict, context) -> None:
    from bot.codecs import LaunchModal
    from bot.services import actuals

    from .common import run_submission, runtime

    rt = runtime(context)

    def run(session, actor: str, meta: LaunchModal, values: dict) -> None:
        actuals.from_modal(session, meta.launch, values, actor=actor, now=rt.ctx.now(),
                           queues=capacity.safe_queues(rt.ctx.settings.capacity_file))

    if run_submission(rt, ack, body, LaunchModal, run,
                      lambda exc: {"response_action": "update", "view": _notice_view(str(exc))}) is not None:
        rt.kick()


def register(app) -> None:
    """The Monday actuals prompt's button and modal (sub-commands are in commands.SUBCOMMANDS)."""
    from bot.blocks import capacity_views

    app.action(capacity_views.ACTUALS_BUTTON)(actuals_clicked)
    app.view(capacity_views.ACTUALS_CALLBACK)(actuals_submitted)


def _notice_view(text: str) -> dict:
    return {"type": "modal", "title": {"type": "plain_text", "text": "Actual contacts"},
            "close": {"type": "plain_text", "text": "Close"},
            "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text[:2900]}}]}


def forecasts_command(rt: Runtime, ack, client, body, args: list[str]):
    """`/launch forecasts [@user]`: launches forecast, WAPE each, bias, trend."""
    import re

    from bot.blocks import capacity_views
    from bot.services import actuals

    who = None
    if args:
        match = re.fullmatch(r"<@([UW][A-Z0-9]+)(\|[^>]*)?>", args[0])
        if match is None:
            ack(ephemeral("Name a person like `/launch forecasts @dana`, or leave it out for everyone.", escape=False))
            return
        who = match.group(1)
    with rt.unit_of_work() as session:
        records = actuals.track_records(session, capacity.safe_queues(rt.ctx.settings.capacity_file), who)
    blocks = capacity_views.track_record_blocks(records)
    ack(response_type="ephemeral", text="Forecast track record", blocks=[b.to_dict() for b in blocks])
