"""The subscriber: hears ``dra:events`` on a thread and connection of its own.

It turns what other workstations publish into three callbacks, called on its own thread
(the desktop's notification bridge hands them to the GUI thread through queued signals):

- ``on_events(list[ChangeEvent])``: what arrived together, drained in one go (a burst of
  changes costs one refetch decision per view, not one per event);
- ``on_resynced()``: after every (re)connect, the first included. Pub/sub does not keep
  what was published while nobody listened, so anything may have changed: every open
  view refetches. It is called after the subscription is confirmed, so a change committed
  while a view refetches is heard as well;
- ``on_live(bool)``: False while nothing can be heard (the status bar says so), True again
  once subscribed.

redis-py's own PubSub helpers are not used for the things they get wrong for a listener
that must survive outages:

- ``run_in_thread``'s worker dies on the first failed reconnect and nobody notices;
- ``get_message``/``listen`` raise on a broken connection instead of reconnecting, and
  what reconnecting they do is hidden (it resubscribes silently, so the gap goes unseen);
- a half-dead TCP connection (the server frozen, a NAT or firewall that dropped the flow)
  looks alive forever: reads just time out as if the channel were quiet.

So this loop owns its connection (built from the app's client's connection settings:
same address, credentials and TLS; no retries of its own), polls with a short timeout,
sends PING after ``ping_after`` seconds of silence and declares the connection dead when
no answer comes within ``answer_within`` seconds, and on any failure closes the
connection, reports ``on_live(False)`` and reconnects after a full-jitter backoff (capped
at ``backoff_cap`` seconds), resynchronising views when it is back.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from typing import Any

from redis import ConnectionPool, Redis
from redis.backoff import NoBackoff
from redis.client import PubSub
from redis.exceptions import RedisError
from redis.retry import Retry

from backend_client.logsafe import log_exception
from backend_client.sync.events import CHANNEL, ChangeEvent

log = logging.getLogger(__name__)

OnEvents = Callable[[list[ChangeEvent]], None]


class _Dead(Exception):
    """The connection answers nothing (frozen server, half-open TCP)."""


class ChangeSubscriber:
    """Listens on ``channel`` until ``stop()``; Qt-free, one thread.

    Args:
        redis: the app's client; only its connection settings are used (its pool is
            never borrowed: a subscribed connection cannot serve other commands).
        on_events, on_resynced, on_live: see the module docstring. Called on the
            subscriber's thread; an exception in one is logged and the loop goes on.
        poll: how long one wait for a message lasts; also how soon ``stop()`` is noticed.
        ping_after: seconds of silence before the connection is asked for a PING.
        answer_within: seconds a PING (and connecting, and the subscribe confirmation)
            may take before the connection counts as dead.
        backoff_base, backoff_cap: full-jitter backoff between reconnect attempts.
        max_batch: at most this many events in one ``on_events`` call.
    """

    def __init__(self, redis: Redis, on_events: OnEvents, *,
                 on_resynced: Callable[[], None] | None = None,
                 on_live: Callable[[bool], None] | None = None,
                 channel: str = CHANNEL, poll: float = 0.2, ping_after: float = 2.0,
                 answer_within: float = 3.0, backoff_base: float = 0.1,
                 backoff_cap: float = 3.0, max_batch: int = 1000) -> None:
        self._source = redis
        self._on_events = on_events
        self._on_resynced = on_resynced
        self._on_live = on_live
        self.channel = channel
        self.poll = poll
        self.ping_after = ping_after
        self.answer_within = answer_within
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.max_batch = max_batch
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._live: bool | None = None
        self.reconnects = 0  # (re)connections after the first, for tests and logs

    @property
    def live(self) -> bool | None:
        """True while subscribed, False while not, None before the first attempt ends."""
        return self._live

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        """Start the thread (no I/O on the caller's thread). Idempotent while running; a
        thread still ending after ``stop()`` keeps its own stop flag, so a new start
        never revives it."""
        if self.running and not self._stop.is_set():
            return
        self._stop = stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(stop,),
                                        name="dra-change-subscriber", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 1.0) -> bool:
        """Ask the thread to end and wait at most ``timeout`` seconds (never longer: the
        GUI thread calls this at shutdown). True if it has ended. A thread still inside
        a connect to a frozen server ends on its own within ``answer_within``; it is a
        daemon thread, so it never holds the process open."""
        self._stop.set()
        thread = self._thread
        if thread is None:
            return True
        thread.join(timeout)
        ended = not thread.is_alive()
        if ended:
            self._thread = None
        return ended

    # ------------------------------------------------------------------ the thread

    def _build_pool(self) -> ConnectionPool:
        """A pool of one connection per subscription: closing it after a failure leaves
        nothing behind that a later attempt could trip over."""
        source = self._source.connection_pool
        kwargs: dict[str, Any] = dict(source.connection_kwargs)
        # No retries inside redis-py: a failure must reach this loop, which reconnects
        # visibly (views resynchronise). No redis-py health checks: the loop pings.
        kwargs.update(socket_timeout=self.answer_within,
                      socket_connect_timeout=self.answer_within,
                      retry=Retry(NoBackoff(), retries=0, supported_errors=()),
                      health_check_interval=0, client_name="dr-assistant-sync")
        return ConnectionPool(connection_class=source.connection_class, max_connections=1,
                              **kwargs)

    def _run(self, stop: threading.Event) -> None:
        attempt = 0
        outage_logged = False
        first = True
        while not stop.is_set():
            pubsub: PubSub | None = None
            try:
                pubsub = self._subscribe(stop)
                if pubsub is None:  # stopping
                    break
                if not first:
                    self.reconnects += 1
                first = False
                attempt = 0
                if outage_logged:
                    log.info("live updates are back")
                outage_logged = False
                self._set_live(True)
                self._call(self._on_resynced)
                self._listen(pubsub, stop)
            except (RedisError, OSError, _Dead) as exc:
                if not outage_logged:
                    # The type only: a Redis error's text may quote a command's values.
                    log.warning("live updates paused (%s); reconnecting", type(exc).__name__)
                    outage_logged = True
            except Exception as exc:  # noqa: BLE001 - a bug must not end live updates
                log_exception(log, "the change subscriber failed; reconnecting", exc)
            finally:
                if pubsub is not None:
                    _close(pubsub)
            if stop.is_set():
                break
            self._set_live(False)
            attempt += 1
            stop.wait(random.uniform(0, min(self.backoff_cap,
                                                  self.backoff_base * 2 ** attempt)))

    def _subscribe(self, stop: threading.Event) -> PubSub | None:
        """A confirmed subscription, or None when asked to stop meanwhile."""
        pubsub = Redis(connection_pool=self._build_pool()).pubsub()
        try:
            pubsub.subscribe(self.channel)
            deadline = time.monotonic() + self.answer_within
            while not stop.is_set():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise _Dead("no subscribe confirmation")
                message = pubsub.get_message(timeout=min(remaining, self.poll))
                if message is not None and message["type"] == "subscribe":
                    return pubsub
            _close(pubsub)
            return None
        except BaseException:
            _close(pubsub)
            raise

    def _listen(self, pubsub: PubSub, stop: threading.Event) -> None:
        """Deliver events until stopped; raises when the connection fails or goes quiet
        without answering a PING."""
        last_heard = time.monotonic()
        pinged_at: float | None = None
        while not stop.is_set():
            message = pubsub.get_message(timeout=self.poll)
            now = time.monotonic()
            if message is None:
                if pinged_at is not None:
                    if now - pinged_at > self.answer_within:
                        raise _Dead("no answer to PING")
                elif now - last_heard >= self.ping_after:
                    pubsub.ping()
                    pinged_at = now
                continue
            last_heard, pinged_at = now, None
            batch: list[ChangeEvent] = []
            self._take(message, batch)
            # Drain what has already arrived: one callback for a burst.
            while len(batch) < self.max_batch:
                more = pubsub.get_message(timeout=0.0)
                if more is None:
                    break
                self._take(more, batch)
            if batch:
                self._call(self._on_events, batch)

    def _take(self, message: dict[str, Any], batch: list[ChangeEvent]) -> None:
        kind = message.get("type")
        if kind == "message":
            data = message.get("data")
            if isinstance(data, bytes | str):
                event = ChangeEvent.from_json(data)
                if event is not None:  # a stray or forged message is ignored
                    batch.append(event)
        elif kind == "unsubscribe":
            # Not something this loop asks for; without the subscription nothing would
            # be heard, so start over (and resynchronise).
            raise _Dead("unsubscribed")

    def _set_live(self, live: bool) -> None:
        if self._live is live:
            return
        self._live = live
        self._call(self._on_live, live)

    @staticmethod
    def _call(callback: Callable[..., None] | None, *args: Any) -> None:
        if callback is None:
            return
        try:
            callback(*args)
        except Exception as exc:  # noqa: BLE001 - a listener's bug must not stop the loop
            log_exception(log, "a change listener failed", exc)


def _close(pubsub: PubSub) -> None:
    try:
        pubsub.close()
        pubsub.connection_pool.disconnect()
    except Exception:  # noqa: BLE001 - closing a broken connection may fail; it is gone
        pass
