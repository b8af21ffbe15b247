"""Checking what a person typed into an answer modal, per answer kind.

Field names here are the modal's input block ids; a problem raises
`FieldErrors` so the modal shows it next to the field and keeps the input.

A forecast is stored in `Item.answer` as::

    {"weekly_contacts": [w1, …, w6],   # extra contacts expected in weeks 1–6 after launch
     "aht_minutes": 6.5,               # average handle time
     "sl_percent": 80, "sl_seconds": 60,   # service level: 80 % answered in 60 s
     "shrinkage_percent": 30}
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

from models import Item, ItemState

from .errors import FieldErrors

VALUE, EVIDENCE, NOTE, STATUS, REASON = "value", "evidence", "note", "status", "reason"
WEEKS = tuple(f"week{n}" for n in range(1, 7))
AHT, SL_PERCENT, SL_SECONDS, SHRINKAGE = "aht", "sl_percent", "sl_seconds", "shrinkage"
TEXT_MAX = 2000
NOTE_MAX = 1000
URL_MAX = 500
STATUSES = {"done": ItemState.DONE, "na": ItemState.NA, "blocked": ItemState.BLOCKED, "open": ItemState.OPEN}


@dataclass
class Answer:
    state: str
    value: Any = None
    evidence: str | None = None
    note: str | None = None


NUMBER_MAX = 1e15  # past this an answer is a typo, and floats stop holding whole numbers exactly


def number(raw: str | None) -> float | None:
    """'1,200', '1 200', '12.5', '12,5' and '80%' read as numbers; None if not one."""
    text = (raw or "").strip().replace("\u202f", "").replace("\u00a0", "").replace(" ", "").rstrip("%")
    if re.fullmatch(r"[-+]?\d{1,3}(,\d{3})+(\.\d+)?", text):
        text = text.replace(",", "")
    elif text.count(",") == 1 and "." not in text:
        text = text.replace(",", ".")
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) and abs(value) <= NUMBER_MAX else None


def tidy(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


def _fmt(value: float | None, unit: str | None = None) -> str:
    return f"{tidy(value):,}" + (f" {unit}" if unit else "") if value is not None else ""


def url(raw: str | None) -> str | None:
    """An http(s) URL with a host, or None."""
    text = (raw or "").strip()
    parsed = urlparse(text)
    if (parsed.scheme not in ("http", "https") or not parsed.netloc or any(c.isspace() for c in text)
            or any(c in text for c in "<>|") or len(text) > URL_MAX):
        return None
    return text


def _bounded(raw: str | None, field: str, errors: dict, *, low: float | None, high: float | None,
             unit: str | None = None, whole: bool = False, label: str = "a number") -> float | None:
    if not (raw or "").strip():
        errors[field] = "Required."
        return None
    value = number(raw)
    if value is None or (whole and not value.is_integer()):
        errors[field] = f"Enter {label}" + (f" in {unit}" if unit else "") + "."
        return None
    if (low is not None and value < low) or (high is not None and value > high):
        if low is not None and high is not None:
            errors[field] = f"Enter a value between {_fmt(low)} and {_fmt(high, unit)}."
        elif low is not None:
            errors[field] = f"Enter {_fmt(low, unit)} or more."
        else:
            errors[field] = f"Enter {_fmt(high, unit)} or less."
        return None
    return tidy(value)


def forecast(values: dict, errors: dict) -> dict:
    weeks = [_bounded(values.get(w), w, errors, low=0, high=10_000_000, whole=True, label="a whole number of contacts")
             for w in WEEKS]
    return {
        "weekly_contacts": weeks,
        "aht_minutes": _bounded(values.get(AHT), AHT, errors, low=0.1, high=600, unit="minutes"),
        "sl_percent": _bounded(values.get(SL_PERCENT), SL_PERCENT, errors, low=1, high=100, unit="%"),
        "sl_seconds": _bounded(values.get(SL_SECONDS), SL_SECONDS, errors, low=1, high=86_400, unit="seconds",
                               whole=True, label="a whole number of seconds"),
        "shrinkage_percent": _bounded(values.get(SHRINKAGE), SHRINKAGE, errors, low=0, high=90, unit="%"),
    }


QUEUE_WEEKS, QUEUE_AHT, QUEUE_PLAN = "fq.", "fa.", "fp."   # + queue id: per-queue rows (issue 13)
SIX_NUMBERS = "Enter six whole numbers for weeks 1–6, separated by commas (0 for none)."


def six_numbers(raw: str | None, *, whole: bool = True, high: float = 10_000_000) -> list | None:
    """'8000, 8000, 8000, 6000, 5000, 4000' (commas, semicolons or spaces) → 6 numbers, or None."""
    text = (raw or "").replace(";", ",").replace("\n", ",")
    parts = [p for p in (x.strip() for x in text.split(",")) if p]
    if len(parts) == 1:
        parts = parts[0].split()
    values = [number(p) for p in parts]
    if len(values) != 6 or any(v is None or v < 0 or v > high or (whole and not v.is_integer()) for v in values):
        return None
    return [tidy(v) for v in values]


def _optional(values: dict, field: str, errors: dict, **bounds) -> float | None:
    return _bounded(values.get(field), field, errors, **bounds) if (values.get(field) or "").strip() else None


def queue_forecast(values: dict, errors: dict) -> dict:
    """The per-queue forecast modal: one row (six weeks + AHT) per queue; target and shrinkage optional."""
    rows = []
    fields = [k for k in values if k.startswith(QUEUE_WEEKS)]
    for field in fields:
        queue = field[len(QUEUE_WEEKS):]
        raw, aht_raw = (values.get(field) or "").strip(), (values.get(QUEUE_AHT + queue) or "").strip()
        if not raw and not aht_raw:
            continue
        weeks = six_numbers(raw)
        if weeks is None:
            errors[field] = SIX_NUMBERS if raw else "Enter the contacts for weeks 1–6, or clear the handle time."
        aht = _bounded(aht_raw, QUEUE_AHT + queue, errors, low=0.1, high=600, unit="minutes")
        rows.append({"queue": queue, "weekly_contacts": weeks, "aht_minutes": aht})
    if not rows and fields:
        errors[fields[0]] = "Enter the forecast for at least one queue."
    answer: dict = {
        "weekly_contacts": [sum(r["weekly_contacts"][k] for r in rows if r["weekly_contacts"]) for k in range(6)],
        "aht_minutes": None,
        "sl_percent": _optional(values, SL_PERCENT, errors, low=1, high=99.9, unit="%"),
        "sl_seconds": _optional(values, SL_SECONDS, errors, low=1, high=86_400, unit="seconds", whole=True,
                                label="a whole number of seconds"),
        "shrinkage_percent": _optional(values, SHRINKAGE, errors, low=0, high=89, unit="%"),
        "queues": rows,
    }
    work = sum(sum(r["weekly_contacts"]) * r["aht_minutes"] for r in rows if r["weekly_contacts"] and r["aht_minutes"])
    total = sum(answer["weekly_contacts"])
    answer["aht_minutes"] = round(work / total, 2) if total else next((r["aht_minutes"] for r in rows), None)
    return answer


MARKET_LINK = "value."   # + market code: one URL input per market of the launch (answer: market_links)
MAX_MARKET_INPUTS = 90   # inside Slack's 100 blocks a modal; a launch with more gets one field, a line per market


def market_lines(raw: str) -> dict[str, str]:
    """'FR https://…' (or 'FR: https://…'), one per line → {market: url}."""
    found: dict[str, str] = {}
    for line in raw.splitlines():
        market, _, rest = line.strip().partition(" ")
        if market:
            found[market.rstrip(":").upper()] = rest.strip()
    return found


def market_links(values: dict, errors: dict, markets: list[str]) -> dict[str, str]:
    """One link per market of the launch, from the modal's per-market fields, the long form's lines,
    or the answering API's `{"FR": "https://…"}`; each market's problem is shown in its own field."""
    raw = values.get(VALUE)
    one_field = isinstance(raw, str)
    if one_field:
        given = market_lines(raw)
    else:
        given = {k[len(MARKET_LINK):].upper(): v for k, v in values.items() if k.startswith(MARKET_LINK)}
        given |= {str(k).upper(): v for k, v in raw.items()} if isinstance(raw, dict) else {}
    problems: dict[str, str] = {}
    links: dict[str, str] = {}
    for market in markets:
        text = given[market].strip() if isinstance(given.get(market), str) else ""
        if not text:
            problems[market] = f"Required: the link to the {market} page."
        elif url(text) is None:
            problems[market] = "Enter a link starting with https:// (or http://)."
        else:
            links[market] = text
    strangers = sorted(set(given) - set(markets))
    if one_field and (problems or strangers):
        errors[VALUE] = " ".join([f"{m}: {p}" for m, p in problems.items()]
                                 + [f"{m}: not a market of this launch." for m in strangers])
    elif problems or strangers:
        errors.update({MARKET_LINK + m: p for m, p in problems.items()})
        if strangers:
            errors[VALUE] = f"{', '.join(strangers)}: not a market of this launch ({', '.join(markets)})."
    return links


def _value(item: Item, values: dict, errors: dict, markets: list[str] | None = None) -> Any:
    raw = values.get(VALUE)
    kind = item.answer_kind
    if kind == "market_links":
        return market_links(values, errors, list(markets or []))
    if isinstance(raw, dict):   # a per-market answer sent to an item that takes one value
        errors[VALUE] = "This item takes one value, not one per market."
        return None
    if kind == "forecast" and any(k.startswith(QUEUE_WEEKS) for k in values):
        return queue_forecast(values, errors)
    if kind == "forecast":
        return forecast(values, errors)
    if kind == "capacity_plan":
        return capacity_plan(values, errors)
    if kind == "accuracy":       # computed by services.capacity from the actuals
        return None
    if kind == "number":
        return _bounded(raw, VALUE, errors, low=item.min_value, high=item.max_value, unit=item.unit)
    text = (raw or "").strip()
    if not text:
        errors[VALUE] = "Required."
    elif kind == "link":
        if url(text) is None:
            errors[VALUE] = "Enter a link starting with https:// (or http://)."
        return text
    elif kind == "choice":
        if text not in (item.choices or []):
            errors[VALUE] = "Pick one of the options."
        return text
    elif len(text) > TEXT_MAX:
        errors[VALUE] = f"Keep it to {TEXT_MAX} characters (this has {len(text)})."
    return text


def capacity_plan(values: dict, errors: dict) -> dict:
    """WFM's plan: extra FTE per queue for weeks 1–6 (decimals allowed)."""
    rows = []
    fields = [k for k in values if k.startswith(QUEUE_PLAN)]
    for field in fields:
        raw = (values.get(field) or "").strip()
        fte = six_numbers(raw, whole=False, high=100_000)
        if fte is None:
            errors[field] = ("Enter the planned extra FTE for weeks 1–6, separated by commas (0 for none)."
                             if raw else "Required: 0, 0, 0, 0, 0, 0 if no extra staff is planned.")
        rows.append({"queue": field[len(QUEUE_PLAN):], "planned_fte": fte})
    if not fields:
        errors[VALUE] = "No queue to plan for."
    return {"queues": rows}


