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


def test_israel_works_sunday_and_rests_friday_saturday():
    # Issue 11: Thursday 7 January 2027 + 1 business day in Israel is Sunday 10 January.
    thursday = date(2027, 1, 7)
    assert calendar.add_business_days(thursday, 1, ["IL"]) == date(2027, 1, 10)
    assert not calendar.is_business_day(date(2027, 1, 8), ["IL"])   # Friday
    assert calendar.is_business_day(date(2027, 1, 10), ["IL"])      # Sunday
    assert calendar.add_business_days(date(2027, 1, 10), -1, ["IL"]) == thursday
    assert calendar.business_days_between(thursday, date(2027, 1, 11), ["IL"]) == 2  # Sun, Mon


def test_saudi_arabia_weekend_and_a_launch_across_weekends():
    assert calendar.add_business_days(date(2027, 9, 9), 1, ["SA"]) == date(2027, 9, 12)  # Thu → Sun
    # SA and FR together: Friday (SA), Saturday (both) and Sunday (FR) are all off.
    assert calendar.add_business_days(date(2027, 9, 9), 1, ["SA", "FR"]) == date(2027, 9, 13)


def test_uae_weekend_moved_in_2022_and_the_library_knows():
    assert calendar.add_business_days(date(2021, 6, 10), 1, ["AE"]) == date(2021, 6, 13)  # Fri–Sat then
    assert calendar.add_business_days(date(2027, 6, 10), 1, ["AE"]) == date(2027, 6, 11)  # Sat–Sun now


def test_a_half_working_day_counts_but_things_are_due_by_noon():
    # Turkey, Thursday 28 October 2027: Republic Day eve, off from 1pm; Friday 29 is the holiday.
    eve = date(2027, 10, 28)
    assert calendar.is_business_day(eve, ["TR"]) and calendar.is_half_day(eve, ["TR"])
    assert calendar.add_business_days(date(2027, 10, 27), 1, ["TR"]) == eve
    assert calendar.due_at(eve, 0, ["TR"]) == datetime(2027, 10, 28, 12, 0, tzinfo=timezone.utc)
    assert calendar.due_at(eve, 0, ["DE"]) == datetime(2027, 10, 28, 17, 0, tzinfo=timezone.utc)
