"""The schedule cache is never stale, never trusts what Redis hands back, and never breaks
the schedule when Redis is gone. Two workstations here are two processes' worth of clients
(their own engines on the app's login, their own Redis connections), with committed data,
as at a clinic."""

from __future__ import annotations

import os
import random
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from redis import Redis
from sqlalchemy import Engine, create_engine, text

from backend_client.accounts.access import SessionAccess, SystemAccess
from backend_client.backend import Backend
from backend_client.config import Settings
from backend_client.dto import BookingRequest, DaySheet
from backend_client.errors import Clash
from backend_client.local_stack.servers import RedisServer
from backend_client.patients.service import PatientService
from backend_client.scheduling.service import SchedulingService
from backend_client.stores.postgres.engine import normalise_url
from backend_client.stores.redis.client import build_redis
from backend_client.sync.cache import PREFIX, SealedCache
from tests.integration.conftest import TODAY, add_user, signed_in
from tests.integration.test_patient_registry import draft
from tests.integration.test_scheduling import TZ, add_provider, database_day

ROUNDS = int(os.environ.get("DRA_CACHE_ROUNDS", "40"))


@dataclass
class Workstation:
    service: SchedulingService
    cache: SealedCache
    engine: Engine
    redis: Redis


@dataclass
class Clinic:
    backend: Backend
    a: Workstation
    b: Workstation
    provider: int
    patients: list[int]
    day: date
    type_id: int
    access: list[SessionAccess]

    def owner(self, sql: str, **params: object) -> list[object]:
        with self.backend.owner_engine.begin() as conn:
            result = conn.execute(text(sql), params)
            return list(result.all()) if result.returns_rows else []


def _workstation(settings: Settings, access: SessionAccess, redis: Redis | None = None,
                 memo: int = 16) -> Workstation:
    assert settings.postgres_url and settings.redis_url
    engine = create_engine(normalise_url(settings.postgres_url), pool_size=2)
    client = redis if redis is not None else build_redis(settings.redis_url)
    cache = SealedCache(client, memo_entries=memo)
    return Workstation(SchedulingService(engine, access, cache=cache, tz=TZ), cache, engine,
                       client)


@pytest.fixture
def clinic(backend: Backend, settings: Settings) -> Iterator[Clinic]:
    owner = backend.owner_engine
    tag = uuid.uuid4().hex[:6]
    users = [add_user(owner, ("receptionist",), display_name=f"Desk {n} {tag}")
             for n in (1, 2)]
    access = [signed_in(backend, owner, u, workstation=f"DESK-{n}-{tag}")
              for n, u in enumerate(users)]
    with owner.begin() as conn:
        provider = add_provider(conn, f"Cache{tag}")
        type_id = int(conn.execute(text("SELECT id FROM appointment_types "
                                        "WHERE name = 'Consultation'")).scalar_one())
        day = database_day(conn, 10)
    system = PatientService(owner, SystemAccess("ws-setup"), today=lambda: TODAY)
    # No phone or e-mail: committed rows must not turn up in other tests' searches.
    patients = [system.register(draft(family_name=f"Cachetest{tag}", given_name=g, phone="",
                                      email="")).id
                for g in ("Ada", "Bea", "Cem")]
    a, b = _workstation(settings, access[0]), _workstation(settings, access[1])
    yield Clinic(backend, a, b, provider, patients, day, type_id, access)
    for w in (a, b):
        w.engine.dispose()
        w.redis.close()
    with owner.begin() as conn:
        conn.execute(text("DELETE FROM app_sessions WHERE user_id = ANY(:u)"), {"u": users})


def _ids(sheet: DaySheet) -> list[tuple[int, int, str]]:
    return sorted((a.id, a.version, a.status) for a in sheet.appointments)


