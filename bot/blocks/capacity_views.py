"""`/launch capacity` and the Monday capacity digest: short lines that read on a phone."""
from __future__ import annotations

from slack_sdk.models.blocks import ContextBlock, HeaderBlock, MarkdownTextObject, SectionBlock

from .text import clip, esc

MAX_QUEUES = 45


def _week_line(cell, tolerance: float) -> str:
    r = cell.required
    launches = ", ".join(sorted({c.launch_key for c in cell.contributions}))
    if r is None:
        return f"`{cell.iso_week}` {cell.contacts:,.0f} contacts · ⚠️ {esc(cell.problem or 'cannot be staffed')}"
    line = f"`{cell.iso_week}` {cell.contacts:,.0f} contacts → *{r.fte:.1f} FTE*"
    if r.service_level is not None:
        line += f" (peak {r.peak_agents})"
    if cell.planned_fte is not None:
        short = r.fte - cell.planned_fte
        line += f" · plan {cell.planned_fte:.1f}"
        if short > r.fte * tolerance:
            line += f" · ⚠️ *short {short:.1f}*"
    if cell.collision:
        line += f" · 💥 {cell.launches} launches: {launches}"
    else:
        line += f" · {launches}"
    return line


def portfolio_blocks(cells, *, title: str, tolerance: float, empty: str) -> list:
    """One section per queue, one line per ISO week."""
    blocks: list = [HeaderBlock(text=clip(title, 150))]
    if not cells:
        return blocks + [SectionBlock(text=MarkdownTextObject(text=empty))]
    by_queue: dict[str, list] = {}
    for cell in cells:
        by_queue.setdefault(cell.queue.id, []).append(cell)
    for queue_id, rows in list(by_queue.items())[:MAX_QUEUES]:
        q = rows[0].queue
        head = f"*{esc(queue_id)}* · {esc('/'.join(q.markets[:3]))} {q.channel}"
        blocks.append(SectionBlock(text=MarkdownTextObject(text=clip(
            head + "\n" + "\n".join(_week_line(c, tolerance) for c in rows)))))
    if len(by_queue) > MAX_QUEUES:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(
            text=f"…and {len(by_queue) - MAX_QUEUES} more queues: `launchgate capacity` lists them all.")]))
    blocks.append(ContextBlock(elements=[MarkdownTextObject(
        text="FTE: extra paid FTE after shrinkage for all launches' contacts together (Erlang C). 💥 = launches "
             "collide on the queue that week.")]))
    return blocks


ACTUALS_BUTTON = "capacity.actuals"      # action id; value: the launch id
ACTUALS_CALLBACK = "capacity_actuals"    # view callback; private_metadata: {"l": launch id}
ACTUALS_FIELD = "ac."                    # + queue id


def actuals_prompt(launch, queues: dict[str, list[int]]) -> tuple[str, list]:
    from slack_sdk.models.blocks import ActionsBlock, ButtonElement

    missing = "; ".join(f"`{esc(q)}` week{'s' if len(w) > 1 else ''} {', '.join(map(str, w))}"
                        for q, w in queues.items())
    text = (f"📥 *{launch.key} · {esc(launch.name)}*: actual extra contacts are due for {missing}. They measure "
            "marketing's forecast (WAPE, bias) and feed its post-launch review.")
    return text, [SectionBlock(text=MarkdownTextObject(text=clip(text))),
                  ActionsBlock(elements=[ButtonElement(text="Enter actuals", action_id=ACTUALS_BUTTON,
                                                       value=str(launch.id), style="primary")])]


def actuals_modal(launch, rows: list[tuple[str, int, str]], *, private_metadata: str):
    """rows: (queue id, weeks ended, current values as typed)."""
    from slack_sdk.models.blocks import InputBlock, PlainTextInputElement
    from slack_sdk.models.views import View

    blocks: list = [SectionBlock(text=MarkdownTextObject(text=clip(
        f"*{launch.key} · {esc(launch.name)}*, launched {launch.launch_date.isoformat()}. Extra contacts the launch "
        "brought to each queue, per week since launch (week 1 = the seven days from the launch date).")))]
    for queue, weeks, current in rows[:40]:
        example = ", ".join(["1200", "900", "700", "600", "500", "400"][:weeks])
        blocks.append(InputBlock(block_id=ACTUALS_FIELD + queue, optional=True,
                                 label=clip(f"{queue}: contacts, week{'s 1–' if weeks > 1 else ' '}{weeks}", 2000),
                                 element=PlainTextInputElement(action_id=ACTUALS_FIELD + queue,
                                                               initial_value=current or None, placeholder=example)))
    return View(type="modal", callback_id=ACTUALS_CALLBACK, title="Actual contacts", submit="Save", close="Cancel",
                private_metadata=private_metadata, blocks=blocks)


def _pct(v, signed: bool = False) -> str:
    return "–" if v is None else (f"{v:+.1%}" if signed else f"{v:.1%}")


def track_record_blocks(records) -> list:
    """Per forecaster: launches forecast, WAPE each, mean bias, trend."""
    blocks: list = [HeaderBlock(text="Forecast track record")]
    if not records:
        return blocks + [SectionBlock(text=MarkdownTextObject(text="No answered forecasts yet."))]
    for r in records[:45]:
        head = (f"<@{r.forecaster}> · {len(r.launches)} launch{'es' if len(r.launches) != 1 else ''} forecast, "
                f"{len(r.measured)} measured · mean WAPE *{_pct(r.wape)}* · bias {_pct(r.bias, True)} · {r.trend}")
        lines = [f"• {a.launch.key} {esc(clip(a.launch.name, 60))} ({a.launch.launch_date.isoformat()}): "
                 f"WAPE {_pct(a.total.wape)}, bias {_pct(a.total.bias, True)} — {a.total.direction}"
                 for a in r.launches[-10:]]
        blocks.append(SectionBlock(text=MarkdownTextObject(text=clip(head + "\n" + "\n".join(lines)))))
    blocks.append(ContextBlock(elements=[MarkdownTextObject(
        text="WAPE = Σ|actual − forecast| ÷ Σ actual over the weeks with actuals; bias > 0 means over-forecast.")]))
    return blocks
