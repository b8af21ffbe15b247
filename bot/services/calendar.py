"""Business days in a launch's markets: each market's own weekend and public holidays.

The `holidays` package knows every country's working week (Friday–Saturday in
Israel and Saudi Arabia, Saturday–Sunday in the UAE since 2022, …), its public
holidays and the weekend days some countries turn into working days; a day is a
business day for a launch only when it is a working day in *every* one of its
markets, because a stakeholder in any of them may be off. Markets the package
does not know (and a launch with no market) fall back to a Saturday–Sunday week.

Half-working days the package models (its `half_day` category: Turkey's
"from 1pm" eves, Estonia's shortened pre-holiday days, …) stay business days,
but something due on one is due at noon rather than at the usual time.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import holidays

DUE_TIME = time(17, 0)  # due times are 17:00 UTC on the business day
HALF_DAY_DUE_TIME = time(12, 0)  # ... and noon on a half-working day
DEFAULT_WEEKEND = frozenset({5, 6})  # Saturday, Sunday


@lru_cache(maxsize=512)
def _calendar(market: str, year: int) -> holidays.HolidayBase | None:
    """The library's calendar of `market` for `year`; None when it does not know the market.
    `holidays` is imported here, at the first look, not at start-up (~16 ms of a cold start)."""
    import holidays

    try:
        return holidays.country_holidays(market, years=year)
    except NotImplementedError:
        return None


@lru_cache(maxsize=512)
def _half_days(market: str, year: int) -> frozenset[date]:
    import holidays
    from holidays.constants import HALF_DAY

    try:
        return frozenset(holidays.country_holidays(market, years=year, categories=(HALF_DAY,)))
    except (NotImplementedError, ValueError):  # unknown market, or no half-day category
        return frozenset()


def _is_working_day(day: date, market: str) -> bool:
    cal = _calendar(market, day.year)
    if cal is None:
        return day.weekday() not in DEFAULT_WEEKEND
    return cal.is_working_day(day)


def holiday_names(day: date, markets: Iterable[str]) -> list[str]:
    """Which markets' holidays fall on `day` (for messages that explain a skip)."""
    out = []
    for market in markets:
        cal = _calendar(market, day.year)
        name = cal.get(day) if cal is not None else None
        if name:
            out.append(f"{name} ({market})")
    return out


def is_business_day(day: date, markets: Iterable[str] = ()) -> bool:
    """A working day in every market (a Monday–Friday day when there is no market)."""
    markets = tuple(markets)
    if not markets:
        return day.weekday() not in DEFAULT_WEEKEND
    return all(_is_working_day(day, m) for m in markets)


def is_half_day(day: date, markets: Iterable[str] = ()) -> bool:
    """A shortened working day in any of the markets (the library's `half_day` category)."""
    return any(day in _half_days(m, day.year) for m in markets)


def add_business_days(start: date, days: int, markets: Iterable[str] = ()) -> date:
    """`days` business days after (or, negative, before) `start`.

    With `days == 0` a non-business `start` rolls back to the business day
    before it: a launch on a Saturday has its launch-day items due on Friday.
    """
    markets = tuple(markets)
    step = 1 if days > 0 else -1
    current = start
    remaining = abs(days)
    if days == 0:
        while not is_business_day(current, markets):
            current -= timedelta(days=1)
        return current
    while remaining:
        current += timedelta(days=step)
        if is_business_day(current, markets):
            remaining -= 1
    return current


def business_days_between(start: date, end: date, markets: Iterable[str] = ()) -> int:
    """Business days in (start, end]; negative when `end` is before `start`."""
    markets = tuple(markets)
    if end < start:
        return -business_days_between(end, start, markets)
    count = 0
    current = start
    while current < end:
        current += timedelta(days=1)
        count += is_business_day(current, markets)
    return count


def due_at(launch_date: date, offset: int, markets: Iterable[str] = ()) -> datetime:
    """The due time of something `offset` business days from the launch date."""
    markets = tuple(markets)
    day = add_business_days(launch_date, offset, markets)
    return datetime.combine(day, due_time(day, markets), tzinfo=timezone.utc)


def due_time(day: date, markets: Iterable[str] = ()) -> time:
    return HALF_DAY_DUE_TIME if is_half_day(day, markets) else DUE_TIME


def opens_at(launch_date: date, offset: int | None, markets: Iterable[str] = ()) -> datetime | None:
    """When something `offset` business days from the launch date opens: the start (00:00 UTC) of
    that business day. None (no offset) means open from the start."""
    if offset is None:
        return None
    return datetime.combine(add_business_days(launch_date, offset, tuple(markets)), time(0, 0), tzinfo=timezone.utc)
