"""The notification bridge: change events from other workstations as Qt signals.

``ChangeNotifications`` is what presenters connect to (and what their tests fake); the
Redis subscriber that feeds it runs on its own thread (backend_client/sync/subscriber.py)
and reaches the GUI thread only through these signals.
"""

from __future__ import annotations

import threading
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal, Slot

from backend_client.sync.events import ChangeEvent
from desktop.pyside_refcount import keep_true_alive


class ChangeNotifications(QObject):
    """Signals:
        changed(tuple): ``ChangeEvent``s heard since the last emission, in arrival order
            (one emission per batch, on the GUI thread). Each open view decides whether to
            refetch; events published by this process come too (``event.mine``).
        resynced(): live updates were (re)connected after a gap: anything may have changed
            meanwhile, so every open view refetches.
        live_changed(bool): False while changes cannot be heard (Redis down); the status
            bar says so. Views keep working; they are only less fresh.
    """

    changed = Signal(tuple)
    resynced = Signal()
    live_changed = Signal(bool)

    def start(self) -> None:
        """Start listening (the base class never hears anything: tests emit by hand)."""

    def stop(self) -> None:
        """Stop listening and wait for the listener's thread to end."""


class RedisNotificationBridge(ChangeNotifications):
    """Runs a ``ChangeSubscriber`` and re-emits what it hears on the GUI thread.

    The subscriber's callbacks run on its thread; they only append to a list under a lock
    and emit private signals connected with ``Qt.QueuedConnection`` to slots of this
    object, which lives on the GUI thread, so the public signals are always emitted there
    (a presenter may connect a lambda, which would otherwise run on the emitting thread).
    Events that arrive while the GUI thread is busy are coalesced: one ``changed`` for
    everything heard since the last one.

    Args:
        redis: the app's Redis client (the subscriber takes its connection settings and
            opens its own connection).
        subscriber_options: passed to ``ChangeSubscriber`` (timings, channel).

    Signals:
        _arrived(): internal, subscriber thread → GUI thread: events are waiting.
        _live_heard(bool), _resync_heard(): internal, likewise.
    """

    _arrived = Signal()
    _live_heard = Signal(bool)
    _resync_heard = Signal()

    def __init__(self, redis: Any, parent: QObject | None = None,
                 **subscriber_options: Any) -> None:
        super().__init__(parent)
        # Every emission on PySide6 6.12 / CPython 3.11 costs True a reference; a bridge
        # emits all day (desktop/pyside_refcount.py). Idempotent; bootstrap calls it too.
        keep_true_alive()
        self._lock = threading.Lock()
        self._pending: list[ChangeEvent] = []
        self._live: bool | None = None
        queued = Qt.ConnectionType.QueuedConnection
        self._arrived.connect(self._on_subscriber_arrived, queued)
        self._live_heard.connect(self._on_subscriber_live, queued)
        self._resync_heard.connect(self._on_subscriber_resynced, queued)
        # Imported here: redis-py loads in the background, never before the first paint.
        from backend_client.sync.subscriber import ChangeSubscriber

        self._subscriber = ChangeSubscriber(redis, self._heard,
                                            on_resynced=self._resync_heard.emit,
                                            on_live=self._live_heard.emit,
                                            **subscriber_options)

    @property
    def live(self) -> bool | None:
        """As last reported on the GUI thread; None until the first connect attempt
        ends."""
        return self._live

    def start(self) -> None:
        """Start the subscriber's thread; returns at once (it connects on its thread)."""
        self._subscriber.start()

    def stop(self, timeout: float = 1.0) -> None:
        """Stop the subscriber, waiting at most ``timeout`` seconds (its thread is a
        daemon: one stuck connecting to a frozen server cannot hold the app open)."""
        self._subscriber.stop(timeout)

    def _heard(self, events: list[ChangeEvent]) -> None:  # on the subscriber's thread
        with self._lock:
            wake = not self._pending
            self._pending.extend(events)
        if wake:
            self._arrived.emit()

    @Slot()
    def _on_subscriber_arrived(self) -> None:
        with self._lock:
            events, self._pending = self._pending, []
        if events:
            self.changed.emit(tuple(events))

    @Slot(bool)
    def _on_subscriber_live(self, live: bool) -> None:
        self._live = live
        self.live_changed.emit(live)

    @Slot()
    def _on_subscriber_resynced(self) -> None:
        self.resynced.emit()
