"""Free slots of a day sheet and the waitlist entries offered for them (pure functions
over hand-made DTOs; the dates are fixed arguments)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from backend_client.dto import (
    AppointmentInfo,
    DaySheet,
    ProviderInfo,
    WaitlistEntry,
    WorkingPeriod,
)
from backend_client.errors import ValidationError
from backend_client.scheduling.waitlist import check, free_slots, offers

LONDON = ZoneInfo("Europe/London")
DAY = date(2027, 6, 1)           # British Summer Time: 12:00 local is 11:00 UTC
DEMO = ProviderInfo(1, "Dr Anna Demo", "General practice", None)
OTHER = ProviderInfo(2, "Dr Ben Other", "General practice", None)


def t(hh: int, mm: int = 0, day: date = DAY) -> datetime:
    return datetime(day.year, day.month, day.day, hh, mm, tzinfo=LONDON)


def hm(moment: datetime) -> str:
    return moment.astimezone(LONDON).strftime("%H:%M")


def appt(provider: int, start: datetime, end: datetime, status: str = "booked",
         id_: int = 1) -> AppointmentInfo:
    return AppointmentInfo(
        id=id_, version=1, provider_id=provider, patient_id=100 + id_,
        patient_name="Müller, Anna", patient_mrn="MRN-1", patient_birth_date=None,
        type_id=None, type_name="Consultation", colour="#1976d2", starts_at=start,
        ends_at=end, status=status, reason="")


def sheet(working: list[tuple[int, datetime, datetime]],
          appointments: tuple[AppointmentInfo, ...] = (),
          providers: tuple[ProviderInfo, ...] = (DEMO, OTHER)) -> DaySheet:
    return DaySheet(DAY, providers, tuple(WorkingPeriod(p, s, e) for p, s, e in working),
                    appointments)


CREATED = datetime(2027, 5, 1, 10, 0, tzinfo=UTC)


def wanting(id_: int, minutes: int, *, provider: int | None = None, part: str = "any",
            earliest: date = date(2027, 5, 1), latest: date | None = None,
            waited_days: int = 0) -> WaitlistEntry:
    return WaitlistEntry(
        id=id_, version=1, patient_id=200 + id_, patient_name=f"Patient, {id_}",
        provider_id=provider, type_id=None, minutes=minutes, earliest=earliest,
        latest=latest, part_of_day=part, note="",
        created_at=CREATED - timedelta(days=waited_days))


def as_text(slots: list[tuple[int, datetime, datetime]]) -> list[str]:
    return [f"{p} {hm(s)}-{hm(e)}" for p, s, e in slots]


EARLY = t(7)          # before the day's hours: "now" does not cut anything


# ------------------------------------------------------------------ free slots


def test_working_time_minus_live_appointments() -> None:
    day = sheet([(1, t(9), t(12, 30)), (1, t(13, 30), t(17))], (
        appt(1, t(9), t(9, 30)),
        appt(1, t(10), t(10, 20), "cancelled", 2),       # cancelled: its time is free
        appt(1, t(11), t(11, 30), "completed", 3),
        appt(1, t(13, 30), t(14), "no_show", 4),         # no-show: free too
        appt(1, t(16, 30), t(17, 30), "checked_in", 5),  # runs past the end of the day
    ))
    assert as_text(free_slots(day, EARLY)) == [
        "1 09:30-11:00", "1 11:30-12:30", "1 13:30-16:30"]


def test_free_time_starts_at_the_next_five_minutes_after_now() -> None:
    day = sheet([(1, t(9), t(12))])
    now = t(10, 3) + timedelta(seconds=27)
    assert as_text(free_slots(day, now)) == ["1 10:05-12:00"]
    assert as_text(free_slots(day, t(10, 5))) == ["1 10:05-12:00"]
    assert free_slots(day, t(12)) == []
    assert free_slots(day, t(9, day=date(2027, 6, 2))) == []


def test_short_gaps_are_not_slots() -> None:
    day = sheet([(1, t(9), t(10))], (appt(1, t(9), t(9, 20)), appt(1, t(9, 30), t(10), id_=2)))
    assert as_text(free_slots(day, EARLY)) == ["1 09:20-09:30"]
    assert free_slots(day, EARLY, minimum_minutes=15) == []


def test_back_to_back_appointments_leave_nothing() -> None:
    day = sheet([(1, t(9), t(10))], (appt(1, t(9), t(9, 30)), appt(1, t(9, 30), t(10), id_=2)))
    assert free_slots(day, EARLY) == []


def test_overlapping_hours_are_one_stretch() -> None:
    day = sheet([(1, t(9), t(11)), (1, t(10), t(12)), (1, t(12), t(13))])
    assert as_text(free_slots(day, EARLY)) == ["1 09:00-13:00"]


def test_another_providers_appointment_does_not_take_the_time() -> None:
    day = sheet([(1, t(9), t(10)), (2, t(9), t(10))], (appt(2, t(9), t(10)),))
    assert as_text(free_slots(day, EARLY)) == ["1 09:00-10:00"]


def test_slots_in_time_order_then_the_sheets_provider_order() -> None:
    day = sheet([(1, t(10), t(11)), (2, t(9), t(10)), (1, t(9), t(9, 30)),
                 (2, t(10), t(10, 30))], (appt(2, t(9, 30), t(10)),),
                providers=(OTHER, DEMO))
    assert as_text(free_slots(day, EARLY)) == [
        "2 09:00-09:30", "1 09:00-09:30", "2 10:00-10:30", "1 10:00-11:00"]


def test_slots_are_in_utc() -> None:
    (slot,) = free_slots(sheet([(1, t(9), t(10))]), EARLY)
    assert slot[1] == datetime(2027, 6, 1, 8, 0, tzinfo=UTC)
    assert slot[1].utcoffset() == timedelta(0)


# ------------------------------------------------------------------ offers


def test_a_cancelled_appointment_is_offered_to_who_fits() -> None:
    day = sheet([(1, t(9), t(10))], (appt(1, t(9), t(9, 30), "cancelled"),
                                     appt(1, t(9, 30), t(10), id_=2)))
    fits, too_long = wanting(1, 20), wanting(2, 45)
    (offer,) = offers(day, [fits, too_long], EARLY, LONDON)
    assert (offer.provider_id, hm(offer.starts_at), hm(offer.ends_at)) == (1, "09:00", "09:30")
    assert offer.entries == (fits,)


def test_provider_any_or_the_same() -> None:
    day = sheet([(1, t(9), t(10)), (2, t(9), t(10))])
    anyone, demo, other = wanting(1, 30), wanting(2, 30, provider=1), wanting(3, 30, provider=2)
    by_provider = {o.provider_id: o.entries for o in offers(day, [anyone, demo, other],
                                                             EARLY, LONDON)}
    assert by_provider == {1: (anyone, demo), 2: (anyone, other)}


@pytest.mark.parametrize(("earliest", "latest", "offered"), [
    (date(2027, 6, 1), None, True),
    (date(2027, 6, 2), None, False),
    (date(2027, 5, 1), date(2027, 6, 1), True),        # latest is inclusive
    (date(2027, 5, 1), date(2027, 5, 31), False),
])
def test_the_day_must_be_within_earliest_and_latest(earliest: date, latest: date | None,
                                                    offered: bool) -> None:
    day = sheet([(1, t(9), t(10))])
    entry = wanting(1, 30, earliest=earliest, latest=latest)
    assert bool(offers(day, [entry], EARLY, LONDON)) is offered


def test_the_day_is_the_clinics_not_utcs() -> None:
    # 00:30 on 2 June in London is 23:30 on 1 June in UTC.
    day = sheet([(1, t(0, 30, date(2027, 6, 2)), t(1, 30, date(2027, 6, 2)))])
    late = wanting(1, 30, earliest=date(2027, 6, 2), latest=date(2027, 6, 2))
    assert [o.entries for o in offers(day, [late], EARLY, LONDON)] == [(late,)]


def test_morning_and_afternoon_by_local_time() -> None:
    # 11:00-13:00 local (10:00-12:00 UTC): an hour each side of noon.
    day = sheet([(1, t(11), t(13))])
    morning_60 = wanting(1, 60, part="morning")
    morning_90 = wanting(2, 90, part="morning")
    afternoon_60 = wanting(3, 60, part="afternoon")
    afternoon_61 = wanting(4, 61, part="afternoon")
    anytime_120 = wanting(5, 120)
    (offer,) = offers(day, [morning_60, morning_90, afternoon_60, afternoon_61, anytime_120],
                      EARLY, LONDON)
    assert {e.id for e in offer.entries} == {1, 3, 5}


def test_an_afternoon_slot_is_not_offered_for_the_morning() -> None:
    day = sheet([(1, t(12), t(13))])
    assert offers(day, [wanting(1, 15, part="morning")], EARLY, LONDON) == ()
    assert len(offers(day, [wanting(1, 15, part="afternoon")], EARLY, LONDON)) == 1


def test_longest_waiting_first_then_the_closest_length() -> None:
    day = sheet([(1, t(9), t(10))])
    newest_best_fit = wanting(1, 60)
    oldest_short = wanting(2, 15, waited_days=10)
    middle_40 = wanting(3, 40, waited_days=5)
    middle_50 = wanting(4, 50, waited_days=5)
    (offer,) = offers(day, [newest_best_fit, middle_40, oldest_short, middle_50],
                      EARLY, LONDON)
    assert [e.id for e in offer.entries] == [2, 4, 3, 1]


def test_nobody_fits_no_offer() -> None:
    day = sheet([(1, t(9), t(9, 30))])
    assert offers(day, [wanting(1, 45)], EARLY, LONDON) == ()
    assert offers(day, [], EARLY, LONDON) == ()


def test_offers_only_from_now_on() -> None:
    day = sheet([(1, t(9), t(12))])
    entry = wanting(1, 60)
    (offer,) = offers(day, [entry], t(10, 30), LONDON)
    assert hm(offer.starts_at) == "10:30"
    assert offers(day, [entry], t(11, 1), LONDON) == ()


def test_several_slots_in_time_order() -> None:
    day = sheet([(1, t(9), t(12)), (2, t(8), t(9))], (appt(1, t(10), t(11)),))
    entry = wanting(1, 30)
    assert [(o.provider_id, hm(o.starts_at)) for o in offers(day, [entry], EARLY, LONDON)] == [
        (2, "08:00"), (1, "09:00"), (1, "11:00")]


# ------------------------------------------------------------------ input


@pytest.mark.parametrize(("change", "field", "sentence"), [
    ({"minutes": 4}, "minutes", "The length must be 5 to 480 minutes, not 4."),
    ({"minutes": 481}, "minutes", "The length must be 5 to 480 minutes, not 481."),
    ({"latest": date(2027, 5, 31)}, "latest",
     "The latest date (31 May 2027) cannot be before the earliest (1 Jun 2027)."),
    ({"part_of_day": "evening"}, "part_of_day", "Choose any time, morning or afternoon."),
    ({"note": "x" * 501}, "note", "The note can have at most 500 characters; it has 501."),
])
def test_bad_input_says_which_field(change: dict[str, object], field: str,
                                    sentence: str) -> None:
    good: dict[str, object] = {"minutes": 30, "earliest": DAY, "latest": None,
                               "part_of_day": "any", "note": ""}
    check(**good)  # type: ignore[arg-type]
    with pytest.raises(ValidationError) as caught:
        check(**{**good, **change})  # type: ignore[arg-type]
    assert caught.value.errors == {field: sentence}


def test_every_bad_field_at_once() -> None:
    with pytest.raises(ValidationError) as caught:
        check(minutes=0, earliest=DAY, latest=date(2027, 1, 1), part_of_day="night",
              note="x" * 600)
    assert set(caught.value.errors) == {"minutes", "latest", "part_of_day", "note"}

