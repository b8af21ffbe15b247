"""`/launch capacity [queue] [weeks]`: the load of all launches, ephemeral."""
from __future__ import annotations

from bot.blocks import capacity_views
from bot.db import unit_of_work
from bot.runtime import Runtime
from bot.services import capacity

from .common import ephemeral


def capacity_command(rt: Runtime, ack, client, body, args: list[str]):
    weeks, queue = 6, None
    for word in args:
        if word.isdigit():
            weeks = max(1, min(int(word), 26))
        else:
            queue = word.lower()
    settings = rt.ctx.settings
    queues = capacity.safe_queues(settings.capacity_file)
    if queue and queues.configured and queues.get(queue) is None:
        ack(ephemeral(f"There is no queue `{queue}`. Queues: {', '.join(queues.by_id)}.", escape=False))
        return
    with unit_of_work(rt.ctx.engine) as session:
        cells = capacity.portfolio(session, queues, rt.ctx.now().date(), weeks=weeks, queue=queue)
    blocks = capacity_views.portfolio_blocks(
        cells, title=f"Capacity, next {weeks} weeks" + (f" · {queue}" if queue else ""),
        tolerance=settings.capacity_gap_tolerance_percent / 100,
        empty="No launch load in these weeks: no answered forecasts.")
    ack(response_type="ephemeral", text="Capacity across launches", blocks=[b.to_dict() for b in blocks])
