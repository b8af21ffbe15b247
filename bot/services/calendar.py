"""Business days in a launch's markets: weekends and every market's public holidays.

A launch in FR and DE skips French *and* German holidays, because a stakeholder in
either country may be off. Markets the `holidays` package does not know only skip
weekends.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache

import holidays

DUE_TIME = time(17, 0)  # due times are 17:00 UTC on the business day


@lru_cache(maxsize=256)
def _market_holidays(market: str, year: int) -> frozenset[date]:
    try:
        return frozenset(holidays.country_holidays(market, years=year))
    except NotImplementedError:
        return frozenset()


def holiday_names(day: date, markets: Iterable[str]) -> list[str]:
    """Which markets' holidays fall on `day` (for messages that explain a skip)."""
    out = []
    for market in markets:
        try:
            name = holidays.country_holidays(market, years=day.year).get(day)
        except NotImplementedError:
            name = None
        if name:
            out.append(f"{name} ({market})")
    return out


def is_business_day(day: date, markets: Iterable[str] = ()) -> bool:
    if day.weekday() >= 5:
        return False
    return not any(day in _market_holidays(m, day.year) for m in markets)


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
    day = add_business_days(launch_date, offset, markets)
    return datetime.combine(day, DUE_TIME, tzinfo=timezone.utc)
