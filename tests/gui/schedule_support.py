"""Pieces shared by the schedule's GUI tests: a fixed day and zone, a booking presenter
stand-in that records intents, a task runner that answers when the test says so."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from PySide6.QtCore import QObject, Signal

from backend_client.dto import AppointmentInfo
from desktop.bridges.notifications import ChangeNotifications
from desktop.presenters.schedule import SchedulePresenter
from desktop.tasks import InlineTaskRunner
from tests.gui.fake_scheduling import FakeSchedulingApi, demo_clinic
from ui.scheduling.schedule_view import ScheduleView

DAY = date(2026, 12, 2)          # a Wednesday; tests never read the machine's date
ZONE = ZoneInfo("Europe/Berlin")  # the workstation's zone, fixed (records are UTC)
NOW = datetime.combine(DAY, time(9, 47), tzinfo=ZONE)


class FakeBooking(QObject):
    """The booking presenter's surface: records every intent; ``apply`` makes writes
    reach the fake service (a refused one raises there and is recorded as refused).
    ``finished`` is emitted after every write attempt, as the real one does.

    Signals:
        finished(): a write attempt is over.
    """

    finished = Signal()

    def __init__(self, api: FakeSchedulingApi, *, apply: bool = False,
                 auto_finish: bool = True) -> None:
        super().__init__()
        self.api, self.apply, self.auto_finish = api, apply, auto_finish
        self.calls: list[tuple[str, tuple[Any, ...]]] = []
        self.refused: list[str] = []

    def _write(self, fn: Callable[[], object]) -> None:
        if self.apply:
            try:
                fn()
            except Exception as exc:  # noqa: BLE001 - recorded for the test to read
                self.refused.append(str(exc))
        if self.auto_finish:
            self.finished.emit()

    def book(self, provider_id: int, starts_at: datetime) -> None:
        self.calls.append(("book", (provider_id, starts_at)))

    def edit(self, appointment: AppointmentInfo) -> None:
        self.calls.append(("edit", (appointment.id,)))

    def move(self, appointment: AppointmentInfo, provider_id: int, starts_at: datetime,
             ends_at: datetime) -> None:
        self.calls.append(("move", (appointment.id, provider_id, starts_at, ends_at)))
        self._write(lambda: self.api.move(appointment.id, appointment.version,
                                          provider_id=provider_id, starts_at=starts_at,
                                          ends_at=ends_at))

    def cancel(self, appointment: AppointmentInfo) -> None:
        self.calls.append(("cancel", (appointment.id,)))

    def set_status(self, appointment: AppointmentInfo, status: str) -> None:
        self.calls.append(("set_status", (appointment.id, status)))
        self._write(lambda: self.api.set_status(appointment.id, appointment.version, status))

    def show_waitlist(self) -> None:
        self.calls.append(("show_waitlist", ()))


class ManualTaskRunner:
    """Holds each task until the test runs it, in any order (stale answers)."""

    def __init__(self) -> None:
        self.jobs: list[tuple[Callable[[], Any], Any, Any]] = []

    def run(self, fn: Callable[[], Any], on_success: Any = None, on_failure: Any = None, *,
            pool: str = "read") -> None:
        self.jobs.append((fn, on_success, on_failure))

    def finish(self, index: int) -> None:
        fn, ok, _fail = self.jobs.pop(index)
        result = fn()
        if ok is not None:
            ok(result)

    def finish_all(self) -> None:
        while self.jobs:
            self.finish(0)


@dataclass
class Sheet:
    view: ScheduleView
    api: FakeSchedulingApi
    booking: FakeBooking
    notifications: ChangeNotifications
    presenter: SchedulePresenter

    def appt(self, patient: str, provider_id: int | None = None,
             day: date = DAY) -> AppointmentInfo:
        """The appointment of this patient (with this provider) on ``day``."""
        for a in self.api.agenda(day, day):
            if a.patient_name == patient and provider_id in (None, a.provider_id):
                return a
        raise LookupError(patient)


def make_sheet(qtbot: Any, *, apply: bool = False, tasks: Any = None,
               width: int = 1280, height: int = 800, now: datetime = NOW) -> Sheet:
    api = demo_clinic(DAY, zone=ZONE)
    view = ScheduleView(zone=ZONE)
    qtbot.addWidget(view)
    booking = FakeBooking(api, apply=apply)
    notifications = ChangeNotifications()
    presenter = SchedulePresenter(view, api, tasks or InlineTaskRunner(), notifications,
                                  booking, today=lambda: DAY, now=lambda: now, parent=view)
    view.resize(width, height)
    view.show()
    qtbot.waitExposed(view)
    presenter.start()
    api.calls.clear()
    return Sheet(view, api, booking, notifications, presenter)


def local(api: FakeSchedulingApi, hhmm: str, day: date = DAY) -> datetime:
    return api.at(day, hhmm)
