"""HealthService against real servers: up, down and frozen."""

from __future__ import annotations

import os
import signal

from backend_client.backend import Backend
from backend_client.health import HealthService
from backend_client.local_stack.servers import RedisServer
from backend_client.stores.redis.client import build_redis


def test_every_store_reports_version_and_round_trip(backend: Backend) -> None:
    results = {h.store: h for h in HealthService(backend).check_all()}
    assert set(results) == {"postgres", "mongo", "redis", "objects"}
    assert all(h.ok for h in results.values()), [h.sentence() for h in results.values()]
    assert results["postgres"].version.startswith("PostgreSQL 16")
    assert results["mongo"].version.startswith("MongoDB 6")
    assert results["redis"].version.startswith("Redis ")
    assert results["objects"].version == "S3 bucket dra-test"
    assert all((h.round_trip_ms or 0) > 0 for h in results.values())


def test_a_stopped_store_is_reported_with_a_clear_reason(
    backend: Backend, own_redis: tuple[RedisServer, str]
) -> None:
    server, url = own_redis
    b = Backend(**{**backend.__dict__, "redis": build_redis(url, timeout_seconds=1.0),
                   "locations": {**backend.locations, "redis": "127.0.0.1:test"}})
    health = HealthService(b)
    assert health.check("redis").ok
    server.stop()
    down = health.check("redis")
    assert not down.ok
    assert down.sentence() == ("Redis is not reachable at 127.0.0.1:test: "
                               "connection refused (is the server running?).")
    assert health.check("postgres").ok  # the others are unaffected


def test_a_frozen_store_times_out_instead_of_hanging(
    backend: Backend, own_redis: tuple[RedisServer, str]
) -> None:
    server, url = own_redis
    b = Backend(**{**backend.__dict__, "redis": build_redis(url, timeout_seconds=0.5)})
    health = HealthService(b)
    assert health.check("redis").ok
    pid = server.pid()
    assert pid
    os.kill(pid, signal.SIGSTOP)
    frozen = health.check("redis")
    assert not frozen.ok and "timeout" in frozen.error
