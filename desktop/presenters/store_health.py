"""Keeps the store indicators current: one background check per store, periodically."""

from __future__ import annotations

import logging
from typing import Protocol

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from backend_client.dto import STORES, StoreHealth
from desktop.tasks import TaskRunner

log = logging.getLogger(__name__)


class HealthChecker(Protocol):
    def check(self, store: str) -> StoreHealth: ...


class HealthView(Protocol):
    def show_health(self, health: StoreHealth) -> None: ...


class StoreHealthPresenter(QObject):
    """Signals:
        all_checked(): every store has reported at least once since start().
        health_changed(object): a StoreHealth whose ok-state differs from the last one.
    """

    all_checked = Signal()
    health_changed = Signal(object)

    def __init__(self, view: HealthView, checker: HealthChecker, tasks: TaskRunner,
                 interval_seconds: float, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._view = view
        self._checker = checker
        self._tasks = tasks
        self._in_flight: set[str] = set()
        self._last: dict[str, StoreHealth] = {}
        self._announced = False
        self._timer = QTimer(self)
        self._timer.setInterval(int(interval_seconds * 1000))
        self._timer.timeout.connect(self.refresh)

    def start(self) -> None:
        self.refresh()
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()

    @property
    def last(self) -> dict[str, StoreHealth]:
        return dict(self._last)

    @Slot()
    def refresh(self) -> None:
        # One task per store, so a frozen store does not delay the others' indicators;
        # a store whose check is still running is not asked again.
        for store in STORES:
            if store in self._in_flight:
                continue
            self._in_flight.add(store)
            self._tasks.run(
                lambda s=store: self._checker.check(s),  # type: ignore[misc]
                self._on_checked,
                lambda exc, s=store: self._on_checked(  # type: ignore[misc]
                    StoreHealth(s, False, "", None, "?", f"the check failed ({type(exc).__name__})")
                ),
            )

    def _on_checked(self, health: StoreHealth) -> None:
        self._in_flight.discard(health.store)
        previous = self._last.get(health.store)
        self._last[health.store] = health
        self._view.show_health(health)
        if previous is None or previous.ok != health.ok:
            # The first answer and every change, in the app's log (no data, only states).
            log.info("store %s %s", health.store,
                     "ok" if health.ok else f"down: {health.error}")
            self.health_changed.emit(health)
        clock = health.clock
        was = previous.clock if previous is not None else None
        if clock is not None and (was is None or was.skewed != clock.skewed) and clock.skewed:
            log.warning("this computer's clock is %s %s's", clock.difference(),
                        clock.store_label)
        if not self._announced and len(self._last) == len(STORES):
            self._announced = True
            self.all_checked.emit()
