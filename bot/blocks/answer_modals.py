"""Modals for answering an item, giving a reason, delegating or reassigning it, and moving a launch date.

Every item modal carries `{"i": item_id, ...}` in `private_metadata` and is
pre-filled with the current answer, so editing starts from what is there.
"""
from __future__ import annotations

import pycountry

from bot.codecs import ItemModal
from bot.services.answer_values import MARKET_LINK, MAX_MARKET_INPUTS


from slack_sdk.models.blocks import (
    ContextBlock,
    DatePickerElement,
    InputBlock,
    MarkdownTextObject,
    NumberInputElement,
    Option,
    PlainTextInputElement,
    RadioButtonsElement,
    SectionBlock,
    StaticSelectElement,
    UrlInputElement,
    UserSelectElement,
)
from slack_sdk.models.views import View

from models import Item, ItemState, Launch

from .ids import Callback, Field
from .text import clip, day, esc, link, user

NOTE_MAX = 1000
TEXT_MAX = 2000
STATUS_OPTIONS = [("done", "Done"), ("na", "Not applicable"), ("blocked", "Blocked"), ("open", "Not done yet")]
WEEK_FIELDS = (Field.WEEK1, Field.WEEK2, Field.WEEK3, Field.WEEK4, Field.WEEK5, Field.WEEK6)


def metadata(item_id: int, op: str | None = None, home: int | None = None) -> str:
    return ItemModal(item=item_id, op=op, home=home).encode()


def _num(value) -> str | None:
    if value is None or isinstance(value, bool):
        return None
    return str(int(value)) if float(value).is_integer() else str(value)


def _intro(item: Item, launch: Launch, tz: str | None) -> list:
    text = f"*{esc(item.question)}*\n{launch.key} · {esc(launch.name)} · due {day(item.due_at, tz)}"
    if item.action:
        text += f"\n{esc(item.action)}"
    if item.link:
        text += f"\n{link(item.link, 'How to')}"
    return [SectionBlock(text=MarkdownTextObject(text=clip(text)))]


def _evidence(item: Item) -> InputBlock:
    return InputBlock(block_id=Field.EVIDENCE, label="Evidence link", optional=True,
                      hint="A document, ticket or dashboard that shows it is done.",
                      element=UrlInputElement(action_id=Field.EVIDENCE, initial_value=item.evidence or None,
                                              placeholder="https://"))


def _note(item: Item, label: str = "Comment", optional: bool = True, hint: str | None = None) -> InputBlock:
    return InputBlock(block_id=Field.NOTE, label=label, optional=optional, hint=hint,
                      element=PlainTextInputElement(action_id=Field.NOTE, multiline=True, max_length=NOTE_MAX,
                                                    initial_value=item.note or None))


def _value_input(item: Item) -> InputBlock:
    current = item.answer if item.state == ItemState.DONE else None
    kind = item.answer_kind
    if kind == "number":
        bounds = [f"at least {_num(item.min_value)}" if item.min_value is not None else "",
                  f"at most {_num(item.max_value)}" if item.max_value is not None else ""]
        hint = " and ".join(b for b in bounds if b)
        label = f"Value ({item.unit})" if item.unit else "Value"
        return InputBlock(block_id=Field.VALUE, label=clip(label, 2000), hint=f"Enter {hint}." if hint else None,
                          element=NumberInputElement(action_id=Field.VALUE, is_decimal_allowed=True,
                                                     initial_value=_num(current)))
    if kind == "link":
        return InputBlock(block_id=Field.VALUE, label="Link",
                          element=UrlInputElement(action_id=Field.VALUE, placeholder="https://",
                                                  initial_value=current if isinstance(current, str) else None))
    if kind == "choice":
        options = [Option(value=c, text=clip(c, 75)) for c in item.choices or []]
        initial = next((o for o in options if o.value == current), None)
        return InputBlock(block_id=Field.VALUE, label="Answer",
                          element=StaticSelectElement(action_id=Field.VALUE, options=options, initial_option=initial,
                                                      placeholder="Pick one"))
    return InputBlock(block_id=Field.VALUE, label="Answer",
                      element=PlainTextInputElement(action_id=Field.VALUE, multiline=True, max_length=TEXT_MAX,
                                                    initial_value=current if isinstance(current, str) else None))


