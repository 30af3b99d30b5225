"""Two workstations on one clinic: what one commits, the other hears, through real
PostgreSQL and Redis; and the subscriber survives Redis being killed, restarted and
frozen (it says so, and views resynchronise when it is back)."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator

import pytest
from redis import Redis
from sqlalchemy import Connection, text

from backend_client.backend import Backend
from backend_client.local_stack import StackEndpoints
from backend_client.stores.redis.client import build_redis
from backend_client.sync.events import CHANNEL, ChangeEvent, RedisChangePublisher
from backend_client.sync.subscriber import ChangeSubscriber
from backend_client.uow import unit_of_work
from tests.integration.conftest import add_user
from tests.integration.sync_servers import PrivateRedis, private_redis, wait_until

__all__ = ["private_redis"]  # the fixture, imported for the tests below

# Short timings so a fault shows in about a second; the app uses 2 s and 3 s.
FAST = {"ping_after": 0.4, "answer_within": 0.8, "backoff_cap": 0.5}


class Desk:
    """What a workstation's subscriber reports, recorded on its thread."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.batches: list[list[ChangeEvent]] = []
        self.live: list[bool] = []
        self.resyncs = 0

    def on_events(self, events: list[ChangeEvent]) -> None:
        with self.lock:
            self.batches.append(events)

    def on_live(self, live: bool) -> None:
        with self.lock:
            self.live.append(live)

    def on_resynced(self) -> None:
        with self.lock:
            self.resyncs += 1

    def events(self) -> list[ChangeEvent]:
        with self.lock:
            return [e for batch in self.batches for e in batch]

    def subscriber(self, redis: Redis, **options: float | str) -> ChangeSubscriber:
        return ChangeSubscriber(redis, self.on_events, on_resynced=self.on_resynced,
                                on_live=self.on_live, **options)  # type: ignore[arg-type]


@pytest.fixture
def listening(servers: StackEndpoints) -> Iterator[tuple[Desk, ChangeSubscriber]]:
    """Workstation B listening on the session's Redis, as the app's own Redis user."""
    desk = Desk()
    sub = desk.subscriber(build_redis(servers.redis_url, timeout_seconds=2.0), **FAST)
    sub.start()
    assert wait_until(lambda: desk.resyncs == 1)
    yield desk, sub
    assert sub.stop(2.0)


def test_a_commit_at_one_workstation_is_heard_at_the_other_and_a_rollback_is_not(
    db: Connection, servers: StackEndpoints, listening: tuple[Desk, ChangeSubscriber]
) -> None:
    desk, _ = listening
    # Workstation A: its own Redis client, publishing after its unit of work commits.
    publisher = RedisChangePublisher(build_redis(servers.redis_url, timeout_seconds=2.0))
    uid = add_user(db, display_name="Dr. Before")
    rename = text("UPDATE users SET display_name = :n, version = version + 1 "
                  "WHERE id = :id RETURNING version")

    with unit_of_work(db, publisher=publisher) as uow:
        uow.session.execute(rename, {"n": "Dr. Dropped", "id": uid})
        uow.announce(ChangeEvent(kind="directory", id=uid, version=99, workstation="ws-a"))
        # not committed: rolled back on leaving

    with unit_of_work(db, publisher=publisher) as uow:
        version = uow.session.execute(rename, {"n": "Dr. After", "id": uid}).scalar_one()
        uow.announce(ChangeEvent(kind="directory", id=uid, version=version,
                                 action="renamed", workstation="ws-a"))
        uow.commit()

    assert wait_until(lambda: any(e.id == uid for e in desk.events()))
    # One channel, in order: had the rolled-back unit published, it would be here first.
    heard = [e for e in desk.events() if e.id == uid]
    assert [(e.kind, e.version, e.action, e.workstation) for e in heard] == [
        ("directory", version, "renamed", "ws-a")]
    assert heard[0].mine  # same process here; another app instance would see False


def test_garbage_and_forged_messages_on_the_channel_are_ignored(
    servers: StackEndpoints, listening: tuple[Desk, ChangeSubscriber]
) -> None:
    desk, sub = listening
    forger = build_redis(servers.redis_url, timeout_seconds=2.0)  # the same Redis login
    for junk in (b"not json", b"\xff\xfe", b"[1, 2]", b'{"id": 3}', b'{"kind": "x", "id": "y"}',
                 b'{"kind": "patient", "id": 1e400}', b"[" * 100_000,
                 b'{"kind": "patient", "scopes": "abc", "id": 1}' + b" " * 70_000):
        forger.publish(CHANNEL, junk)
    forger.publish(CHANNEL, ChangeEvent(kind="patient", id=424242).to_json())
    assert wait_until(lambda: any(e.id == 424242 for e in desk.events()))
    assert [e.id for e in desk.events()] == [424242]
    assert sub.live is True and desk.live == [True]


def test_a_quiet_channel_is_not_taken_for_a_dead_one(
    servers: StackEndpoints, listening: tuple[Desk, ChangeSubscriber]
) -> None:
    desk, sub = listening
    time.sleep(2.5)  # several PINGs, each answered
    assert desk.live == [True] and desk.resyncs == 1 and sub.reconnects == 0
    RedisChangePublisher(build_redis(servers.redis_url)).publish(
        [ChangeEvent(kind="waitlist", id=31337)])
    assert wait_until(lambda: [e.id for e in desk.events()] == [31337])


