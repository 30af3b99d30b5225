"""What matching the waitlist and expanding a series cost (pure functions, no stores): the
median ``waitlist.free_slots`` and ``waitlist.offers`` over a busy day sheet (50 providers
x 30 appointments, a fifth of them cancelled, so gaps everywhere) with 500 waiting
entries, and ``recurrence.expand`` of a 200-occurrence weekly series across clock changes.

    python -m benchmarks waitlist      (BENCH_WAITLIST_N sets the samples, default 20)
"""

from __future__ import annotations

import os
import random
import statistics
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from backend_client.dto import (
    AppointmentInfo,
    DaySheet,
    ProviderInfo,
    Recurrence,
    WaitlistEntry,
    WorkingPeriod,
)
from backend_client.scheduling import recurrence, waitlist

TZ = ZoneInfo("Europe/London")
DAY = date(2027, 6, 1)


def _median_ms(fn: Callable[[], object], n: int) -> float:
    samples = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t0) * 1000)
    return statistics.median(samples)


def _sheet(rng: random.Random, providers: int = 50, per_provider: int = 30) -> DaySheet:
    def at(minutes: int) -> datetime:
        return datetime(DAY.year, DAY.month, DAY.day, tzinfo=TZ) + timedelta(minutes=minutes)

    infos = tuple(ProviderInfo(p, f"Dr {p}", "General practice", None)
                  for p in range(1, providers + 1))
    working, appointments = [], []
    for p in range(1, providers + 1):
        working += [WorkingPeriod(p, at(8 * 60), at(12 * 60 + 30)),
                    WorkingPeriod(p, at(13 * 60 + 30), at(18 * 60))]
        starts = sorted(rng.sample(range(8 * 60, 18 * 60 - 15, 15), per_provider))
        for k, start in enumerate(starts):
            status = "cancelled" if rng.random() < 0.2 else "booked"
            appointments.append(AppointmentInfo(
                id=p * 100 + k, version=1, provider_id=p, patient_id=k, patient_name="X, Y",
                patient_mrn="", patient_birth_date=None, type_id=None, type_name="",
                colour="#000000", starts_at=at(start), ends_at=at(start + 15),
                status=status, reason=""))
    return DaySheet(DAY, infos, tuple(working), tuple(appointments))


def _entries(rng: random.Random, n: int = 500) -> list[WaitlistEntry]:
    created = datetime(2027, 5, 1, tzinfo=UTC)
    return [WaitlistEntry(
        id=i, version=1, patient_id=i, patient_name="X, Y",
        provider_id=rng.choice([None, None, rng.randint(1, 50)]), type_id=None,
        minutes=rng.choice([10, 15, 20, 30, 45]), earliest=date(2027, 5, 1),
        latest=rng.choice([None, date(2027, 6, 30), date(2027, 5, 31)]),
        part_of_day=rng.choice(["any", "morning", "afternoon"]), note="",
        created_at=created + timedelta(minutes=i)) for i in range(n)]


def main() -> None:
    n = int(os.environ.get("BENCH_WAITLIST_N", "20"))
    rng = random.Random(10)
    sheet, entries = _sheet(rng), _entries(rng)
    now = datetime(DAY.year, DAY.month, DAY.day, 7, tzinfo=TZ)
    slots = waitlist.free_slots(sheet, now)
    found = waitlist.offers(sheet, entries, now, TZ)
    print(f"day sheet: {len(sheet.providers)} providers, {len(sheet.appointments)} "
          f"appointments; {len(entries)} waiting entries")
    slots_ms = _median_ms(lambda: waitlist.free_slots(sheet, now), n)
    offers_ms = _median_ms(lambda: waitlist.offers(sheet, entries, now, TZ), n)
    print(f"free_slots: {len(slots)} slots, median {slots_ms:.2f} ms")
    print(f"offers: {len(found)} slots offered, {sum(len(o.entries) for o in found)} "
          f"entry-slot pairs, median {offers_ms:.1f} ms")
    start = datetime(2027, 1, 5, 9, tzinfo=TZ)
    end = start + timedelta(minutes=20)
    rule = Recurrence("weekly", count=200)
    occurrences, _ = recurrence.expand(rule, start, end, TZ)
    expand_ms = _median_ms(lambda: recurrence.expand(rule, start, end, TZ), n)
    print(f"expand: {len(occurrences)} weekly occurrences, median {expand_ms:.2f} ms")