def parse(item: Item, values: dict, markets: list[str] | None = None) -> Answer:
    """The answer in an answer modal's `values` ({block_id: raw}), or FieldErrors (`markets`: the launch's)."""
    errors: dict[str, str] = {}
    state = ItemState.DONE
    value: Any = True
    note = (values.get(NOTE) or "").strip() or None
    if item.answer_kind == "confirm":
        state = STATUSES.get(values.get(STATUS) or "done")
        if state is None:
            errors[STATUS] = "Pick a status."
        elif state in (ItemState.NA, ItemState.BLOCKED) and not note:
            errors[NOTE] = "Say why (the readiness lead sees this)."
        value = True if state == ItemState.DONE else None
    else:
        value = _value(item, values, errors, markets)
    if note and len(note) > NOTE_MAX:
        errors[NOTE] = f"Keep it to {NOTE_MAX} characters (this has {len(note)})."
    evidence = (values.get(EVIDENCE) or "").strip() or None
    if evidence and url(evidence) is None:
        errors[EVIDENCE] = "Enter a link starting with https:// (or leave it empty)."
    if errors:
        raise FieldErrors(errors)
    return Answer(state, value, evidence, note)


def reason(values: dict) -> str:
    text = (values.get(REASON) or "").strip()
    if not text:
        raise FieldErrors({REASON: "Say why (the readiness lead sees this)."})
    if len(text) > NOTE_MAX:
        raise FieldErrors({REASON: f"Keep it to {NOTE_MAX} characters (this has {len(text)})."})
    return text