def test_another_workstation_sees_every_committed_change_at_once(clinic: Clinic) -> None:
    """Round after round, A changes the day and B (whose cache holds the day from just
    before) reads it: B always sees exactly what the database has."""
    rng = random.Random(10)
    a, b = clinic.a.service, clinic.b.service
    # What PostgreSQL says, with no cache in the way.
    postgres = SchedulingService(clinic.a.engine, clinic.access[0], cache=SealedCache(None),
                                 tz=TZ)
    live: list[int] = []
    hits_before = clinic.b.cache.stats().hits
    for n in range(ROUNDS):
        warm = b.day_sheet(clinic.day, (clinic.provider,))
        assert b.day_sheet(clinic.day, (clinic.provider,)).stamp == warm.stamp
        action = rng.choice(("book", "book", "move", "cancel", "arrive")) if live else "book"
        if action == "book":
            begin = datetime.combine(clinic.day, time(8), tzinfo=TZ) + timedelta(
                minutes=(n * 15) % (8 * 60))
            try:
                booked = a.book(BookingRequest(
                    clinic.provider, rng.choice(clinic.patients), begin,
                    begin + timedelta(minutes=10), type_id=clinic.type_id,
                    override_reason="cache test"))
                live.append(booked.appointments[0].id)
            except Clash:  # with an earlier round's booking: nothing changed
                pass
        else:
            target = rng.choice(live)
            current = a.get(target)
            later = (current.starts_at + timedelta(minutes=5),
                     current.ends_at + timedelta(minutes=5))
            if action == "move" and not _overlaps(a, clinic, current.id, *later):
                a.move(target, current.version, provider_id=clinic.provider,
                       starts_at=later[0], ends_at=later[1], override_reason="cache test")
            elif action == "cancel":
                a.cancel(target, current.version, "cache test")
                live.remove(target)
            elif current.status == "booked":
                a.set_status(target, current.version, "checked_in")
        if n % 2:  # A reads first: B then opens what A sealed into Redis
            a.day_sheet(clinic.day, (clinic.provider,))
        truth = postgres.day_sheet(clinic.day, (clinic.provider,))
        seen = b.day_sheet(clinic.day, (clinic.provider,))
        assert _ids(seen) == _ids(truth), (n, action)
        assert seen == truth  # every field, as PostgreSQL has it now
    # B's cache was used (the unchanged re-reads hit), so the rounds tested the cache.
    assert clinic.b.cache.stats().hits - hits_before >= ROUNDS


def _overlaps(service: SchedulingService, clinic: Clinic, own: int, start: datetime,
              end: datetime) -> bool:
    sheet = service.day_sheet(clinic.day, (clinic.provider,))
    return any(x.id != own and x.status in ("booked", "checked_in")
               and x.starts_at < end and x.ends_at > start
               for x in sheet.appointments)


def test_a_renamed_patient_and_a_changed_directory_are_seen_at_once(clinic: Clinic) -> None:
    start = datetime.combine(clinic.day, time(9),
                                                    tzinfo=TZ)
    clinic.a.service.book(BookingRequest(clinic.provider, clinic.patients[0], start,
                                         start + timedelta(minutes=15)))
    before = clinic.b.service.day_sheet(clinic.day, (clinic.provider,))
    clinic.owner("UPDATE patients SET family_name = 'Renamed' || family_name WHERE id = :p",
                 p=clinic.patients[0])
    after = clinic.b.service.day_sheet(clinic.day, (clinic.provider,))
    assert after.appointments[0].patient_name.startswith("Renamed")
    assert after.stamp != before.stamp
    names = {p.display_name for p in clinic.b.service.providers()}
    clinic.owner("UPDATE providers SET given_name = 'Berta' WHERE id = :p", p=clinic.provider)
    assert {p.display_name for p in clinic.b.service.providers()} != names
    clinic.owner("UPDATE provider_breaks SET ends_at = '12:30' WHERE provider_id = :p",
                 p=clinic.provider)
    working = clinic.b.service.day_sheet(clinic.day, (clinic.provider,)).working
    assert [w.starts_at.astimezone(TZ).strftime("%H:%M") for w in working] == ["08:00",
                                                                               "12:30"]