def _market_link_inputs(item: Item, launch: Launch) -> list:
    """One URL input per market of the launch (block `value.FR`…); past MAX_MARKET_INPUTS, one field
    with a line per market, so the modal stays inside Slack's 100 blocks."""
    current = item.answer if isinstance(item.answer, dict) else {}
    markets = list(launch.markets)
    blocks: list = [ContextBlock(elements=[MarkdownTextObject(text=clip(
        f"One link per market of the launch ({esc(', '.join(markets))}). launchgate checks every page; the item "
        "stays done only while each market's page is live."))])]
    if len(markets) > MAX_MARKET_INPUTS:
        lines = "\n".join(f"{m} {current.get(m, '')}".rstrip() for m in markets)
        return blocks + [InputBlock(block_id=Field.VALUE, label="Links, one line per market",
                                    hint="A market code, a space, the link: FR https://help.example.com/fr/…",
                                    element=PlainTextInputElement(action_id=Field.VALUE, multiline=True,
                                                                  max_length=3000, initial_value=clip(lines, 3000)))]
    for market in markets:
        blocks.append(InputBlock(block_id=MARKET_LINK + market, label=clip(f"{_country(market)} ({market})", 2000),
                                 element=UrlInputElement(action_id=MARKET_LINK + market, placeholder="https://",
                                                         initial_value=current.get(market) or None)))
    return blocks


def _country(code: str) -> str:
    country = pycountry.countries.get(alpha_2=code)
    return getattr(country, "common_name", None) or getattr(country, "name", code) if country else code


def _forecast_inputs(item: Item) -> list:
    current = item.answer if isinstance(item.answer, dict) else {}
    weeks = list(current.get("weekly_contacts") or []) + [None] * 6
    blocks: list = [ContextBlock(elements=[MarkdownTextObject(
        text="Extra contacts you expect *because of this launch*, per week, for the six weeks after launch.")])]
    for n, field in enumerate(WEEK_FIELDS):
        blocks.append(InputBlock(block_id=field, label=f"Week {n + 1} after launch (contacts)",
                                 element=NumberInputElement(action_id=field, is_decimal_allowed=False,
                                                            initial_value=_num(weeks[n]))))

    def number(field: Field, label: str, key: str, decimal: bool = True, hint: str | None = None) -> InputBlock:
        return InputBlock(block_id=field, label=label, hint=hint,
                          element=NumberInputElement(action_id=field, is_decimal_allowed=decimal,
                                                     initial_value=_num(current.get(key))))

    blocks += [
        number(Field.AHT, "Average handle time (minutes)", "aht_minutes"),
        number(Field.SL_PERCENT, "Service level: % of contacts answered…", "sl_percent",
               hint="For 80 % answered in 60 seconds, enter 80 here and 60 below."),
        number(Field.SL_SECONDS, "…within this many seconds", "sl_seconds", decimal=False),
        number(Field.SHRINKAGE, "Shrinkage (%)", "shrinkage_percent",
               hint="Time agents are paid but not on contacts: breaks, training, absence."),
    ]
    return blocks


QUEUE_WEEKS, QUEUE_AHT, QUEUE_PLAN = "fq.", "fa.", "fp."   # + queue id (services/answer_values parses them)
MAX_QUEUE_ROWS = 30


