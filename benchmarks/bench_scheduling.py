"""Scheduling under load, on the embedded stack, through a signed-in receptionist's session
on the app's login (row security, triggers and the audit chain all in the path).

1. Racing bookings: 8 threads book ``BENCH_SCHED_N`` (default 10,000) random appointments
   over 20 providers and 5 days (many overlap on purpose). Afterwards SQL counts overlapping
   live appointments (must be 0: the EXCLUDE constraint). Figures: bookings/s, the latency
   of a booking under contention (p50, p99) against one thread alone (p50), target p99
   <= 3x the uncontended p50.
2. The day sheet of 50 providers x 30 appointments: cold (every read from PostgreSQL)
   against cached (versions read, sealed entry opened from Redis); target >= 5x, cold
   <= 30 ms.

    python -m benchmarks scheduling     (BENCH_SCHED_N, BENCH_SCHED_SHEETS to shrink;
                                          BENCH_SCHED_THREADS, default 8)
"""

from __future__ import annotations

import os
import random
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, create_engine, text

from backend_client.accounts.service import AccountService
from backend_client.accounts.signin import build_session_services
from backend_client.backend import open_backend
from backend_client.config import load_settings
from backend_client.dto import BookingRequest
from backend_client.errors import Clash
from backend_client.scheduling.service import SchedulingService
from backend_client.schema import migrate
from backend_client.sync.cache import SealedCache

PASSWORD = "benchmark harbour lantern 12"
TZ = ZoneInfo("Europe/Berlin")
THREADS = int(os.environ.get("BENCH_SCHED_THREADS", "8"))


def _ms(fn: Callable[[], object]) -> float:
    t0 = time.perf_counter()
    fn()
    return (time.perf_counter() - t0) * 1000


def _pct(values: list[float], p: int) -> float:
    return statistics.quantiles(values, n=100)[p - 1] if len(values) >= 2 else values[0]


def _providers(owner: Engine, n: int, tag: str) -> list[int]:
    """``n`` providers working all day, every day (no warnings to override)."""
    with owner.begin() as conn:
        ids = [int(conn.execute(text(
            "INSERT INTO providers (title, given_name, family_name, specialty) "
            "VALUES ('Dr', 'Bench', :f, 'Family medicine') RETURNING id"),
            {"f": f"{tag}{i:03d}"}).scalar_one()) for i in range(n)]
        conn.execute(text(
            "INSERT INTO provider_working_hours (provider_id, weekday, starts_at, ends_at) "
            "SELECT p, w, '00:00', '23:59' FROM unnest(CAST(:p AS bigint[])) p, "
            "generate_series(1, 7) w"), {"p": ids})
    return ids


def _patients(owner: Engine, n: int) -> list[int]:
    with owner.begin() as conn:
        return [int(r[0]) for r in conn.execute(text(
            "INSERT INTO patients (given_name, family_name, birth_date, sex, sort_name) "
            "SELECT 'Bench', 'Patient' || g, DATE '1970-01-01' + g, 'female', "
            "'patient' || g FROM generate_series(1, :n) g RETURNING id"), {"n": n})]


def _day(owner: Engine, ahead: int) -> date:
    with owner.connect() as conn:
        now: datetime = conn.execute(text("SELECT now()")).scalar_one()
    return (now.astimezone(TZ) + timedelta(days=ahead)).date()


def _random_request(rng: random.Random, providers: list[int], patients: list[int],
                    first_day: date) -> BookingRequest:
    day = first_day + timedelta(days=rng.randrange(5))
    start = datetime(day.year, day.month, day.day, 8, 0, tzinfo=TZ) + timedelta(
        minutes=5 * rng.randrange(9 * 12))
    return BookingRequest(rng.choice(providers), rng.choice(patients), start,
                          start + timedelta(minutes=rng.choice((10, 15, 20, 30))),
                          override_reason="benchmark")


