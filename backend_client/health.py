"""Is each store reachable, which version is it, how long does a round trip take, and does
this workstation's clock agree with the database's.

Used by the status bar (off the GUI thread) and by ``dr-assistant-admin doctor``.

Each check opens its own short-lived connection with the store timeout, outside the app's
pools: a pooled connection may be one stuck on a frozen server, and the pool may be full of
calls waiting on one. So a frozen store shows as down within the timeout, and the round
trip is what a newcomer waits (connecting included).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from backend_client.backend import Backend
from backend_client.dto import STORES, ClockReading, StoreHealth
from backend_client.errors import DraError, StoreLabels, connection_reason, first_line

log = logging.getLogger(__name__)


def _describe_error(exc: BaseException, labels: StoreLabels) -> str:
    """A short reason, ending in a full stop, without credentials or stack traces."""
    from botocore.exceptions import BotoCoreError, ClientError
    from psycopg import Error as PsycopgError
    from pymongo.errors import PyMongoError
    from redis.exceptions import RedisError

    from backend_client.stores.mongo.client import describe_mongo_error
    from backend_client.stores.objects.s3 import describe_s3_error
    from backend_client.stores.postgres.engine import describe_postgres_error
    from backend_client.stores.redis.client import describe_redis_error

    reason: str | None
    if isinstance(exc, PsycopgError):
        reason = describe_postgres_error(exc, labels)
    elif isinstance(exc, PyMongoError):
        reason = describe_mongo_error(exc, labels)
    elif isinstance(exc, RedisError):
        reason = describe_redis_error(exc, labels)
    elif isinstance(exc, BotoCoreError | ClientError):
        reason = describe_s3_error(exc, labels, "")
    elif isinstance(exc, DraError):
        # Already a sentence (the object store's own): keep what comes after its colon.
        reason = exc.message.rstrip(".").split(": ", 1)[-1]
    else:
        reason = connection_reason(str(exc), labels) or first_line(str(exc))
    return (reason or f"the check failed ({type(exc).__name__})") + "."


class HealthService:
    """Args:
        backend: the store clients.
        restart_local: on the embedded stack, restart a local server found dead (the app
            does; ``doctor`` does not, so that it reports what is down).
    """

    def __init__(self, backend: Backend, *, restart_local: bool = False,
                 wall_clock: Callable[[], float] = time.time) -> None:
        self.backend = backend
        self.restart_local = restart_local
        # This workstation's clock (seconds since the epoch); tests pass a skewed one.
        self._wall = wall_clock
        self._checks: dict[str, Callable[[], str | tuple[str, ClockReading]]] = {
            "postgres": self._postgres,
            "mongo": self._mongo,
            "redis": self._redis,
            "objects": self._objects,
        }

    def check(self, store: str) -> StoreHealth:
        health = self._check_once(store)
        stack, lease = self.backend.stack, self.backend.lease
        if (not health.ok and self.restart_local and stack is not None and lease is not None
                and store in ("postgres", "mongo", "redis") and not stack.running()):
            log.warning("local %s server is not running; restarting the local stack", store)
            try:
                if not stack.restart(lease):
                    return health  # quitting, or stopped on purpose: leave it down
            except Exception as exc:
                log.error("restarting the local stack failed: %s", type(exc).__name__)
                return health
            health = self._check_once(store)
        return health

    @property
    def timeout(self) -> float:
        return self.backend.settings.store_timeout_seconds

    def _labels(self, store: str, timeout: float | None = None) -> StoreLabels:
        labels = self.backend.labels.get(store) or StoreLabels(
            self.backend.locations.get(store, "?"))
        return StoreLabels(labels.location, timeout or self.timeout, labels.url_setting,
                           labels.ca_setting, labels.missing_cert_setting)

    def _check_once(self, store: str) -> StoreHealth:
        location = self.backend.locations.get(store, "?")
        start = time.perf_counter()
        clock: ClockReading | None = None
        try:
            version = self._checks[store]()
            if isinstance(version, tuple):
                version, clock = version
        except Exception as exc:  # any failure means "down" here; the reason is shown
            timeout = None
            if store == "redis":  # its probe keeps the client's own timeout
                timeout = self.backend.redis.connection_pool.connection_kwargs.get(
                    "socket_timeout")
            return StoreHealth(store, False, "", None, location,
                               _describe_error(exc, self._labels(store, timeout)))
        ms = (time.perf_counter() - start) * 1000
        return StoreHealth(store, True, version, ms, location, clock=clock)

    def check_all(self) -> list[StoreHealth]:
        return [self.check(s) for s in STORES]

    def _postgres(self) -> tuple[str, ClockReading]:
        from backend_client.stores.postgres.engine import probe_connection

        with probe_connection(self.backend.engine, self.timeout) as conn:
            version = self._one(conn, "SHOW server_version")
            # On the same connection, after it answered once: the round trip of this
            # query is the reading's only uncertainty.
            clock = self._read_clock(
                "postgres", lambda: self._one(conn, "SELECT clock_timestamp()"))
        return f"PostgreSQL {str(version).split()[0]}", clock

    @staticmethod
    def _one(conn: Any, query: str) -> Any:
        row = conn.execute(query).fetchone()
        assert row is not None
        return row[0]

    def _read_clock(self, store: str, read: Callable[[], datetime]) -> ClockReading:
        before = self._wall()
        theirs = read()
        after = self._wall()
        return ClockReading(store, datetime.fromtimestamp((before + after) / 2, UTC),
                            theirs, max(0.0, (after - before) / 2))

    def clocks(self) -> list[ClockReading]:
        """This workstation's clock against PostgreSQL's (the record's times) and Redis's
        (sessions and sign-in cooldowns): what ``doctor`` reports. Raises if either is
        down."""
        from backend_client.stores.postgres.engine import probe_connection
        from backend_client.stores.redis.client import probe_redis

        with probe_connection(self.backend.engine, self.timeout) as conn:
            self._one(conn, "SELECT 1")
            pg = self._read_clock("postgres",
                                  lambda: self._one(conn, "SELECT clock_timestamp()"))
        with probe_redis(self.backend.redis) as r:
            r.ping()

            def redis_time() -> datetime:
                secs, micros = r.time()
                return datetime.fromtimestamp(secs + micros / 1e6, UTC)

            return [pg, self._read_clock("redis", redis_time)]

    def _mongo(self) -> str:
        from backend_client.stores.mongo.client import build_mongo_client

        settings = self.backend.settings
        if not self.backend.mongo_url:  # a Backend put together by hand: its own client
            info = self.backend.mongo.admin.command("buildInfo")
            return f"MongoDB {info['version']}"
        tls = {} if settings.embedded else {"ca_file": settings.mongo_ca_file,
                                            "cert_file": settings.mongo_cert_file}
        probe = build_mongo_client(self.backend.mongo_url, timeout_seconds=self.timeout,
                                   max_pool_size=1, **tls)
        try:
            probe.admin.command("ping")
            info = probe.admin.command("buildInfo")
        finally:
            probe.close()
        return f"MongoDB {info['version']}"

    def _redis(self) -> str:
        from backend_client.stores.redis.client import probe_redis

        with probe_redis(self.backend.redis) as r:
            r.ping()
            info = r.info("server")
        return f"Redis {info['redis_version']}"

    def _objects(self) -> str:
        store = self.backend.objects
        store.ping()
        return store.describe().split(" at ")[0]
