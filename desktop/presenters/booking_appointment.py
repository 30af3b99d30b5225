"""An open appointment: its dialog, "Change time…", and following others' changes to it.

The writes themselves (status, move, cancel) are the booking presenter's; this keeps the
dialog showing the appointment as it is now: after our own writes and when another
workstation's change event names it ("Changed by X at HH:MM", from the refetched row).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, tzinfo
from typing import Any

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtWidgets import QDialog, QWidget

from backend_client.dto import AppointmentInfo, ProviderInfo
from backend_client.scheduling.api import SchedulingApi
from desktop.bridges.notifications import ChangeNotifications
from desktop.tasks import InlineTaskRunner, TaskRunner
from ui.scheduling.appointment_dialog import AppointmentDialog, ChangeTimeDialog
from ui.scheduling.booking_text import hhmm


class AppointmentFlow(QObject):
    """Signals:
        open_patient_requested(int): "Open patient" in the dialog.
    """

    open_patient_requested = Signal(int)

    def __init__(self, window: QWidget, api: SchedulingApi,
                 tasks: TaskRunner | InlineTaskRunner, notifications: ChangeNotifications, *,
                 zone: tzinfo | None, provider_name: Callable[[int | None], str],
                 set_status: Callable[[AppointmentInfo, str], None],
                 move: Callable[[AppointmentInfo, int, datetime, datetime], None],
                 cancel: Callable[[AppointmentInfo], None],
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._window = window
        self._api = api
        self._tasks = tasks
        self._zone = zone
        self._provider_name = provider_name
        self._set_status = set_status
        self._move = move
        self._cancel = cancel
        self._providers: Sequence[ProviderInfo] = ()
        self.dialog: AppointmentDialog | None = None
        self.change_time: ChangeTimeDialog | None = None
        notifications.changed.connect(self.on_notifications_changed)
        notifications.resynced.connect(self.on_notifications_resynced)

    def show(self, appt: AppointmentInfo, providers: Sequence[ProviderInfo]) -> None:
        self._providers = providers
        dialog = AppointmentDialog(self._window, appt,
                                   provider_name=self._provider_name(appt.provider_id),
                                   zone=self._zone)
        dialog.status_requested.connect(lambda s: self._set_status(dialog.appointment, s))
        dialog.cancel_requested.connect(lambda: self._cancel(dialog.appointment))
        dialog.change_time_requested.connect(lambda: self._show_change_time(dialog))
        dialog.open_patient_requested.connect(self.on_dialog_open_patient_requested)
        dialog.finished.connect(lambda _: self._forget(dialog))
        self.dialog = dialog
        dialog.open()

    def close(self) -> None:
        if self.dialog is not None:
            self.dialog.done(QDialog.DialogCode.Rejected)

    def _forget(self, dialog: AppointmentDialog) -> None:
        if self.dialog is dialog:
            self.dialog = None
        dialog.deleteLater()

    def refresh(self, appointments: Sequence[AppointmentInfo]) -> None:
        """Show the open appointment as a write just left it."""
        dialog = self.dialog
        if dialog is None:
            return
        for appt in appointments:
            if appt.id == dialog.appointment.id:
                dialog.load(appt, self._provider_name(appt.provider_id))

    @Slot(int)
    def on_dialog_open_patient_requested(self, patient_id: int) -> None:
        if self.dialog is not None:
            self.dialog.accept()
        self.open_patient_requested.emit(patient_id)

    def _show_change_time(self, owner: AppointmentDialog) -> None:
        dialog = ChangeTimeDialog(owner, owner.appointment, self._providers, zone=self._zone)
        dialog.move_requested.connect(lambda pid, start, end: self._move(
            owner.appointment, pid, start, end))
        dialog.finished.connect(lambda _: self._forget_change_time(dialog))
        self.change_time = dialog
        dialog.open()

    def _forget_change_time(self, dialog: ChangeTimeDialog) -> None:
        if self.change_time is dialog:
            self.change_time = None
        dialog.deleteLater()

    # ------------------------------------------------------------ others' changes

    @Slot(tuple)
    def on_notifications_changed(self, events: tuple[Any, ...]) -> None:
        dialog = self.dialog
        if dialog is None:
            return
        shown = dialog.appointment
        if any(e.kind == "appointment" and e.id == shown.id
               and (e.version == 0 or e.version > shown.version) for e in events):
            self._refetch()

    @Slot()
    def on_notifications_resynced(self) -> None:
        if self.dialog is not None:
            self._refetch()

    def _refetch(self) -> None:
        dialog = self.dialog
        if dialog is None:
            return
        appointment_id = dialog.appointment.id

        def got(current: AppointmentInfo) -> None:
            if dialog is not self.dialog or current.version == dialog.appointment.version:
                return
            dialog.load(current, self._provider_name(current.provider_id))
            who = current.updated_by or "someone else"
            when = f" at {hhmm(current.updated_at, self._zone)}" if current.updated_at else ""
            dialog.show_notice(f"Changed by {who}{when}; this shows it as it is now.")

        # Not fetched: the dialog keeps what it shows, and a write still meets Conflict.
        self._tasks.run(lambda: self._api.get(appointment_id), got, lambda _exc: None)
