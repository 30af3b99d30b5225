"""Check-ins meant for the signed-in person, as arrival notices over their window.

The change event only says "appointment 41 was checked in, tell user 7" (ids, never PHI,
and anyone with the workstation's Redis login could forge one): the notice's words come
from the appointment refetched through the service, with the reader's permissions. Events
from this workstation count too: a doctor who checks their own patient in is told as well.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import tzinfo
from typing import Any

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtWidgets import QWidget

from backend_client.dto import AppointmentInfo, ProviderInfo
from backend_client.scheduling.api import SchedulingApi
from desktop.bridges.notifications import ChangeNotifications
from desktop.tasks import InlineTaskRunner, TaskRunner
from ui.scheduling.arrival_notice import ArrivalNoticeArea
from ui.scheduling.booking_text import hhmm, person_name

log = logging.getLogger(__name__)


def arrival_text(appt: AppointmentInfo, provider: str, zone: tzinfo | None) -> str:
    """"Anna Müller has arrived — 09:40 with Dr Demo" (the booked time, local)."""
    text = f"{person_name(appt.patient_name)} has arrived — {hhmm(appt.starts_at, zone)}"
    return text + (f" with {provider}" if provider else "")


class ArrivalPresenter(QObject):
    """Signals:
        open_patient_requested(int): "Open patient" on a notice.
    """

    open_patient_requested = Signal(int)

    def __init__(self, window: QWidget, api: SchedulingApi,
                 tasks: TaskRunner | InlineTaskRunner, notifications: ChangeNotifications, *,
                 current_user_id: Callable[[], int | None], zone: tzinfo | None = None,
                 seconds: int = 120, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._api = api
        self._tasks = tasks
        self._me = current_user_id
        self._zone = zone
        self._providers: dict[int, ProviderInfo] = {}
        self._seen: set[tuple[int, int]] = set()
        self.area = ArrivalNoticeArea(window, seconds=seconds)
        self.area.open_patient_requested.connect(self.open_patient_requested)
        notifications.changed.connect(self.on_notifications_changed)

    @Slot(tuple)
    def on_notifications_changed(self, events: tuple[Any, ...]) -> None:
        me = self._me()
        if me is None:
            return
        for event in events:
            if (event.kind != "appointment" or event.action != "checked_in"
                    or event.notify_user_id != me):
                continue
            key = (event.id, event.version)
            if key in self._seen:
                continue  # the same check-in heard twice (a resync) is one notice
            self._seen.add(key)
            self._fetch(event.id)

    def _fetch(self, appointment_id: int) -> None:
        def load() -> tuple[AppointmentInfo, dict[int, ProviderInfo]]:
            appt = self._api.get(appointment_id)
            providers = self._providers
            if appt.provider_id not in providers:
                providers = {p.id: p for p in self._api.providers()}
            return appt, providers

        def loaded(result: tuple[AppointmentInfo, dict[int, ProviderInfo]]) -> None:
            appt, self._providers = result
            if appt.status != "checked_in":
                return  # undone, or already taken in, before we heard of it
            if self._me() is None:
                return  # signed out meanwhile: nothing for the next person to see
            provider = self._providers.get(appt.provider_id)
            self.area.show_notice(arrival_text(appt, provider.display_name if provider
                                               else "", self._zone), appt.patient_id)
            log.info("arrival notice shown for appointment %d", appt.id)  # ids only

        # A notice that cannot be fetched is not shown; the day sheet still shows the
        # status, so nothing is lost but the nudge.
        self._tasks.run(load, loaded, lambda _exc: None)
