"""Presence on a real Redis (as the app's own Redis user) and PostgreSQL: who is signed in
where, in what state, since when by Redis's clock; gone when heartbeats stop."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence

import pytest
from redis import Redis
from sqlalchemy import Connection, text

from backend_client.backend import Backend
from backend_client.errors import PermissionDenied, ValidationError
from backend_client.stores.redis.client import build_redis
from backend_client.sync.events import ChangeEvent
from backend_client.sync.presence import INDEX, PREFIX, PresenceService
from tests.integration.conftest import add_user, signed_in
from tests.integration.sync_servers import PrivateRedis, private_redis, wait_until

__all__ = ["private_redis"]


class Heard:
    """A publisher that keeps what it is given (our own seam, not a store)."""

    def __init__(self) -> None:
        self.events: list[ChangeEvent] = []

    def publish(self, events: Sequence[ChangeEvent]) -> None:
        self.events.extend(events)


@pytest.fixture
def redis(private_redis: PrivateRedis) -> Redis:
    return build_redis(private_redis.app_url, timeout_seconds=2.0)


def _provider(db: Connection, user_id: int) -> int:
    return int(db.execute(text(
        "INSERT INTO providers (user_id, given_name, family_name, specialty) "
        "VALUES (:u, 'Anna', 'Doc', 'General practice') RETURNING id"), {"u": user_id}
    ).scalar_one())


def test_a_heartbeat_lists_the_person_with_state_and_provider(
    backend: Backend, db: Connection, redis: Redis
) -> None:
    doctor = add_user(db, ("doctor",), display_name="Dr. Anna Doc")
    clerk = add_user(db, ("receptionist",), display_name="Rita Desk")
    provider_id = _provider(db, doctor)
    heard = Heard()
    at_doctor = PresenceService(redis, signed_in(backend, db, doctor, workstation="room-1"),
                                engine=db, publisher=heard)
    at_desk = PresenceService(redis, signed_in(backend, db, clerk, workstation="desk-1"),
                              engine=db, publisher=heard)

    at_doctor.beat("available")
    at_desk.beat("available")
    listed = at_desk.present()
    assert [(p.display_name, p.workstation, p.state, p.provider_id) for p in listed] == [
        ("Dr. Anna Doc", "room-1", "available", provider_id),
        ("Rita Desk", "desk-1", "available", None)]
    assert [(e.kind, e.user_id, e.action, e.workstation) for e in heard.events] == [
        ("presence", doctor, "available", "room-1"), ("presence", clerk, "available", "desk-1")]

    # The same state again changes nothing a desk shows: same since, no event.
    since = listed[0].since
    assert since is not None
    at_doctor.beat("available")
    assert at_desk.present()[0].since == since and len(heard.events) == 2

    # With a patient: a new state, a new since by Redis's clock, and the desks are told.
    at_doctor.beat("with_patient")
    now = at_desk.present()[0]
    assert now.state == "with_patient" and now.since is not None and now.since >= since
    assert heard.events[-1].action == "with_patient"

    # Nothing about the patient is in Redis: the state is all.
    stored = json.loads(redis.get(f"{PREFIX}{doctor}:room-1") or b"{}")
    assert set(stored) == {"user_id", "workstation", "display_name", "state", "since"}


def test_an_entry_expires_when_heartbeats_stop_and_leaving_removes_it_at_once(
    backend: Backend, db: Connection, redis: Redis
) -> None:
    doctor = add_user(db, display_name="Dr. Gone")
    clerk = add_user(db, ("receptionist",), display_name="Rita Desk")
    heard = Heard()
    doctor_access = signed_in(backend, db, doctor, workstation="room-2")
    short = PresenceService(redis, doctor_access, engine=db, publisher=heard,
                            ttl_seconds=0.6)
    desk = PresenceService(redis, signed_in(backend, db, clerk, workstation="desk-2"),
                           engine=db, publisher=heard)
    desk.beat("available")
    short.beat("available")
    assert {p.user_id for p in desk.present()} == {doctor, clerk}
    # No heartbeat (the workstation crashed or lost the network): gone after the TTL.
    assert wait_until(lambda: {p.user_id for p in desk.present()} == {clerk}, 5)
    assert redis.get(f"{PREFIX}{doctor}:room-2") is None

    # Signing out removes the entry at once and tells the desks, also when the session
    # has already been ended by the time the presence task runs.
    short.beat("away")
    desk.access.set_actor(None)  # type: ignore[attr-defined]
    desk.leave()
    assert {p.user_id for p in short.present()} == {doctor}
    assert heard.events[-1].action == "signed_out" and heard.events[-1].user_id == clerk
    assert redis.zscore(INDEX, f"{clerk}:desk-2") is None


def test_beat_writes_only_the_signed_in_persons_own_key(
    backend: Backend, db: Connection, redis: Redis
) -> None:
    me = add_user(db, display_name="Dr. Me")
    other = add_user(db, display_name="Dr. Other")
    access = signed_in(backend, db, me, workstation="room-3")
    mine = PresenceService(redis, access, engine=db, publisher=Heard())
    mine.beat("with_patient")
    # Nothing in the API names a user: what was written is my key, and only mine.
    assert redis.zrange(INDEX, 0, -1) == [f"{me}:room-3".encode()]
    assert [(p.user_id, p.state) for p in mine.present()] == [(me, "with_patient")]
    assert other not in {p.user_id for p in mine.present()}

    with pytest.raises(ValidationError, match="available, with_patient, away"):
        mine.beat("in_surgery")
    access.set_actor(None)  # signed out
    with pytest.raises(PermissionDenied, match="Nobody is signed in"):
        mine.beat("available")
    mine.leave()  # nothing to remove for nobody: no error


def test_entries_for_unknown_users_and_malformed_values_are_not_listed(
    backend: Backend, db: Connection, redis: Redis
) -> None:
    """Presence is advisory (the Redis login can write any key), but a forged entry for a
    user PostgreSQL does not know, or a value that is not a heartbeat, never shows."""
    me = add_user(db, display_name="Dr. Real")
    service = PresenceService(redis, signed_in(backend, db, me, workstation="room-4"),
                              engine=db, publisher=Heard())
    service.beat("available")
    seconds, _ = redis.time()
    forged = {"user_id": 10**12, "workstation": "x", "display_name": "Nobody",
              "state": "available", "since": seconds}
    redis.set(f"{PREFIX}{10**12}:x", json.dumps(forged), ex=60)
    redis.set(f"{PREFIX}{me}:junk", b"\xff not json", ex=60)
    redis.zadd(INDEX, {f"{10**12}:x": seconds + 60, f"{me}:junk": seconds + 60})
    assert [(p.user_id, p.workstation) for p in service.present()] == [(me, "room-4")]


def test_redis_down_is_a_sentence_not_a_crash(
    backend: Backend, db: Connection, private_redis: PrivateRedis, redis: Redis
) -> None:
    from backend_client.errors import Unavailable

    me = add_user(db)
    service = PresenceService(redis, signed_in(backend, db, me), engine=db, publisher=Heard())
    private_redis.kill()
    started = time.monotonic()
    with pytest.raises(Unavailable, match="cannot be reached"):
        service.beat("available")
    with pytest.raises(Unavailable):
        service.present()
    assert time.monotonic() - started < 10


def test_a_receptionist_sees_names_and_providers_through_the_apps_own_login(
    backend: Backend, redis: Redis
) -> None:
    """Names and provider ids come from PostgreSQL as the app's login with the desk's
    session named (row security on), not from what the heartbeat wrote."""
    owner = backend.owner_engine
    doctor = add_user(owner, ("doctor",), display_name="Dr. Committed")
    clerk = add_user(owner, ("receptionist",), display_name="Rita Committed")
    with owner.begin() as conn:
        provider_id = _provider(conn, doctor)
    try:
        at_doctor = signed_in(backend, owner, doctor, workstation="room-5")
        at_desk = signed_in(backend, owner, clerk, workstation="desk-5")
        PresenceService(redis, at_doctor, engine=backend.engine, publisher=Heard()
                        ).beat("with_patient")
        desk = PresenceService(redis, at_desk, engine=backend.engine, publisher=Heard())
        desk.beat("available")
        # The heartbeat's own copy of the name is not what the desk shows.
        key = f"{PREFIX}{doctor}:room-5"
        written = redis.get(key)
        assert isinstance(written, bytes)
        redis.set(key, written.replace(b"Dr. Committed", b"Dr. Forged"), keepttl=True)
        assert [(p.display_name, p.state, p.provider_id) for p in desk.present()] == [
            ("Dr. Committed", "with_patient", provider_id),
            ("Rita Committed", "available", None)]
    finally:
        with owner.begin() as conn:
            # Other tests count the clinic's providers: leave none behind.
            conn.execute(text("DELETE FROM providers WHERE id = :p"), {"p": provider_id})
            conn.execute(text("DELETE FROM app_sessions WHERE user_id = ANY(:u)"),
                         {"u": [doctor, clerk]})
