"""Is each store reachable, which version is it, how long does a round trip take, and does
this workstation's clock agree with the database's.

Used by the status bar (off the GUI thread) and by ``dr-assistant-admin doctor``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import text

from backend_client.backend import Backend
from backend_client.dto import STORES, ClockReading, StoreHealth

log = logging.getLogger(__name__)


def _describe_error(exc: BaseException) -> str:
    """A short reason without credentials or stack traces."""
    text_ = str(exc).lower()
    for needle, reason in (
        ("connection refused", "connection refused (is the server running?)"),
        ("timed out", "no answer before the timeout (server frozen or network down)"),
        ("timeout", "no answer before the timeout (server frozen or network down)"),
        ("authentication", "the user name or password was refused"),
        ("password", "the user name or password was refused"),
        ("name or service not known", "the host name is unknown"),
        ("no such file", "the folder is missing"),
        ("permission denied", "permission denied"),
    ):
        if needle in text_:
            return reason + "."
    return f"{type(exc).__name__}."


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

    def _check_once(self, store: str) -> StoreHealth:
        location = self.backend.locations.get(store, "?")
        start = time.perf_counter()
        clock: ClockReading | None = None
        try:
            version = self._checks[store]()
            if isinstance(version, tuple):
                version, clock = version
        except Exception as exc:  # any failure means "down" here; the reason is shown
            return StoreHealth(store, False, "", None, location, _describe_error(exc))
        ms = (time.perf_counter() - start) * 1000
        return StoreHealth(store, True, version, ms, location, clock=clock)

    def check_all(self) -> list[StoreHealth]:
        return [self.check(s) for s in STORES]

    def _postgres(self) -> tuple[str, ClockReading]:
        with self.backend.engine.connect() as conn:
            version = conn.execute(text("SHOW server_version")).scalar_one()
            # On the same connection, after it answered once: the round trip of this
            # query is the reading's only uncertainty.
            clock = self._read_clock(
                "postgres", lambda: conn.execute(text("SELECT clock_timestamp()")).scalar_one())
        return f"PostgreSQL {str(version).split()[0]}", clock

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
        with self.backend.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
            pg = self._read_clock(
                "postgres", lambda: conn.execute(text("SELECT clock_timestamp()")).scalar_one())
        r = self.backend.redis
        r.ping()

        def redis_time() -> datetime:
            secs, micros = r.time()
            return datetime.fromtimestamp(secs + micros / 1e6, UTC)

        return [pg, self._read_clock("redis", redis_time)]

    def _mongo(self) -> str:
        info = self.backend.mongo.admin.command("buildInfo")
        self.backend.mongo.admin.command("ping")
        return f"MongoDB {info['version']}"

    def _redis(self) -> str:
        r = self.backend.redis
        r.ping()
        info = r.info("server")
        return f"Redis {info['redis_version']}"

    def _objects(self) -> str:
        store = self.backend.objects
        store.ping()
        return store.describe().split(" at ")[0]