def _queue_forecast_inputs(item: Item, capacity) -> list:
    """One row per queue the launch touches: six weeks in one field (phone-friendly) and the handle time."""
    current = item.answer if isinstance(item.answer, dict) else {}
    blocks: list = [ContextBlock(elements=[MarkdownTextObject(text=clip(
        f"Markets: *{esc(', '.join(capacity.markets))}* (from the launch). Extra contacts you expect *because of "
        "this launch* on each queue, weeks 1–6 after launch, as six numbers. Leave a queue empty if the launch "
        "sends it nothing."))])]
    for row in capacity.rows[:MAX_QUEUE_ROWS]:
        blocks.append(InputBlock(block_id=QUEUE_WEEKS + row.queue_id, optional=True,
                                 label=clip(f"{row.label}: contacts, weeks 1–6", 2000),
                                 element=PlainTextInputElement(action_id=QUEUE_WEEKS + row.queue_id,
                                                               initial_value=row.weeks or None,
                                                               placeholder="8000, 8000, 8000, 6000, 5000, 4000")))
        blocks.append(InputBlock(block_id=QUEUE_AHT + row.queue_id, optional=True,
                                 label=clip(f"{row.label}: average handle time (minutes)", 2000),
                                 element=NumberInputElement(action_id=QUEUE_AHT + row.queue_id,
                                                            is_decimal_allowed=True,
                                                            initial_value=row.aht or None)))

    def number(field: Field, label: str, key: str, decimal: bool = True, hint: str | None = None) -> InputBlock:
        return InputBlock(block_id=field, label=label, hint=hint, optional=True,
                          element=NumberInputElement(action_id=field, is_decimal_allowed=decimal,
                                                     initial_value=_num(current.get(key))))

    blocks += [
        number(Field.SL_PERCENT, "Service level: % answered…", "sl_percent", hint=capacity.defaults or None),
        number(Field.SL_SECONDS, "…within this many seconds", "sl_seconds", decimal=False),
        number(Field.SHRINKAGE, "Shrinkage %", "shrinkage_percent",
               hint="Time agents are paid but not on contacts: breaks, training, absence."),
    ]
    return blocks


def _plan_inputs(capacity) -> list:
    """WFM's planned extra FTE per queue and week, with what the forecast needs right above each field."""
    blocks: list = [ContextBlock(elements=[MarkdownTextObject(text=(
        "Planned *extra* FTE per queue for weeks 1–6 after launch (paid FTE, after shrinkage), six numbers. "
        "launchgate compares them with what the forecast needs."))])]
    for row in capacity.rows[:MAX_QUEUE_ROWS]:
        need = f"Forecast needs: {row.required}" if row.required else "No forecast for this queue yet."
        blocks.append(InputBlock(block_id=QUEUE_PLAN + row.queue_id, label=clip(f"{row.label}: planned FTE", 2000),
                                 hint=clip(need, 2000),
                                 element=PlainTextInputElement(action_id=QUEUE_PLAN + row.queue_id,
                                                               initial_value=row.planned or None,
                                                               placeholder="20, 20, 20, 15, 12, 10")))
    return blocks


def answer_modal(item: Item, launch: Launch, tz: str | None, *, private_metadata: str, capacity=None) -> View:
    """The answer (or edit) modal for the item's answer kind (`capacity`: rows from services.capacity)."""
    blocks = _intro(item, launch, tz)
    if item.answer_kind == "confirm":
        options = [Option(value=v, text=t) for v, t in STATUS_OPTIONS]
        current = {ItemState.DONE: "done", ItemState.NA: "na", ItemState.BLOCKED: "blocked"}.get(item.state, "done")
        blocks.append(InputBlock(block_id=Field.STATUS, label="Status",
                                 element=RadioButtonsElement(action_id=Field.STATUS, options=options,
                                                             initial_option=next(o for o in options
                                                                                 if o.value == current))))
        blocks.append(_note(item, "Reason or comment", hint="Required for Not applicable and Blocked."))
    elif item.answer_kind == "forecast" and capacity is not None and capacity.rows:
        blocks += _queue_forecast_inputs(item, capacity)
        blocks.append(_note(item, "Comment", hint="E.g. the past launch this forecast is based on."))
    elif item.answer_kind == "capacity_plan" and capacity is not None:
        blocks += _plan_inputs(capacity)
        blocks.append(_note(item, "Comment", hint="How a gap is closed: overtime, hiring, partner hours."))
    elif item.answer_kind == "accuracy":
        summary = capacity.summary if capacity is not None else ""
        blocks.append(SectionBlock(text=MarkdownTextObject(text=clip(
            f"*Computed from the actuals so far:* {esc(summary)}" if summary else
            "No actual contacts yet: WFM enters them each Monday after a launch week. Saving is possible "
            "once they are in."))))
        blocks.append(_note(item, "Comment", hint="Optional. The variance explanation has its own item."))
    elif item.answer_kind == "market_links":
        blocks += _market_link_inputs(item, launch)
        blocks.append(_note(item))
    elif item.answer_kind == "forecast":
        blocks += _forecast_inputs(item)
        blocks.append(_note(item, "Comment", hint="E.g. the past launch this forecast is based on."))
    else:
        blocks.append(_value_input(item))
        blocks.append(_note(item))
    blocks.append(_evidence(item))
    title = "Edit answer" if not item.is_open or item.answer is not None else "Answer"
    return View(type="modal", callback_id=Callback.ITEM_ANSWER, title=title, submit="Save", close="Cancel",
                private_metadata=private_metadata, blocks=blocks)