def test_a_tampered_or_planted_entry_is_reloaded_never_served(clinic: Clinic,
                                                              settings: Settings) -> None:
    start = datetime.combine(clinic.day, time(9), tzinfo=TZ)
    clinic.a.service.book(BookingRequest(clinic.provider, clinic.patients[1], start,
                                         start + timedelta(minutes=15)))
    sheet = clinic.a.service.day_sheet(clinic.day, (clinic.provider,))
    key = f"{PREFIX}daysheet:{sheet.stamp}"
    # A workstation that keeps nothing in memory: every read opens what Redis holds.
    b = _workstation(settings, clinic.access[1], memo=0)
    redis = b.redis
    sealed = redis.get(key)
    assert sealed is not None and b"Cachetest" not in sealed  # PHI is not readable there
    stats = b.cache.stats()
    # One flipped bit, then an entry sealed with another key (what the Redis login alone
    # could make), then plain JSON: none is served; each is replaced by the real sheet.
    flipped = bytearray(sealed)
    flipped[-1] ^= 1
    forged_key = AESGCM(AESGCM.generate_key(bit_length=256))
    nonce = os.urandom(12)
    forged = nonce + forged_key.encrypt(nonce, b'{"@":"DaySheet","f":{}}', key.encode())
    for planted in (bytes(flipped), forged, b'{"@":"DaySheet"}'):
        redis.set(key, planted)
        seen = b.service.day_sheet(clinic.day, (clinic.provider,))
        assert seen == sheet
        assert redis.get(key) not in (planted, None)
    assert b.cache.stats().rejected - stats.rejected == 3
    b.engine.dispose()


def test_with_redis_down_the_day_sheet_comes_from_postgresql(clinic: Clinic,
                                                             settings: Settings,
                                                             own_redis: tuple[RedisServer, str]
                                                             ) -> None:
    server, url = own_redis
    w = _workstation(settings, clinic.access[1], redis=build_redis(url, timeout_seconds=1))
    try:
        start = datetime.combine(
            clinic.day, time(11), tzinfo=TZ)
        first = w.service.day_sheet(clinic.day, (clinic.provider,))
        assert w.cache.stats().misses == 2  # the providers, then the sheet
        server.stop()
        clinic.a.service.book(BookingRequest(clinic.provider, clinic.patients[2], start,
                                             start + timedelta(minutes=15)))
        for _ in range(3):
            sheet = w.service.day_sheet(clinic.day, (clinic.provider,))
            assert len(sheet.appointments) == len(first.appointments) + 1
        assert w.cache.stats().redis_errors == 1  # then left alone for a while
        assert w.service.providers()
    finally:
        w.engine.dispose()


def test_a_dead_redis_port_costs_nothing_but_the_cache(clinic: Clinic, settings: Settings
                                                       ) -> None:
    dead = build_redis("redis://127.0.0.1:9/0", timeout_seconds=0.5)
    w = _workstation(settings, clinic.access[0], redis=dead)
    try:
        assert w.service.day_sheet(clinic.day, (clinic.provider,)).providers
        assert w.cache.stats().redis_errors == 1
    finally:
        w.engine.dispose()


def test_desks_racing_for_one_slot_get_one_booking_and_named_clashes(clinic: Clinic,
                                                                     settings: Settings
                                                                     ) -> None:
    desks = [clinic.a, clinic.b, *(_workstation(settings, clinic.access[n % 2])
                                   for n in range(4))]
    start = datetime.combine(clinic.day, time(15), tzinfo=TZ)
    barrier = threading.Barrier(len(desks))
    outcomes: list[object] = []
    lock = threading.Lock()

    def race(w: Workstation, patient: int) -> None:
        barrier.wait()
        try:
            result: object = w.service.book(BookingRequest(
                clinic.provider, patient, start, start + timedelta(minutes=20)))
        except Clash as exc:
            result = exc
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=race, args=(w, clinic.patients[n % 3]))
               for n, w in enumerate(desks)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    won = [o for o in outcomes if not isinstance(o, Clash)]
    lost = [o for o in outcomes if isinstance(o, Clash)]
    assert len(won) == 1 and len(lost) == len(desks) - 1
    winner = won[0].appointments[0]  # type: ignore[attr-defined]
    assert all(c.appointment_id == winner.id and winner.patient_name in c.message
               for c in lost)
    assert [a.id for a in clinic.b.service.day_sheet(clinic.day, (clinic.provider,))
            .appointments] == [winner.id]
    for w in desks[2:]:
        w.engine.dispose()
