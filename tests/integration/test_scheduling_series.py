"""Recurring series: booked in local time, clashing occurrences skipped and named, and
every edit (this one or this and following; move or cancel) keeps the other occurrences
and the series' history. Real PostgreSQL; times derived from the database's now()."""

from __future__ import annotations

from datetime import time, timedelta

import pytest
from sqlalchemy import Connection, text

from backend_client.backend import Backend
from backend_client.dto import Recurrence
from backend_client.errors import Clash
from tests.integration.test_scheduling import TZ, Desk, make_desk


@pytest.fixture
def desk(db: Connection, backend: Backend) -> Desk:
    return make_desk(db, backend)

# ------------------------------------------------------------------ series


def _series(desk: Desk, count: int = 5) -> list[int]:
    result = desk.service.book(desk.request(
        10, 0, recurrence=Recurrence("weekly", 1, count=count)))
    assert result.skipped == ()
    return [a.id for a in result.appointments]


def _times(desk: Desk, ids: list[int]) -> list[tuple[str, time, int]]:
    out = []
    for i in ids:
        r = desk.row(i)
        out.append((str(r["status"]), r["starts_at"].astimezone(TZ).time(),  # type: ignore
                    int(r["series_id"])))  # type: ignore[call-overload]
    return out


def test_a_series_books_every_occurrence_in_local_time(desk: Desk) -> None:
    ids = _series(desk, 5)
    starts = [desk.row(i)["starts_at"].astimezone(TZ) for i in ids]  # type: ignore
    assert [s.time() for s in starts] == [time(10)] * 5
    assert [(b - a).days for a, b in zip(starts, starts[1:], strict=False)] == [7] * 4 or \
        all(6 <= (b - a).days <= 7 for a, b in zip(starts, starts[1:], strict=False))
    series = desk.db.execute(text("SELECT * FROM appointment_series WHERE id = :s"),
                             {"s": desk.row(ids[0])["series_id"]}).mappings().one()
    assert series["count"] == 5 and series["time_zone"] == "Europe/Berlin"


def test_moving_one_occurrence_keeps_the_others(desk: Desk) -> None:
    ids = _series(desk)
    before = _times(desk, ids)
    third = desk.service.get(ids[2])
    moved = desk.service.move(ids[2], third.version, provider_id=desk.provider,
                              starts_at=desk.at(11, days=14), ends_at=desk.at(11, 15, days=14))
    assert [a.id for a in moved.appointments] == [ids[2]]
    after = _times(desk, ids)
    assert after[:2] == before[:2] and after[3:] == before[3:]
    assert after[2] == ("booked", time(11), before[2][2])


def test_moving_this_and_following_shifts_them_and_keeps_the_earlier_ones(desk: Desk) -> None:
    ids = _series(desk)
    before = _times(desk, ids)
    third = desk.service.get(ids[2])
    moved = desk.service.move(ids[2], third.version, provider_id=desk.provider,
                              starts_at=desk.at(11, 30, days=14),
                              ends_at=desk.at(11, 45, days=14), scope="following")
    assert sorted(a.id for a in moved.appointments) == sorted(ids[2:])
    after = _times(desk, ids)
    assert after[:2] == before[:2]
    assert [t for _, t, _ in after[2:]] == [time(11, 30)] * 3
    old_series, new_series = before[0][2], after[2][2]
    assert new_series != old_series and {s for _, _, s in after[2:]} == {new_series}
    rule = desk.db.execute(text("SELECT count, until FROM appointment_series WHERE id = :s"),
                           {"s": old_series}).one()
    assert rule.count is None and rule.until == desk.day + timedelta(days=13)
    assert desk.db.execute(text("SELECT count FROM appointment_series WHERE id = :s"),
                           {"s": new_series}).scalar_one() == 3


def test_moving_following_later_by_a_week_does_not_trip_over_itself(desk: Desk) -> None:
    ids = _series(desk, 4)
    first = desk.service.get(ids[0])
    desk.service.move(ids[0], first.version, provider_id=desk.provider,
                      starts_at=desk.at(10, days=7), ends_at=desk.at(10, 15, days=7),
                      scope="following")
    days = [desk.row(i)["starts_at"].astimezone(TZ).date() for i in ids]  # type: ignore
    assert days == [desk.day + timedelta(days=7 * (k + 1)) for k in range(4)]


def test_a_following_move_that_clashes_moves_nothing(desk: Desk) -> None:
    ids = _series(desk)
    before = _times(desk, ids)
    blocker = desk.service.book(desk.request(11, 0, days=28, patient=desk.other_patient))
    third = desk.service.get(ids[2])
    with pytest.raises(Clash) as exc:
        desk.service.move(ids[2], third.version, provider_id=desk.provider,
                          starts_at=desk.at(11, days=14), ends_at=desk.at(11, 15, days=14),
                          scope="following")
    assert "Zweit" in exc.value.message
    assert exc.value.appointment_id == blocker.appointments[0].id
    assert _times(desk, ids) == before


def test_cancelling_one_occurrence_keeps_the_others(desk: Desk) -> None:
    ids = _series(desk)
    second = desk.service.get(ids[1])
    desk.service.cancel(ids[1], second.version, "Holiday")
    assert [s for s, _, _ in _times(desk, ids)] == ["booked", "cancelled", "booked",
                                                    "booked", "booked"]


def test_cancelling_this_and_following_keeps_the_earlier_ones_and_the_history(desk: Desk
                                                                              ) -> None:
    ids = _series(desk)
    desk.service.set_status(ids[0], desk.service.get(ids[0]).version, "no_show")
    fourth = desk.service.get(ids[3])
    result = desk.service.cancel(ids[3], fourth.version, "Moving away", scope="following")
    assert sorted(a.id for a in result.appointments) == sorted(ids[3:])
    assert [s for s, _, _ in _times(desk, ids)] == ["no_show", "booked", "booked",
                                                    "cancelled", "cancelled"]
    assert {desk.row(i)["cancel_reason"] for i in ids[3:]} == {"Moving away"}
    series = desk.row(ids[0])["series_id"]
    assert desk.db.execute(text("SELECT count(*) FROM appointments WHERE series_id = :s"),
                           {"s": series}).scalar_one() == 5


def test_occurrences_that_clash_are_skipped_and_named(desk: Desk) -> None:
    desk.service.book(desk.request(10, 0, days=14, patient=desk.other_patient))
    result = desk.service.book(desk.request(
        10, 0, recurrence=Recurrence("weekly", 1, count=4)))
    assert len(result.appointments) == 3
    assert len(result.skipped) == 1 and "not booked" in result.skipped[0]
    assert "Zweit" in result.skipped[0]