def bench_bookings(desks: list[SchedulingService], owner: Engine, n: int) -> None:
    """Each thread is a desk of its own (its own signed-in session), as at a clinic."""
    service = desks[0]
    providers = _providers(owner, 20, "Race")
    patients = _patients(owner, 400)
    # Uncontended: one thread, on days of its own.
    solo_rng = random.Random(1)
    solo_day = _day(owner, 60)
    solo = []
    for _ in range(min(300, max(30, n // 30))):
        request = _random_request(solo_rng, providers, patients, solo_day)
        t0 = time.perf_counter()
        try:
            service.book(request)
        except Clash:
            pass
        solo.append((time.perf_counter() - t0) * 1000)
    race_day = _day(owner, 30)
    latencies: list[list[float]] = [[] for _ in range(THREADS)]
    outcome = {"booked": 0, "clash": 0}
    lock = threading.Lock()

    def worker(k: int) -> None:
        rng = random.Random(100 + k)
        for _ in range(n // THREADS):
            request = _random_request(rng, providers, patients, race_day)
            t0 = time.perf_counter()
            try:
                desks[k].book(request)
                what = "booked"
            except Clash:
                what = "clash"
            latencies[k].append((time.perf_counter() - t0) * 1000)
            with lock:
                outcome[what] += 1

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(THREADS)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    with owner.connect() as conn:
        overlaps = conn.execute(text("""
            SELECT count(*) FROM appointments a JOIN appointments b
              ON a.provider_id = b.provider_id AND a.id < b.id
             AND tstzrange(a.starts_at, a.ends_at) && tstzrange(b.starts_at, b.ends_at)
             WHERE a.provider_id = ANY(:p)
               AND a.status NOT IN ('cancelled', 'no_show')
               AND b.status NOT IN ('cancelled', 'no_show')"""),
            {"p": providers}).scalar_one()
    every = [x for xs in latencies for x in xs]
    solo_p50 = statistics.median(solo)
    p50, p99 = statistics.median(every), _pct(every, 99)
    attempts = len(every)
    print(f"racing bookings: {attempts} attempts by {THREADS} threads over 20 providers in "
          f"{wall:.1f} s: {attempts / wall:.0f} attempts/s, {outcome['booked'] / wall:.0f} "
          f"bookings/s ({outcome['booked']} booked, {outcome['clash']} refused as clashes)")
    print(f"overlapping live appointments afterwards (SQL): {overlaps}")
    print(f"booking latency: uncontended p50 {solo_p50:.1f} ms (1 thread, {len(solo)}); "
          f"contended p50 {p50:.1f} ms, p99 {p99:.1f} ms = {p99 / solo_p50:.1f}x the "
          "uncontended p50 (target <= 3x)")
    rate = attempts / wall
    print(f"  {THREADS} threads on {os.cpu_count()} cores: {THREADS} in flight at {rate:.0f}/s "
          f"is {THREADS / rate * 1000:.0f} ms each on average (Little's law); the rest of "
          "the tail is waiting for locks (the audit chain, a provider-day's cache version, "
          "the overlap check of a concurrent booking)")


def bench_day_sheet(service: SchedulingService, redis_only: SchedulingService,
                    cold: SchedulingService, owner: Engine, rounds: int) -> None:
    providers = _providers(owner, 50, "Sheet")
    patients = _patients(owner, 300)
    day = _day(owner, 90)
    with owner.begin() as conn:
        # 30 appointments of 15 minutes each per provider, 08:00-15:30 local time.
        start = datetime(day.year, day.month, day.day, 8, 0, tzinfo=TZ)
        conn.execute(text(
            "INSERT INTO appointments (provider_id, patient_id, starts_at, ends_at, reason) "
            "SELECT p, (CAST(:pa AS bigint[]))[1 + (p * 31 + k) % :np], "
            ":s + make_interval(mins => 15 * k), :s + make_interval(mins => 15 * k + 15), "
            "'check-up' FROM unnest(CAST(:pr AS bigint[])) p, generate_series(0, 29) k"),
            {"pa": patients, "np": len(patients), "s": start, "pr": providers})
    ids = tuple(providers)
    for _ in range(5):  # warm both (connections, statements, the cache's key)
        cold.day_sheet(day, ids)
        service.day_sheet(day, ids)
    cold_ms, warm_ms, redis_ms = [], [], []
    for _ in range(rounds):
        cold_ms.append(_ms(lambda: cold.day_sheet(day, ids)))
        warm_ms.append(_ms(lambda: service.day_sheet(day, ids)))
        redis_ms.append(_ms(lambda: redis_only.day_sheet(day, ids)))
    sheet = service.day_sheet(day, ids)
    assert sheet == cold.day_sheet(day, ids) == redis_only.day_sheet(day, ids)
    c, w, r = (statistics.median(x) for x in (cold_ms, warm_ms, redis_ms))
    print(f"day sheet, {len(ids)} providers x 30 appointments "
          f"({len(sheet.appointments)} rows), {rounds} reads each:")
    print(f"  cold (PostgreSQL): median {c:.1f} ms, p95 {_pct(cold_ms, 95):.1f} ms "
          "(target <= 30 ms)")
    print(f"  cached, re-read on this workstation (versions + memo): median {w:.2f} ms, "
          f"p95 {_pct(warm_ms, 95):.2f} ms: {c / w:.1f}x faster (target >= 5x)")
    print(f"  cached, first read after another workstation sealed it (versions + Redis "
          f"+ AES-GCM + decode): median {r:.2f} ms, p95 {_pct(redis_ms, 95):.2f} ms: "
          f"{c / r:.1f}x faster")


def main() -> None:
    n = int(os.environ.get("BENCH_SCHED_N", "10000"))
    rounds = int(os.environ.get("BENCH_SCHED_SHEETS", "200"))
    with tempfile.TemporaryDirectory(prefix="bench-sched-") as tmp:
        backend = open_backend(load_settings(data_dir=Path(tmp)))
        try:
            migrate(backend)
            AccountService(backend.owner_engine).add_user("benchdesk", "Bench Desk",
                                                          PASSWORD, ["receptionist"])
            engine = create_engine(backend.engine.url, pool_size=THREADS + 2)
            cache = SealedCache(backend.redis)
            desks = []
            for k in range(max(1, THREADS)):
                desk = build_session_services(engine, backend.mongo_db,
                                              workstation=f"bench-{k + 1}")
                desk.signin.sign_in("benchdesk", PASSWORD)
                desks.append(SchedulingService(engine, desk.access, cache=cache, tz=TZ))
            service = desks[0]
            cold = SchedulingService(engine, service.access, cache=SealedCache(None), tz=TZ)
            redis_only = SchedulingService(engine, service.access, tz=TZ,
                                           cache=SealedCache(backend.redis, memo_entries=0))
            bench_day_sheet(service, redis_only, cold, backend.owner_engine, rounds)
            bench_bookings(desks, backend.owner_engine, n)
            engine.dispose()
        finally:
            backend.close(stop_stack=True)