def test_a_burst_arrives_in_few_batches(
    servers: StackEndpoints, listening: tuple[Desk, ChangeSubscriber]
) -> None:
    desk, _ = listening
    RedisChangePublisher(build_redis(servers.redis_url)).publish(
        [ChangeEvent(kind="appointment", id=i) for i in range(1, 201)])
    assert wait_until(lambda: len(desk.events()) == 200)
    assert [e.id for e in desk.events()] == list(range(1, 201))
    assert len(desk.batches) < 20  # drained together, not one callback per event


def test_killed_and_restarted_redis_reconnects_resyncs_and_hears_again(
    private_redis: PrivateRedis,
) -> None:
    desk = Desk()
    sub = desk.subscriber(build_redis(private_redis.app_url, timeout_seconds=1.0), **FAST)
    publisher = RedisChangePublisher(build_redis(private_redis.app_url, timeout_seconds=1.0))
    sub.start()
    try:
        assert wait_until(lambda: desk.resyncs == 1)  # the first connect: views load fresh
        publisher.publish([ChangeEvent(kind="patient", id=1)])
        assert wait_until(lambda: len(desk.events()) == 1)

        private_redis.kill()
        assert wait_until(lambda: desk.live == [True, False], 5)
        publisher.publish([ChangeEvent(kind="patient", id=2)])  # lost: nobody to hear it
        time.sleep(1.0)  # a few reconnect attempts fail meanwhile
        assert desk.live == [True, False] and desk.resyncs == 1

        private_redis.restart()
        assert wait_until(lambda: desk.live == [True, False, True], 10)
        assert wait_until(lambda: desk.resyncs == 2)  # so views refetch what they missed
        publisher.publish([ChangeEvent(kind="patient", id=3)])
        assert wait_until(lambda: [e.id for e in desk.events()] == [1, 3])
        assert sub.reconnects == 1
    finally:
        assert sub.stop(2.0)


def test_a_frozen_redis_is_detected_as_dead_within_the_bound(
    private_redis: PrivateRedis,
) -> None:
    desk = Desk()
    sub = desk.subscriber(build_redis(private_redis.app_url, timeout_seconds=1.0), **FAST)
    sub.start()
    try:
        assert wait_until(lambda: desk.live == [True])
        pid = private_redis.freeze()  # the TCP connection stays open: it looks alive
        frozen_at = time.monotonic()
        # Silence for ping_after, then no answer for answer_within, plus a poll or two.
        bound = FAST["ping_after"] + FAST["answer_within"] + 1.0
        assert wait_until(lambda: desk.live == [True, False], 5)
        assert time.monotonic() - frozen_at <= bound
        os.kill(pid, signal.SIGCONT)
        assert wait_until(lambda: desk.live == [True, False, True], 10)
        assert wait_until(lambda: desk.resyncs == 2)
        # Stopping is prompt even right after a reconnect.
        started = time.monotonic()
        assert sub.stop(1.0)
        assert time.monotonic() - started < 1.0
    finally:
        sub.stop(2.0)


def test_the_app_login_may_listen_only_on_the_clinic_channels(
    private_redis: PrivateRedis,
) -> None:
    """The Redis ACL gives the app's user ``dra:*`` channels only: live updates work as
    that user, and a subscriber pointed elsewhere never reports live."""
    desk, elsewhere = Desk(), Desk()
    app = build_redis(private_redis.app_url, timeout_seconds=1.0)
    ok = desk.subscriber(app, **FAST)
    refused = elsewhere.subscriber(app, channel="other:events", **FAST)
    ok.start()
    refused.start()
    try:
        assert wait_until(lambda: desk.live == [True])
        assert wait_until(lambda: elsewhere.live == [False])
        time.sleep(1.0)
        assert elsewhere.live == [False] and elsewhere.resyncs == 0
    finally:
        assert ok.stop(2.0) and refused.stop(2.0)


def test_stop_before_redis_ever_answered_is_prompt(private_redis: PrivateRedis) -> None:
    private_redis.kill()
    desk = Desk()
    sub = desk.subscriber(build_redis(private_redis.app_url, timeout_seconds=1.0), **FAST)
    sub.start()
    assert wait_until(lambda: desk.live == [False])
    assert sub.stop(1.0)
    assert desk.resyncs == 0


def test_publishing_to_a_redis_that_is_down_never_fails_the_write(
    private_redis: PrivateRedis, db: Connection, backend: Backend
) -> None:
    publisher = RedisChangePublisher(build_redis(private_redis.app_url, timeout_seconds=0.5))
    private_redis.kill()
    uid = add_user(db)
    with unit_of_work(db, publisher=publisher) as uow:
        uow.session.execute(text("UPDATE users SET display_name = 'Dr. Kept' WHERE id = :i"),
                            {"i": uid})
        uow.announce(ChangeEvent(kind="directory", id=uid))
        uow.commit()
    assert db.execute(text("SELECT display_name FROM users WHERE id = :i"),
                      {"i": uid}).scalar_one() == "Dr. Kept"


def test_a_stopped_subscriber_can_start_again(servers: StackEndpoints) -> None:
    desk = Desk()
    client = build_redis(servers.redis_url, timeout_seconds=2.0)
    sub = desk.subscriber(client, **FAST)
    sub.start()
    assert wait_until(lambda: desk.resyncs == 1)
    assert sub.stop(2.0) and not sub.running
    sub.start()  # e.g. a workstation that paused live updates and resumes them
    assert wait_until(lambda: desk.resyncs == 2)
    RedisChangePublisher(client).publish([ChangeEvent(kind="encounter", id=5150)])
    assert wait_until(lambda: [e.id for e in desk.events()] == [5150])
    assert sub.stop(2.0)
