"""Business days skip weekends and the public holidays of every launch market."""
from __future__ import annotations

from datetime import date, datetime, timezone

from bot.services import calendar


def test_weekends_are_skipped_both_ways():
    friday = date(2027, 8, 6)
    assert calendar.add_business_days(friday, 1) == date(2027, 8, 9)
    assert calendar.add_business_days(date(2027, 8, 9), -1) == friday
    assert calendar.add_business_days(friday, 5) == date(2027, 8, 13)


def test_each_markets_holidays_are_skipped():
    # 14 July is Bastille Day in France, an ordinary Wednesday in Germany.
    tuesday = date(2027, 7, 13)
    assert calendar.add_business_days(tuesday, 1, ["DE"]) == date(2027, 7, 14)
    assert calendar.add_business_days(tuesday, 1, ["FR"]) == date(2027, 7, 15)
    # A launch in both markets waits for both calendars: Bastille Day (Fri 14 July 2028)
    # and German Unity Day (Tue 3 October 2028).
    assert calendar.add_business_days(date(2028, 7, 13), 1, ["FR", "DE"]) == date(2028, 7, 17)
    assert calendar.add_business_days(date(2028, 10, 2), 1, ["FR", "DE"]) == date(2028, 10, 4)
    assert calendar.add_business_days(date(2028, 10, 2), 1, ["FR"]) == date(2028, 10, 3)


def test_launch_day_on_a_weekend_rolls_back():
    saturday = date(2027, 8, 7)
    assert calendar.add_business_days(saturday, 0) == date(2027, 8, 6)


def test_business_days_between_counts_the_end_not_the_start():
    assert calendar.business_days_between(date(2027, 8, 2), date(2027, 8, 20)) == 14
    assert calendar.business_days_between(date(2027, 8, 20), date(2027, 8, 2)) == -14
    assert calendar.business_days_between(date(2027, 12, 23), date(2027, 12, 28), ["GB"]) == 1


def test_unknown_to_holidays_package_only_skips_weekends():
    assert calendar.add_business_days(date(2027, 8, 6), 1, ["AQ"]) == date(2027, 8, 9)


def test_due_at_is_timezone_aware_utc():
    # Monday 15 Nov 2027, three business days back: Fri 12, (Thu 11 Armistice Day), Wed 10, Tue 9.
    due = calendar.due_at(date(2027, 11, 15), -3, ["FR"])
    assert due == datetime(2027, 11, 9, 17, 0, tzinfo=timezone.utc)
    assert calendar.due_at(date(2027, 11, 15), -3, ["DE"]).day == 10
    assert calendar.holiday_names(date(2027, 11, 11), ["FR", "US"])
