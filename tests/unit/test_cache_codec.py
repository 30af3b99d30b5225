"""The cache's codec: a day sheet comes back exactly as it went in, and anything of
another shape is refused (the cache then reloads from PostgreSQL)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from backend_client.dto import AppointmentInfo, DaySheet, ProviderInfo, WorkingPeriod
from backend_client.sync.cache import TypedCodec

T0 = datetime(2026, 3, 29, 0, 30, tzinfo=UTC)


def _sheet() -> DaySheet:
    berlin = timezone(timedelta(hours=2))
    a = AppointmentInfo(7, 3, 1, 2, "Müller, Anna", "M1000001", date(1980, 3, 12), None, "",
                        "#607d8b", T0, T0 + timedelta(minutes=15), "booked", "Knie",
                        series_id=None, updated_at=T0.astimezone(berlin), updated_by="Rita")
    b = AppointmentInfo(8, 1, 1, 3, "Ødegaard, Ola", "", None, 4, "Consultation", "#1976d2",
                        T0, T0 + timedelta(minutes=30), "cancelled", "", series_id=12,
                        cancel_reason="ill", override_reason="asked")
    return DaySheet(date(2026, 3, 29), (ProviderInfo(1, "Dr Anna Demo", "GP", None),),
                    (WorkingPeriod(1, T0, T0 + timedelta(hours=4)),), (a, b), stamp="abc")


def test_a_day_sheet_comes_back_exactly() -> None:
    codec = TypedCodec(DaySheet)
    sheet = _sheet()
    back = codec.decode(codec.encode(sheet))
    assert back == sheet
    assert back.appointments[0].updated_at.utcoffset() == timedelta(hours=2)
    assert isinstance(back.providers, tuple) and isinstance(back.appointments[1], AppointmentInfo)


def test_a_tuple_of_providers() -> None:
    codec = TypedCodec(tuple[ProviderInfo, ...])
    value = (ProviderInfo(1, "A", "B", 5), ProviderInfo(2, "C", "D", None))
    assert codec.decode(codec.encode(value)) == value


@pytest.mark.parametrize("raw", [
    b"{}", b"[]", b'["2026-03-29"]', b"null",
    # the right length with a field of the wrong structure (plain values are not checked:
    # only entries that opened with the database's key are decoded at all)
    json.dumps(["2026-03-29", {}, [], [], ""]).encode(),
    json.dumps(["2026-03-29", [[1]], [], [], ""]).encode(),
])
def test_another_shape_is_refused(raw: bytes) -> None:
    with pytest.raises((ValueError, TypeError)):
        TypedCodec(DaySheet).decode(raw)


def test_a_type_it_cannot_encode_is_refused_when_built() -> None:
    with pytest.raises(TypeError):
        TypedCodec(dict[str, int])
