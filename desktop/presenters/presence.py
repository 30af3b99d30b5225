"""Keeps this workstation's presence beating and the clinic's presence list current.

A ``QTimer`` on the GUI thread only schedules; every heartbeat and every read of the list
runs through ``TaskRunner`` (Redis may be slow or down). The list is read again when a
presence change is announced (``ChangeEvent(kind="presence")``) and after every resync.
"""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from backend_client.dto import PresenceInfo
from backend_client.sync.presence import HEARTBEAT_SECONDS, PresenceApi
from desktop.bridges.notifications import ChangeNotifications

log = logging.getLogger(__name__)


class PresencePresenter(QObject):
    """Args:
        presence: the ``PresenceService`` (a fake in tests).
        tasks: the ``TaskRunner``.
        notifications: the change bridge (presence events and resyncs refresh the list).
        interval_ms: heartbeat period; the service's TTL is three of them.

    Signals:
        presence_changed(tuple): the latest ``PresenceInfo`` list (everyone signed in
            anywhere, this workstation's person included); empty after signing out.
    """

    presence_changed = Signal(tuple)

    def __init__(self, presence: PresenceApi, tasks: Any, notifications: ChangeNotifications,
                 *, interval_ms: int = HEARTBEAT_SECONDS * 1000,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._presence = presence
        self._tasks = tasks
        self._signed_in = False
        self._user_id: int | None = None
        self._with_patient = False
        self._away = False
        self._beating = False
        self._sent_state = ""
        self._request = 0
        self._failing = False
        self.present: tuple[PresenceInfo, ...] = ()
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self.beat)
        notifications.changed.connect(self.on_notifications_changed)
        notifications.resynced.connect(self.refresh)

    @property
    def state(self) -> str:
        if self._away:
            return "away"
        return "with_patient" if self._with_patient else "available"

    # ------------------------------------------------------------------ hooks

    def signed_in(self, actor: object = None) -> None:
        """Someone signed in here (or signed in again after a lock): start beating, and
        load the list. When another person was signed in here, their entry goes first
        (in the same task as the new person's first heartbeat, so in that order)."""
        user_id = getattr(actor, "user_id", None)
        switching = self._signed_in and user_id != self._user_id
        self._user_id = user_id
        self._signed_in = True
        self._with_patient = self._away = False
        if switching and not self._beating:
            self._beating = True
            state = self._sent_state = self.state

            def leave_then_beat() -> None:
                self._presence.leave()
                self._presence.beat(state)

            self._tasks.run(leave_then_beat, self._on_beaten, self._on_beat_failed,
                            pool="write")
        else:
            self.beat()
        self._timer.start()
        self.refresh()

    def signed_out(self) -> None:
        """Signed out or quitting: stop beating and remove this workstation's entry (on
        the write pool, which finishes queued work at shutdown)."""
        if not self._signed_in:
            return
        self._signed_in = False
        self._user_id = None
        self._timer.stop()
        self._request += 1  # a list still being read is no longer wanted
        self._tasks.run(self._presence.leave, None, self._on_failed, pool="write")
        self.present = ()
        self.presence_changed.emit(())

    @Slot(bool)
    def set_with_patient(self, with_patient: bool) -> None:
        """A chart opened (True) or closed (False)."""
        if with_patient != self._with_patient:
            self._with_patient = with_patient
            self.beat()

    @Slot(bool)
    def set_away(self, away: bool) -> None:
        """The workstation locked (True) or was unlocked (False): still signed in, not
        at the desk."""
        if away != self._away:
            self._away = away
            self.beat()

    # ------------------------------------------------------------------ work

    @Slot()
    def beat(self) -> None:
        if not self._signed_in or self._beating:
            return  # one heartbeat at a time: a slow Redis does not pile them up
        self._beating = True
        state = self._sent_state = self.state
        self._tasks.run(lambda: self._presence.beat(state), self._on_beaten,
                        self._on_beat_failed)

    def _on_beaten(self, _result: object) -> None:
        self._beating = False
        self._failing = False
        if self._signed_in and self.state != self._sent_state:
            self.beat()  # the state changed while the last beat was on its way

    def _on_beat_failed(self, exc: BaseException) -> None:
        self._beating = False
        self._on_failed(exc)

    @Slot()
    def refresh(self) -> None:
        if not self._signed_in:
            return
        self._request += 1
        request = self._request
        self._tasks.run(self._presence.present,
                        lambda present: self._on_present(request, present),
                        self._on_failed)

    def _on_present(self, request: int, present: tuple[PresenceInfo, ...]) -> None:
        if request != self._request or not self._signed_in:
            return  # a newer read is on its way, or nobody is signed in any more
        self.present = tuple(present)
        self.presence_changed.emit(self.present)

    @Slot(tuple)
    def on_notifications_changed(self, events: tuple[Any, ...]) -> None:
        if any(getattr(e, "kind", None) == "presence" for e in events):
            self.refresh()

    def _on_failed(self, exc: BaseException) -> None:
        # Presence is advisory and Redis being down already shows in the status bar
        # ("Live updates paused"): log once per outage, the type only.
        if not self._failing:
            log.warning("presence could not be updated (%s)", type(exc).__name__)
        self._failing = True
