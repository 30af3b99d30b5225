"""Booking, moving, cancelling, status changes and the waitlist: the desk's write flows.

Every service call runs through the TaskRunner (reads on the read pool, writes on the
write pool); dialogs only ask and show. A dialog keeps what was typed on every failure.
After every write attempt (saved, refused or failed) ``finished`` is emitted so that the
schedule refetches: the database is the record, never what this workstation assumed.
Split by what changes together: the open appointment's dialog (booking_appointment.py),
the waitlist panel (booking_waitlist.py), and check-ins meant for the signed-in person as
arrival notices (booking_arrivals.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, tzinfo
from typing import Any

import shiboken6
from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QDialog, QMessageBox, QWidget

from backend_client.dto import (
    AppointmentInfo,
    AppointmentTypeInfo,
    BookingRequest,
    BookingResult,
    ProviderInfo,
    SlotOffer,
    WaitlistEntry,
)
from backend_client.errors import (
    Clash,
    Conflict,
    IllegalTransition,
    NeedsOverride,
    ValidationError,
)
from backend_client.patients.api import PatientsApi
from backend_client.scheduling.api import SchedulingApi
from desktop.bridges.notifications import ChangeNotifications
from desktop.presenters.booking_appointment import AppointmentFlow
from desktop.presenters.booking_arrivals import ArrivalPresenter
from desktop.presenters.booking_waitlist import WaitlistFlow
from desktop.presenters.messages import failure_sentence
from desktop.tasks import InlineTaskRunner, TaskRunner
from ui.patients.formatting import format_date
from ui.scheduling.appointment_dialog import AppointmentDialog, ChangeTimeDialog
from ui.scheduling.booking_dialog import BookingDialog
from ui.scheduling.booking_text import hhmm, local
from ui.scheduling.cancel_dialog import CancelDialog, ScopeDialog
from ui.scheduling.override_dialog import OverrideDialog
from ui.scheduling.waitlist_panel import WaitlistOfferDialog, WaitlistPanel

CANNOT_OPEN = "The schedule cannot be read right now"
CANNOT_BOOK = "The appointment cannot be booked right now"
CANNOT_MOVE = "The appointment cannot be moved right now"
CANNOT_CANCEL = "The appointment cannot be cancelled right now"
CANNOT_STATUS = "The appointment's status cannot be changed right now"
CANNOT_SEARCH = "The patient list cannot be searched right now"
CANNOT_WAITLIST = "The waitlist cannot be changed right now"
SEARCH_LIMIT = 20
Runner = TaskRunner | InlineTaskRunner


def _utc_now() -> datetime:
    return datetime.now(UTC)


class BookingPresenter(QObject):
    """Signals:
        finished(): a write was attempted (saved, refused or failed): refetch the schedule.
        saved(object): the BookingResult (book, move, cancel) or AppointmentInfo (status).
        open_patient_requested(int): the user asked to open this patient's chart.
    """

    finished = Signal()
    saved = Signal(object)
    open_patient_requested = Signal(int)

    def __init__(self, parent_window: QWidget, api: SchedulingApi, patients: PatientsApi,
                 tasks: Runner, notifications: ChangeNotifications, *,
                 current_user_id: Callable[[], int | None],
                 now: Callable[[], datetime] = _utc_now, zone: tzinfo | None = None,
                 debounce_ms: int = 150, notice_seconds: int = 120,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._window = parent_window
        self._api = api
        self._patients = patients
        self._tasks = tasks
        self._now = now
        self._zone = zone
        self._debounce_ms = debounce_ms
        self._providers: tuple[ProviderInfo, ...] = ()
        self._search_tokens: dict[int, int] = {}
        self._opening_booking = False
        self._check_token = 0
        self.booking: BookingDialog | None = None
        self.override: OverrideDialog | None = None
        self.scope: ScopeDialog | None = None
        self.cancelling: CancelDialog | None = None
        self.offer: WaitlistOfferDialog | None = None
        self.message: QMessageBox | None = None
        self.arrivals = ArrivalPresenter(parent_window, api, tasks, notifications,
                                         current_user_id=current_user_id, zone=zone,
                                         seconds=notice_seconds, parent=self)
        self.arrivals.open_patient_requested.connect(self.open_patient_requested)
        self.appointment_flow = AppointmentFlow(
            parent_window, api, tasks, notifications, zone=zone,
            provider_name=self.provider_name, set_status=self.set_status, move=self.move,
            cancel=self._show_cancel, parent=self)
        self.appointment_flow.open_patient_requested.connect(self.open_patient_requested)
        self.waitlist_flow = WaitlistFlow(parent_window, api, tasks, zone=zone,
                                          today=self._today, search=self._search,
                                          book=self._book_offer, parent=self)

    def close_all(self) -> None:
        """Another person is at the workstation (or nobody): every scheduling dialog and
        arrival notice of the previous one goes, as the patient forms do."""
        for holder, name in ((self, "booking"), (self, "override"), (self, "scope"),
                             (self, "cancelling"), (self, "offer"), (self, "message"),
                             (self.appointment_flow, "dialog"),
                             (self.appointment_flow, "change_time"),
                             (self.waitlist_flow, "panel")):
            widget = getattr(holder, name, None)
            if widget is not None:
                setattr(holder, name, None)
                widget.close()
                widget.deleteLater()
        for notice in list(self.arrivals.area.notices):
            notice.dismiss()

    @property
    def appointment(self) -> AppointmentDialog | None:
        return self.appointment_flow.dialog

    @property
    def change_time(self) -> ChangeTimeDialog | None:
        return self.appointment_flow.change_time

    def edit(self, appointment: AppointmentInfo) -> None:
        """Open an appointment: its facts, status steps, change time, cancel, patient."""
        self.appointment_flow.close()
        self._directory(lambda _types: self.appointment_flow.show(appointment,
                                                                  self._providers))

    @property
    def waitlist(self) -> WaitlistPanel | None:
        return self.waitlist_flow.panel

    def show_waitlist(self) -> None:
        """The waitlist: entries, adding and removing them, today's slots they fit."""
        if self.waitlist is not None:
            self.waitlist.raise_()
            self.waitlist.activateWindow()
            return
        self._directory(lambda _types: self.waitlist_flow.show(self._providers))

    def _today(self) -> date:
        return local(self._now(), self._zone).date()

    # ================================================================= helpers

    def provider_name(self, provider_id: int | None) -> str:
        return next((p.display_name for p in self._providers if p.id == provider_id), "")

    def _directory(self, then: Callable[[tuple[AppointmentTypeInfo, ...]], None], *,
                   on_failure: Callable[[], None] | None = None) -> None:
        """Providers and appointment types (cached by the service), then ``then``."""
        def load() -> tuple[tuple[ProviderInfo, ...], tuple[AppointmentTypeInfo, ...]]:
            return self._api.providers(), self._api.appointment_types()

        def loaded(result: tuple[tuple[ProviderInfo, ...],
                                 tuple[AppointmentTypeInfo, ...]]) -> None:
            self._providers = result[0]
            then(result[1])

        def failed(exc: BaseException) -> None:
            if on_failure is not None:
                on_failure()
            self._tell("Schedule", failure_sentence(exc, CANNOT_OPEN))

        self._tasks.run(load, loaded, failed)

    def _tell(self, title: str, text: str, *,
              icon: QMessageBox.Icon = QMessageBox.Icon.Warning) -> None:
        """A message box that does not block the event loop (open(), not exec())."""
        if self.message is not None:
            self.message.deleteLater()
        box = QMessageBox(icon, title, text, QMessageBox.StandardButton.Ok, self._window)
        box.setObjectName("booking-message")
        self.message = box
        box.open()

    def _ask_override(self, parent: QWidget, exc: NeedsOverride, action: str,
                      go: Callable[[str], None]) -> None:
        dialog = OverrideDialog(parent, exc.warnings or (exc.message,), action=action)
        dialog.override_requested.connect(go)
        dialog.finished.connect(lambda _: self._forget("override", dialog))
        self.override = dialog
        dialog.open()

    def _forget(self, name: str, dialog: QDialog) -> None:
        if getattr(self, name) is dialog:
            setattr(self, name, None)
        dialog.deleteLater()

    def _search(self, target: Any, text: str) -> None:
        """Registry search for a patient picker (booking dialog, waitlist panel): off the
        GUI thread, the newest request per picker wins."""
        key = id(target)
        token = self._search_tokens.get(key, 0) + 1
        self._search_tokens[key] = token
        if len(text) < 2:
            return

        def current() -> bool:
            # The picker's dialog may have been closed (and deleted) meanwhile.
            return self._search_tokens.get(key) == token and shiboken6.isValid(target)

        def found(page: Any) -> None:
            if current():
                target.show_results(text, page.items)

        def failed(exc: BaseException) -> None:
            if current():
                target.show_message(failure_sentence(exc, CANNOT_SEARCH))

        self._tasks.run(lambda: self._patients.search(text, limit=SEARCH_LIMIT), found, failed)

    # ================================================================= booking

    def book(self, provider_id: int, starts_at: datetime, patient_id: int | None = None) -> None:
        """Open the booking dialog for this slot (and this patient, when given)."""
        self._open_booking(provider_id, starts_at, patient_id=patient_id)

    def _open_booking(self, provider_id: int, starts_at: datetime, *,
                      patient_id: int | None = None, patient_text: str = "",
                      minutes: int | None = None, type_id: int | None = None,
                      waitlist_entry: WaitlistEntry | None = None) -> None:
        if self.booking is not None and self.booking.isVisible():
            self.booking.raise_()
            self.booking.activateWindow()
            return
        if self._opening_booking:
            return  # a double click: the dialog is on its way
        self._opening_booking = True

        def with_patient(types: tuple[AppointmentTypeInfo, ...]) -> None:
            if patient_id is not None and not patient_text:
                def got(record: Any) -> None:
                    d = record.draft
                    text = (f"{d.family_name}, {d.given_name} · born "
                            f"{format_date(d.birth_date)} · MRN {record.mrn}")
                    self._show_booking(types, provider_id, starts_at, patient_id, text,
                                       minutes, type_id, waitlist_entry)

                def failed(exc: BaseException) -> None:
                    self._opening_booking = False
                    self._tell("Book appointment", failure_sentence(exc, CANNOT_OPEN))

                self._tasks.run(lambda: self._patients.get(patient_id), got, failed)
            else:
                self._show_booking(types, provider_id, starts_at, patient_id, patient_text,
                                   minutes, type_id, waitlist_entry)

        self._directory(with_patient, on_failure=self._booking_not_opened)

    def _booking_not_opened(self) -> None:
        self._opening_booking = False

    def _show_booking(self, types: tuple[AppointmentTypeInfo, ...], provider_id: int,
                      starts_at: datetime, patient_id: int | None, patient_text: str,
                      minutes: int | None, type_id: int | None,
                      entry: WaitlistEntry | None) -> None:
        self._opening_booking = False
        dialog = BookingDialog(self._window, providers=self._providers, types=types,
                               provider_id=provider_id, starts_at=starts_at, zone=self._zone,
                               minutes=minutes, type_id=type_id,
                               debounce_ms=self._debounce_ms)
        dialog.patient_search_requested.connect(lambda text: self._search(dialog.patient, text))
        dialog.check_requested.connect(lambda request: self._check(dialog, request))
        dialog.book_requested.connect(lambda request: self._book(dialog, request, "", entry))
        dialog.finished.connect(lambda _: self._forget("booking", dialog))
        self.booking = dialog
        if patient_id is not None:
            dialog.set_patient(patient_id, patient_text)
        dialog.open()
        if patient_id is not None:
            dialog.type.setFocus()

    def _check(self, dialog: BookingDialog, request: BookingRequest) -> None:
        self._check_token += 1
        token = self._check_token

        def current() -> bool:
            return token == self._check_token and dialog is self.booking

        def checked(warnings: Any) -> None:
            if current():
                dialog.show_warnings(warnings)

        def failed(exc: BaseException) -> None:
            if not current():
                return
            dialog.show_warnings(())
            if isinstance(exc, Clash):
                dialog.show_clash(exc.message)
            elif isinstance(exc, ValidationError):
                dialog.show_errors(exc.errors)
            # Anything else shows when the user books; a check is only a preview.

        self._tasks.run(lambda: self._api.check(request), checked, failed)

    def _book(self, dialog: BookingDialog, request: BookingRequest, reason: str,
              entry: WaitlistEntry | None) -> None:
        self._check_token += 1  # a preview still on its way is out of date now
        dialog.set_busy(True)
        wanted = replace(request, override_reason=reason)
        self._tasks.run(lambda: self._api.book(wanted),
                        lambda result: self._booked(dialog, result, entry),
                        lambda exc: self._book_failed(dialog, request, entry, exc),
                        pool="write")

    def _booked(self, dialog: BookingDialog, result: BookingResult,
                entry: WaitlistEntry | None) -> None:
        if dialog is self.booking:
            dialog.set_busy(False)
            dialog.accept()
        if entry is not None:
            # The service has no "book from the waitlist": the entry goes once booked.
            self._tasks.run(lambda: self._api.remove_from_waitlist(
                entry.id, entry.version, "Booked"), lambda _: self.waitlist_flow.reload(),
                lambda exc: self._tell("Waitlist", failure_sentence(exc, CANNOT_WAITLIST)),
                pool="write")
        if result.skipped:
            booked = len(result.appointments)
            self._tell("Booked", f"{booked} appointment{'s' if booked != 1 else ''} booked. "
                       "Not booked:\n" + "\n".join(f"• {s}" for s in result.skipped),
                       icon=QMessageBox.Icon.Information)
        self.saved.emit(result)
        self.finished.emit()

    def _book_failed(self, dialog: BookingDialog, request: BookingRequest,
                     entry: WaitlistEntry | None, exc: BaseException) -> None:
        self.finished.emit()
        if dialog is not self.booking:
            return
        dialog.set_busy(False)
        if isinstance(exc, Clash):
            dialog.show_clash(exc.message)
            dialog.time.setFocus()
        elif isinstance(exc, NeedsOverride):
            dialog.show_warnings(tuple(exc.warnings))  # type: ignore[arg-type]
            self._ask_override(dialog, exc, "Book anyway",
                               lambda why: self._book(dialog, request, why, entry))
        elif isinstance(exc, ValidationError):
            dialog.show_errors(exc.errors)
        else:
            dialog.show_failure(failure_sentence(exc, CANNOT_BOOK))

    # ================================================================= moving

    def move(self, appointment: AppointmentInfo, provider_id: int, starts_at: datetime,
             ends_at: datetime) -> None:
        """Move and/or resize (drag and drop, keyboard, "Change time…"); for a series the
        user says which occurrences first."""
        if appointment.series_id is None:
            self._move(appointment, provider_id, starts_at, ends_at, "one", "")
            return
        dialog = ScopeDialog(self._window, verb="Move")
        dialog.scope_chosen.connect(lambda scope: self._move(
            appointment, provider_id, starts_at, ends_at, scope, ""))
        dialog.rejected.connect(self.finished)  # the dragged block goes back
        dialog.finished.connect(lambda _: self._forget("scope", dialog))
        self.scope = dialog
        dialog.open()

    def _move(self, appt: AppointmentInfo, provider_id: int, starts_at: datetime,
              ends_at: datetime, scope: str, reason: str) -> None:
        def moved(result: BookingResult) -> None:
            self.appointment_flow.refresh(result.appointments)
            self.saved.emit(result)
            self.finished.emit()

        def failed(exc: BaseException) -> None:
            self.finished.emit()
            if isinstance(exc, Conflict):
                self._tell_changed(appt)
            elif isinstance(exc, Clash):
                self._tell("Cannot move", exc.message)
            elif isinstance(exc, NeedsOverride):
                self._ask_override(self._window, exc, "Move anyway", lambda why: self._move(
                    appt, provider_id, starts_at, ends_at, scope, why))
            elif isinstance(exc, ValidationError):
                self._tell("Cannot move", " ".join(exc.errors.values()))
            else:
                self._tell("Cannot move", failure_sentence(exc, CANNOT_MOVE))

        self._tasks.run(lambda: self._api.move(
            appt.id, appt.version, provider_id=provider_id, starts_at=starts_at,
            ends_at=ends_at, scope=scope, override_reason=reason),  # type: ignore[arg-type]
            moved, failed, pool="write")

    def _tell_changed(self, appt: AppointmentInfo) -> None:
        """Who changed it and when, from the refetched row (never from an event)."""
        def got(current: AppointmentInfo) -> None:
            who = current.updated_by or "someone else"
            when = f" at {hhmm(current.updated_at, self._zone)}" if current.updated_at else ""
            self._tell("Changed meanwhile", f"Changed by {who}{when}; the schedule shows the "
                       "current times. Nothing was moved.", icon=QMessageBox.Icon.Information)
            self.appointment_flow.refresh((current,))

        self._tasks.run(lambda: self._api.get(appt.id), got, lambda _exc: self._tell(
            "Changed meanwhile", "Someone else changed this appointment; the schedule shows "
            "the current times. Nothing was moved.", icon=QMessageBox.Icon.Information))

    # ================================================================= cancelling

    def cancel(self, appointment: AppointmentInfo) -> None:
        self._directory(lambda _types: self._show_cancel(appointment))

    def _show_cancel(self, appt: AppointmentInfo) -> None:
        parent = self.appointment if self.appointment is not None else self._window
        dialog = CancelDialog(parent, appt, provider_name=self.provider_name(appt.provider_id),
                              zone=self._zone)
        dialog.cancel_requested.connect(
            lambda reason, scope: self._cancel(dialog, appt, reason, scope))
        dialog.finished.connect(lambda _: self._forget("cancelling", dialog))
        self.cancelling = dialog
        dialog.open()

    def _cancel(self, dialog: CancelDialog, appt: AppointmentInfo, reason: str,
                scope: str) -> None:
        dialog.set_busy(True)

        def done(result: BookingResult) -> None:
            if dialog is self.cancelling:
                dialog.set_busy(False)
                dialog.accept()
            self.appointment_flow.refresh(result.appointments)
            self.saved.emit(result)
            self.finished.emit()
            self._offer_slot(appt)

        def failed(exc: BaseException) -> None:
            self.finished.emit()
            if dialog is not self.cancelling:
                return
            dialog.set_busy(False)
            if isinstance(exc, Conflict):
                dialog.show_failure(f"{exc.message} Close this and open the appointment "
                                    "again to see its current state.")
            else:
                dialog.show_failure(failure_sentence(exc, CANNOT_CANCEL))

        self._tasks.run(lambda: self._api.cancel(appt.id, appt.version, reason,
                                                 scope=scope),  # type: ignore[arg-type]
                        done, failed, pool="write")

    def _offer_slot(self, appt: AppointmentInfo) -> None:
        """Waitlist entries that fit the freed slot, offered at once."""
        day = local(appt.starts_at, self._zone).date()

        def got(offers: tuple[SlotOffer, ...]) -> None:
            fitting = [o for o in offers if o.entries and o.provider_id == appt.provider_id
                       and o.starts_at < appt.ends_at and o.ends_at > appt.starts_at]
            if fitting:
                self._show_offer(fitting[0])

        self._tasks.run(lambda: self._api.offers(day), got, lambda _exc: None)

    def _show_offer(self, offer: SlotOffer) -> None:
        dialog = WaitlistOfferDialog(self._window, offer,
                                     provider_name=self.provider_name(offer.provider_id),
                                     zone=self._zone)
        dialog.book_requested.connect(lambda entry: self._book_offer(offer, entry))
        dialog.finished.connect(lambda _: self._forget("offer", dialog))
        self.offer = dialog
        dialog.open()

    def _book_offer(self, offer: SlotOffer, entry: WaitlistEntry) -> None:
        minutes = min(entry.minutes, int((offer.ends_at - offer.starts_at).total_seconds()
                                         // 60)) or entry.minutes
        self._open_booking(offer.provider_id, offer.starts_at, patient_id=entry.patient_id,
                           patient_text=entry.patient_name, minutes=minutes,
                           type_id=entry.type_id, waitlist_entry=entry)

    # ================================================================= status

    def set_status(self, appointment: AppointmentInfo, status: str) -> None:
        dialog = self.appointment
        if dialog is not None:
            dialog.set_busy(True)

        def done(info: AppointmentInfo) -> None:
            if dialog is not None and dialog is self.appointment:
                dialog.set_busy(False)
            self.appointment_flow.refresh((info,))
            self.saved.emit(info)
            self.finished.emit()

        def failed(exc: BaseException) -> None:
            self.finished.emit()
            if isinstance(exc, Conflict):
                text = f"{exc.message} The schedule shows its current state."
            elif isinstance(exc, IllegalTransition):
                text = exc.message
            else:
                text = failure_sentence(exc, CANNOT_STATUS)
            if dialog is not None and dialog is self.appointment:
                dialog.set_busy(False)
                dialog.show_failure(text)
            else:
                self._tell("Status", text)

        self._tasks.run(lambda: self._api.set_status(appointment.id, appointment.version,
                                                     status), done, failed, pool="write")
