"""Recurring series: the dates, the wall-clock times across clock changes, the skipped
months, the limits and the words. Pure functions: fixed dates are their arguments."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from backend_client.dto import Recurrence
from backend_client.errors import ValidationError
from backend_client.scheduling.recurrence import describe, expand, validate

LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")


def at(y: int, m: int, d: int, hh: int = 9, mm: int = 0, tz: ZoneInfo = LONDON,
       fold: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=tz, fold=fold)


def series(rule: Recurrence, start: datetime, minutes: int = 30,
           tz: ZoneInfo = LONDON) -> tuple[list[tuple[datetime, datetime]], list[str]]:
    return expand(rule, start, start + timedelta(minutes=minutes), tz)


def days(occurrences: list[tuple[datetime, datetime]]) -> list[date]:
    return [s.date() for s, _ in occurrences]


def problems(rule: Recurrence, first_day: date | None = None) -> dict[str, str]:
    with pytest.raises(ValidationError) as caught:
        validate(rule, first_day)
    return caught.value.errors


# ------------------------------------------------------------------ plain series


def test_daily_count_includes_the_first() -> None:
    occ, notes = series(Recurrence("daily", count=3), at(2027, 1, 4))
    assert days(occ) == [date(2027, 1, 4), date(2027, 1, 5), date(2027, 1, 6)]
    assert occ[0][0] == at(2027, 1, 4)
    assert all(e - s == timedelta(minutes=30) for s, e in occ)
    assert notes == []


def test_every_three_days_until_is_inclusive() -> None:
    rule = Recurrence("daily", interval=3, until=date(2027, 1, 10))
    occ, _ = series(rule, at(2027, 1, 1))
    assert days(occ) == [date(2027, 1, 1), date(2027, 1, 4), date(2027, 1, 7),
                         date(2027, 1, 10)]
    occ, _ = series(Recurrence("daily", interval=3, until=date(2027, 1, 9)), at(2027, 1, 1))
    assert days(occ)[-1] == date(2027, 1, 7)


def test_until_is_the_clinics_local_date_not_utcs() -> None:
    # 22:00 in New York is 03:00 UTC the next day: the until date still counts locally.
    first = at(2027, 1, 4, 22, tz=NEW_YORK)
    occ, _ = series(Recurrence("weekly", until=date(2027, 1, 18)), first, tz=NEW_YORK)
    assert days(occ) == [date(2027, 1, 4), date(2027, 1, 11), date(2027, 1, 18)]
    assert occ[-1][0].astimezone(UTC).date() == date(2027, 1, 19)


def test_until_on_the_first_day_is_one_appointment() -> None:
    occ, _ = series(Recurrence("weekly", until=date(2027, 1, 4)), at(2027, 1, 4))
    assert days(occ) == [date(2027, 1, 4)]


def test_every_two_weeks_on_tuesday() -> None:
    rule = Recurrence("weekly", interval=2, count=6)
    first = at(2027, 1, 12)          # a Tuesday
    occ, _ = series(rule, first)
    assert [d.isoformat() for d in days(occ)] == [
        "2027-01-12", "2027-01-26", "2027-02-09", "2027-02-23", "2027-03-09", "2027-03-23"]
    assert {s.weekday() for s, _ in occ} == {1}
    assert describe(rule, first, LONDON) == "Every 2 weeks on Tuesday, 6 times"


def test_occurrences_are_in_the_clinics_zone() -> None:
    start = datetime(2027, 1, 4, 14, 0, tzinfo=UTC)      # 09:00 in New York
    occ, _ = expand(Recurrence("daily", count=2), start, start + timedelta(hours=1), NEW_YORK)
    assert [s.tzinfo for s, _ in occ] == [NEW_YORK, NEW_YORK]
    assert [(s.hour, e.hour) for s, e in occ] == [(9, 10), (9, 10)]


def test_daily_across_a_leap_day_and_a_new_year() -> None:
    occ, _ = series(Recurrence("daily", count=3), at(2028, 2, 28))
    assert days(occ) == [date(2028, 2, 28), date(2028, 2, 29), date(2028, 3, 1)]
    occ, _ = series(Recurrence("weekly", count=2), at(2027, 12, 28))
    assert days(occ) == [date(2027, 12, 28), date(2028, 1, 4)]


# ------------------------------------------------------------------ clocks changing


@pytest.mark.parametrize(("tz", "before", "after"), [
    # London: 29 March 2026 the clocks go forward, 25 October 2026 back.
    (LONDON, date(2026, 3, 22), date(2026, 3, 29)),
    (LONDON, date(2026, 10, 18), date(2026, 10, 25)),
    # New York: 8 March 2026 forward, 1 November 2026 back.
    (NEW_YORK, date(2026, 3, 1), date(2026, 3, 8)),
    (NEW_YORK, date(2026, 10, 25), date(2026, 11, 1)),
])
def test_nine_oclock_stays_nine_oclock_local(tz: ZoneInfo, before: date, after: date) -> None:
    first = at(before.year, before.month, before.day, tz=tz)
    occ, notes = series(Recurrence("weekly", count=3), first, minutes=20, tz=tz)
    assert days(occ) == [before, after, after + timedelta(days=7)]
    assert [(s.hour, s.minute, e.hour, e.minute) for s, e in occ] == [(9, 0, 9, 20)] * 3
    # ... so the instant moves by the hour the clocks moved.
    utc_hours = [s.astimezone(UTC).hour for s, _ in occ]
    assert utc_hours[0] != utc_hours[1] == utc_hours[2]
    assert notes == []


def test_daily_at_nine_through_the_london_spring_change() -> None:
    occ, _ = series(Recurrence("daily", count=4), at(2027, 3, 26))
    assert [s.strftime("%d %H:%M %Z") for s, _ in occ] == [
        "26 09:00 GMT", "27 09:00 GMT", "28 09:00 BST", "29 09:00 BST"]


@pytest.mark.parametrize(("tz", "first", "gap_day", "moved_to"), [
    (NEW_YORK, date(2026, 3, 1), date(2026, 3, 8), "03:30"),
    (LONDON, date(2026, 3, 22), date(2026, 3, 29), "02:30"),
])
def test_a_time_that_does_not_exist_moves_forward_and_says_so(
        tz: ZoneInfo, first: date, gap_day: date, moved_to: str) -> None:
    hour = 2 if tz is NEW_YORK else 1          # 02:30 in New York, 01:30 in London
    start = at(first.year, first.month, first.day, hour, 30, tz=tz)
    occ, notes = series(Recurrence("weekly", count=3), start, minutes=30, tz=tz)
    moved = occ[1]
    assert moved[0].date() == gap_day
    assert moved[0].strftime("%H:%M") == moved_to
    assert moved[1].astimezone(UTC) - moved[0].astimezone(UTC) == timedelta(minutes=30)
    # The week after, the usual time again.
    assert occ[2][0].strftime("%H:%M") == start.strftime("%H:%M")
    day = f"{gap_day.day} March 2026"
    assert notes == [f"{day}: {start:%H:%M} does not exist (the clocks go forward), "
                     f"so it is at {moved_to}."]


def test_a_time_that_happens_twice_is_the_earlier_one() -> None:
    # 01:30 happens twice in New York on 1 November 2026 (EDT, then EST).
    occ, notes = series(Recurrence("weekly", count=2), at(2026, 10, 25, 1, 30, tz=NEW_YORK),
                        tz=NEW_YORK)
    second = occ[1][0]
    assert second.strftime("%Y-%m-%d %H:%M %Z") == "2026-11-01 01:30 EDT"
    assert second.astimezone(UTC) == datetime(2026, 11, 1, 5, 30, tzinfo=UTC)
    assert notes == []


def test_the_later_of_a_doubled_time_when_the_first_was_the_later() -> None:
    first = at(2026, 11, 1, 1, 30, tz=NEW_YORK, fold=1)        # 01:30 EST
    occ, _ = series(Recurrence("daily", count=2), first, tz=NEW_YORK)
    assert occ[0][0].astimezone(UTC) == datetime(2026, 11, 1, 6, 30, tzinfo=UTC)
    assert occ[1][0].strftime("%d %H:%M %Z") == "02 01:30 EST"


def test_the_length_is_elapsed_time_across_the_change() -> None:
    # 00:30-02:30 on the night the clocks go back in London is two hours of waiting room,
    # not a three-hour wall-clock span: each occurrence lasts 120 minutes.
    occ, _ = series(Recurrence("weekly", count=2), at(2026, 10, 18, 0, 30), minutes=120)
    start, end = occ[1]
    # (Python subtracts two times of the same zone on the wall clock: compare in UTC.)
    assert end.astimezone(UTC) - start.astimezone(UTC) == timedelta(minutes=120)
    assert (start.strftime("%H:%M %Z"), end.strftime("%H:%M %Z")) == ("00:30 BST", "01:30 GMT")


# ------------------------------------------------------------------ monthly by date


def test_the_31st_skips_months_without_one_and_says_so() -> None:
    occ, notes = series(Recurrence("monthly_date", count=4), at(2027, 1, 31))
    assert days(occ) == [date(2027, 1, 31), date(2027, 3, 31), date(2027, 5, 31),
                         date(2027, 7, 31)]
    assert notes == ["No 31 February 2027: that month is skipped.",
                     "No 31 April 2027: that month is skipped.",
                     "No 31 June 2027: that month is skipped."]


def test_skipped_months_after_the_last_appointment_are_not_mentioned() -> None:
    occ, notes = series(Recurrence("monthly_date", count=2), at(2027, 1, 31))
    assert days(occ) == [date(2027, 1, 31), date(2027, 3, 31)]
    assert notes == ["No 31 February 2027: that month is skipped."]


def test_with_an_end_date_every_skipped_month_up_to_it_is_mentioned() -> None:
    occ, notes = series(Recurrence("monthly_date", until=date(2027, 4, 30)), at(2027, 1, 31))
    assert days(occ) == [date(2027, 1, 31), date(2027, 3, 31)]
    assert notes == ["No 31 February 2027: that month is skipped.",
                     "No 31 April 2027: that month is skipped."]
    # An end date inside the month does not make it a skipped month.
    _, notes = series(Recurrence("monthly_date", until=date(2027, 4, 15)), at(2027, 1, 31))
    assert notes == ["No 31 February 2027: that month is skipped."]


def test_the_30th_skips_february_only() -> None:
    occ, notes = series(Recurrence("monthly_date", count=3), at(2028, 1, 30))
    assert days(occ) == [date(2028, 1, 30), date(2028, 3, 30), date(2028, 4, 30)]
    assert notes == ["No 30 February 2028: that month is skipped."]


def test_the_29th_of_february_in_leap_years() -> None:
    occ, notes = series(Recurrence("monthly_date", interval=12, count=3), at(2028, 2, 29))
    assert days(occ) == [date(2028, 2, 29), date(2032, 2, 29), date(2036, 2, 29)]
    assert notes[:3] == ["No 29 February 2029: that month is skipped.",
                         "No 29 February 2030: that month is skipped.",
                         "No 29 February 2031: that month is skipped."]
    assert len(notes) == 6
    # The 29th monthly: February has one in a leap year.
    occ, notes = series(Recurrence("monthly_date", count=3), at(2028, 1, 29))
    assert days(occ) == [date(2028, 1, 29), date(2028, 2, 29), date(2028, 3, 29)]
    assert notes == []


def test_every_three_months_across_the_year_end() -> None:
    occ, _ = series(Recurrence("monthly_date", interval=3, count=3), at(2027, 11, 15))
    assert days(occ) == [date(2027, 11, 15), date(2028, 2, 15), date(2028, 5, 15)]


def test_monthly_keeps_local_time_across_both_changes() -> None:
    occ, _ = series(Recurrence("monthly_date", count=12), at(2027, 1, 10, 9, tz=NEW_YORK),
                    tz=NEW_YORK)
    assert {(s.hour, s.minute) for s, _ in occ} == {(9, 0)}
    assert {s.astimezone(UTC).hour for s, _ in occ} == {13, 14}


# ------------------------------------------------------------------ monthly by weekday


def test_second_tuesday() -> None:
    rule = Recurrence("monthly_weekday", until=date(2027, 6, 30))
    first = at(2027, 1, 12)
    occ, notes = series(rule, first)
    assert days(occ) == [date(2027, 1, 12), date(2027, 2, 9), date(2027, 3, 9),
                         date(2027, 4, 13), date(2027, 5, 11), date(2027, 6, 8)]
    assert notes == []
    assert describe(rule, first, LONDON) == "Monthly on the 2nd Tuesday until 30 Jun 2027"


def test_fifth_monday_skips_months_without_one() -> None:
    first = at(2027, 3, 29)        # the 5th Monday of March 2027
    occ, notes = series(Recurrence("monthly_weekday", count=3), first)
    assert days(occ) == [date(2027, 3, 29), date(2027, 5, 31), date(2027, 8, 30)]
    assert notes == ["No 5th Monday in April 2027: that month is skipped.",
                     "No 5th Monday in June 2027: that month is skipped.",
                     "No 5th Monday in July 2027: that month is skipped."]
    assert describe(Recurrence("monthly_weekday", count=3), first, LONDON) == (
        "Monthly on the 5th Monday, 3 times")


def test_a_fourth_weekday_in_the_last_week_stays_the_fourth() -> None:
    # 24 Feb 2026 is the 4th and last Tuesday of February; March has five Tuesdays and
    # the series stays on the 4th (24 March), not the last (31 March).
    occ, _ = series(Recurrence("monthly_weekday", count=2), at(2026, 2, 24))
    assert days(occ) == [date(2026, 2, 24), date(2026, 3, 24)]


def test_first_weekday_when_the_month_starts_on_it() -> None:
    occ, _ = series(Recurrence("monthly_weekday", interval=2, count=3), at(2027, 2, 1))
    # 1 Feb 2027 is a Monday: the 1st Monday every two months.
    assert days(occ) == [date(2027, 2, 1), date(2027, 4, 5), date(2027, 6, 7)]


# ------------------------------------------------------------------ limits


def test_two_hundred_is_allowed_and_two_hundred_and_one_is_not() -> None:
    occ, _ = series(Recurrence("daily", count=200), at(2027, 1, 1))
    assert len(occ) == 200
    occ, _ = series(Recurrence("daily", until=date(2027, 7, 19)), at(2027, 1, 1))
    assert len(occ) == 200 and occ[-1][0].date() == date(2027, 7, 19)
    with pytest.raises(ValidationError) as caught:
        series(Recurrence("daily", until=date(2027, 7, 20)), at(2027, 1, 1))
    assert caught.value.field == "until"
    assert "more than 200 appointments" in caught.value.reason


@pytest.mark.parametrize(("rule", "field", "sentence"), [
    (Recurrence("fortnightly", count=2), "frequency",
     "Choose how often it repeats: daily, weekly, monthly by date or monthly by weekday."),
    (Recurrence("weekly", interval=0, count=2), "interval",
     "It can repeat every 1 to 52 weeks, not every 0."),
    (Recurrence("monthly_date", interval=53, count=2), "interval",
     "It can repeat every 1 to 52 months, not every 53."),
    (Recurrence("daily", count=0), "count", "A series has 1 to 200 appointments, not 0."),
    (Recurrence("daily", count=201), "count", "A series has 1 to 200 appointments, not 201."),
    (Recurrence("daily", count=3, until=date(2027, 2, 1)), "count",
     "Give either a number of times or an end date, not both."),
    (Recurrence("daily"), "count", "Say how many times it repeats, or until when."),
    (Recurrence("daily", until=datetime(2027, 2, 1, 17)), "until",
     "Give the end date as a day, without a time."),
])
def test_bad_rules_say_which_field_and_why(rule: Recurrence, field: str,
                                           sentence: str) -> None:
    assert problems(rule) == {field: sentence}


def test_every_problem_at_once() -> None:
    errors = problems(Recurrence("hourly", interval=99))
    assert set(errors) == {"frequency", "interval", "count"}


def test_a_true_interval_is_not_one() -> None:
    assert "interval" in problems(Recurrence("daily", interval=True, count=2))


def test_until_before_the_first_appointment() -> None:
    assert problems(Recurrence("weekly", until=date(2027, 1, 3)), date(2027, 1, 4)) == {
        "until": "The end date 3 Jan 2027 is before the first appointment (4 Jan 2027)."}
    with pytest.raises(ValidationError) as caught:
        series(Recurrence("weekly", until=date(2027, 1, 3)), at(2027, 1, 4))
    assert caught.value.field == "until"


def test_a_good_rule_passes() -> None:
    validate(Recurrence("monthly_weekday", interval=52, count=200), date(2027, 1, 5))
    validate(Recurrence("weekly", until=date(2030, 1, 1)))      # no first day: not counted


def test_a_series_that_runs_out_of_calendar_is_refused() -> None:
    # 29 February every 12 months: about 100 leap years are left after 9600.
    errors = problems(Recurrence("monthly_date", interval=12, count=200), date(9600, 2, 29))
    assert set(errors) == {"count"}
    assert errors["count"].endswith("choose fewer times.")


def test_times_must_be_aware_and_in_order() -> None:
    naive = datetime(2027, 1, 4, 9)
    with pytest.raises(ValidationError) as caught:
        expand(Recurrence("daily", count=2), naive, naive + timedelta(hours=1), LONDON)
    assert caught.value.field == "starts_at"
    start = at(2027, 1, 4)
    with pytest.raises(ValidationError) as caught:
        expand(Recurrence("daily", count=2), start, start, LONDON)
    assert caught.value.errors == {"ends_at": "The end must be after the start."}


# ------------------------------------------------------------------ words


@pytest.mark.parametrize(("rule", "first", "text"), [
    (Recurrence("daily", count=5), date(2027, 1, 4), "Daily, 5 times"),
    (Recurrence("daily", interval=3, until=date(2027, 2, 1)), date(2027, 1, 4),
     "Every 3 days until 1 Feb 2027"),
    (Recurrence("weekly", count=1), date(2027, 1, 4), "Weekly on Monday, once"),
    (Recurrence("monthly_date", count=6), date(2027, 1, 1), "Monthly on the 1st, 6 times"),
    (Recurrence("monthly_date", interval=2, count=6), date(2027, 1, 2),
     "Every 2 months on the 2nd, 6 times"),
    (Recurrence("monthly_date", count=6), date(2027, 1, 3), "Monthly on the 3rd, 6 times"),
    (Recurrence("monthly_date", count=6), date(2027, 1, 11), "Monthly on the 11th, 6 times"),
    (Recurrence("monthly_date", count=6), date(2027, 1, 12), "Monthly on the 12th, 6 times"),
    (Recurrence("monthly_date", count=6), date(2027, 1, 13), "Monthly on the 13th, 6 times"),
    (Recurrence("monthly_date", count=6), date(2027, 1, 21), "Monthly on the 21st, 6 times"),
    (Recurrence("monthly_date", count=6), date(2027, 1, 22), "Monthly on the 22nd, 6 times"),
    (Recurrence("monthly_date", count=6), date(2027, 1, 23), "Monthly on the 23rd, 6 times"),
    (Recurrence("monthly_date", until=date(2027, 12, 31)), date(2027, 1, 31),
     "Monthly on the 31st until 31 Dec 2027"),
    (Recurrence("monthly_weekday", interval=3, count=4), date(2027, 1, 19),
     "Every 3 months on the 3rd Tuesday, 4 times"),
])
def test_describe(rule: Recurrence, first: date, text: str) -> None:
    assert describe(rule, at(first.year, first.month, first.day), LONDON) == text


def test_describe_uses_the_clinics_day() -> None:
    # 03:00 UTC on Tuesday 12 January is still Monday evening in New York.
    start = datetime(2027, 1, 12, 3, 0, tzinfo=UTC)
    assert describe(Recurrence("weekly", count=2), start, NEW_YORK) == (
        "Weekly on Monday, 2 times")