def reason_modal(item: Item, launch: Launch, tz: str | None, op: str, *, private_metadata: str) -> View:
    """Why an item is not applicable, or what blocks it."""
    blocked = op == "blocked"
    label = "What blocks it, and who can unblock it?" if blocked else "Why does this not apply to this launch?"
    current = item.note if item.state == (ItemState.BLOCKED if blocked else ItemState.NA) else None
    blocks = _intro(item, launch, tz) + [InputBlock(
        block_id=Field.REASON, label=label, hint="The readiness lead sees this in the digest and at review.",
        element=PlainTextInputElement(action_id=Field.REASON, multiline=True, max_length=NOTE_MAX,
                                      initial_value=current or None))]
    return View(type="modal", callback_id=Callback.ITEM_REASON, title="Blocked" if blocked else "Not applicable",
                submit="Save", close="Cancel", private_metadata=private_metadata, blocks=blocks)


def reassign_modal(item: Item, launch: Launch, tz: str | None, *, private_metadata: str) -> View:
    blocks = _intro(item, launch, tz) + [InputBlock(
        block_id=Field.USER, label="Hand it to",
        hint="They get the item in a DM and the current owner is told.",
        element=UserSelectElement(action_id=Field.USER, placeholder="Pick a person"))]
    return View(type="modal", callback_id=Callback.ITEM_REASSIGN, title="Reassign item", submit="Reassign",
                close="Cancel", private_metadata=private_metadata, blocks=blocks)


def delegate_modal(item: Item, launch: Launch, tz: str | None, *, private_metadata: str) -> View:
    """Pick who may answer for the owner; pre-filled with the current delegate, empty removes them."""
    owner = user(item.owner_id) if item.owner_id else "The owner"
    hint = "They get the item in a DM and on their Home tab, and can answer it." + (
        " Leave empty to remove the delegate." if item.delegate_id else "")
    blocks = _intro(item, launch, tz) + [
        SectionBlock(text=MarkdownTextObject(text=f"{owner} stays the owner and keeps getting its reminders.")),
        InputBlock(block_id=Field.USER, label="Who may answer it for the owner", optional=True, hint=hint,
                   element=UserSelectElement(action_id=Field.USER, placeholder="Pick a person",
                                             initial_user=item.delegate_id or None)),
    ]
    return View(type="modal", callback_id=Callback.ITEM_DELEGATE, title="Delegate item", submit="Save",
                close="Cancel", private_metadata=private_metadata, blocks=blocks)


def launch_edit_modal(launch: Launch, *, private_metadata: str) -> View:
    """Change the launch date; every open due date moves with it."""
    return View(
        type="modal", callback_id=Callback.LAUNCH_EDIT, title="Change launch date", submit="Move date",
        close="Cancel", private_metadata=private_metadata,
        blocks=[
            SectionBlock(text=MarkdownTextObject(text=clip(
                f"*{launch.key} · {esc(launch.name)}* launches {day(launch.launch_date)}. Every open item's due "
                "date moves with the launch date (in business days, holidays of every market skipped), and "
                "each owner whose dates move gets one message listing them."))),
            InputBlock(block_id=Field.LAUNCH_DATE, label="New launch date",
                       element=DatePickerElement(action_id=Field.LAUNCH_DATE,
                                                 initial_date=launch.launch_date.isoformat())),
            InputBlock(block_id=Field.REASON, label="Reason", optional=True,
                       hint="Shown to the owners and in the launch channel.",
                       element=PlainTextInputElement(action_id=Field.REASON, max_length=500)),
        ],
    )

