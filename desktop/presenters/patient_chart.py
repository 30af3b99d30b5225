"""Opens a patient: fetches the whole record off the GUI thread and shows the header.

Later issues build the chart (notes, encounters, orders) around this presenter's record.
The header follows other workstations: a change event for the shown patient, or a
reconnect of live updates, reads the record again (``refetch``: no second audited open)
and shows it in place.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtWidgets import QMessageBox

from backend_client.dto import PatientRecord
from backend_client.errors import NotFound, PermissionDenied
from backend_client.patients.api import PatientsApi
from backend_client.sync.events import ChangeEvent
from desktop.bridges.notifications import ChangeNotifications
from desktop.presenters.messages import failure_sentence
from desktop.tasks import InlineTaskRunner, TaskRunner
from ui.auth.break_glass_dialog import BreakGlassDialog
from ui.patients.patient_header import PatientHeaderView

CANNOT_OPEN = "The patient cannot be opened right now"
CANNOT_RESTRICT = "The record's restriction cannot be changed right now"


class PatientChartPresenter(QObject):
    """Signals:
        patient_opened(object): the PatientRecord now shown (opened by the user).
        patient_refreshed(object): the shown patient read again after a change elsewhere.
        record_opened(object): the PatientRecord the user asked to open (the list, the
            schedule) has arrived: its chart may open (only for this, never after a save
            or a refresh).
        open_abandoned(object): an open did not happen (refused, failed, or the
            break-the-glass reason was not given); the id of the patient still shown, or
            None: whatever pointed at the other patient (the list's selection) must go back
            to it, so that exactly one patient is "the current patient" on screen.

    Args:
        notifications: the change bridge to follow (:meth:`follow`); None: the header
            changes only when its user acts.
    """

    patient_opened = Signal(object)
    patient_refreshed = Signal(object)
    record_opened = Signal(object)
    open_abandoned = Signal(object)

    def __init__(self, view: PatientHeaderView, api: PatientsApi,
                 tasks: TaskRunner | InlineTaskRunner, *,
                 today: Callable[[], date] = date.today,
                 notifications: ChangeNotifications | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._view = view
        self._api = api
        self._tasks = tasks
        self._today = today
        self._token = 0
        self.current: PatientRecord | None = None
        self._opening = False  # an open is on its way: it reads what is saved anyway
        self.break_glass_dialog: BreakGlassDialog | None = None
        view.restrict_requested.connect(self.on_view_restrict_requested)
        if notifications is not None:
            self.follow(notifications)

    def follow(self, notifications: ChangeNotifications) -> None:
        """Show other workstations' changes to the open patient as they happen."""
        notifications.changed.connect(self.on_notifications_changed)
        notifications.resynced.connect(self.on_notifications_resynced)

    @Slot(tuple)
    def on_notifications_changed(self, events: tuple[ChangeEvent, ...]) -> None:
        current = self.current
        if current is None:
            return
        if any(e.kind == "patient" and e.id == current.id and not e.mine
               and (e.version == 0 or e.version > current.version) for e in events):
            self._refresh()

    @Slot()
    def on_notifications_resynced(self) -> None:
        if self.current is not None:
            self._refresh()

    def _refresh(self) -> None:
        """Read the shown patient again, quietly: the header stays as it is until the new
        record replaces it; a newer open or refresh wins."""
        current = self.current
        if current is None or self._opening:
            return  # nothing shown, or what the user opens next comes fresh anyway
        self._token += 1
        token, patient_id = self._token, current.id

        def loaded(record: PatientRecord) -> None:
            if token == self._token:
                self._show(record, opened=False)

        def failed(exc: BaseException) -> None:
            if token != self._token:
                return
            if isinstance(exc, NotFound):
                self.current = None
                self._view.clear("This patient's record no longer exists (it may have been "
                                 "merged with another). Search again to open the right one.")
            elif isinstance(exc, PermissionDenied):
                # Restricted since it was opened: it no longer stays on this screen.
                self.current = None
                self._view.clear("This record was restricted by someone else meanwhile. Open "
                                 "it again from the list; you may be asked for a reason.")
            # A store that is down costs freshness only: the header stays as it was.

        self._tasks.run(lambda: self._api.refetch(patient_id), loaded, failed, pool="read")

    @Slot(int)
    def open(self, patient_id: int, reason: str | None = None) -> None:
        # Newest request wins: opening B while A still loads must end showing B.
        self._token += 1
        token = self._token
        self._opening = True
        if self.current is None or self.current.id != patient_id:
            self._view.show_loading()
        self._tasks.run(lambda: self._api.get(patient_id, break_glass_reason=reason),
                        lambda record: self._on_loaded(token, record),
                        lambda exc: self._on_failed(token, exc, patient_id), pool="read")

    def set_can_restrict(self, allowed: bool) -> None:
        self._view.set_can_restrict(allowed)

    @Slot(int, bool)
    def on_view_restrict_requested(self, patient_id: int, restricted: bool) -> None:
        if self.current is None or self.current.id != patient_id:
            return
        self.confirm_restrict(restricted, lambda: self._set_restricted(patient_id, restricted))

    def _set_restricted(self, patient_id: int, restricted: bool) -> None:
        if self.current is None or self.current.id != patient_id:
            return  # another patient (or person) meanwhile
        token = self._token

        def done(record: PatientRecord) -> None:
            if token == self._token:
                self._show(record)

        def failed(exc: BaseException) -> None:
            if token == self._token:
                self._view.show_message(failure_sentence(exc, CANNOT_RESTRICT))

        self._tasks.run(lambda: self._api.set_restricted(patient_id, restricted), done, failed,
                        pool="write")

    def confirm_restrict(self, restricted: bool, proceed: Callable[[], None]) -> None:
        """Asks first, without a nested event loop (the idle lock may come meanwhile):
        restricting changes who can open the chart. Tests replace this."""
        if restricted:
            title, text = ("Restrict this record?",
                           "Only the clinicians who see this patient will open the chart "
                           "without giving a reason; everyone else is asked why, and it is "
                           "recorded.")
        else:
            title, text = ("Lift the restriction?",
                           "Everyone whose role allows it will open this chart without giving "
                           "a reason.")
        box = QMessageBox(QMessageBox.Icon.Question, title, text,
                          QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
                          self._view.window())
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)

        def answered(result: int) -> None:
            box.deleteLater()
            if result == QMessageBox.StandardButton.Yes:
                proceed()

        box.finished.connect(answered)
        box.open()

    def close(self) -> None:
        """Another person signed in: the patient on screen goes (answers on their way too)."""
        self._token += 1
        self.current = None
        self._opening = False
        if self.break_glass_dialog is not None:
            self.break_glass_dialog.done(0)
        self._view.clear()

    @Slot(object)
    def show_record(self, record: PatientRecord) -> None:
        """A record that is already in hand (just saved): show it without fetching."""
        self._token += 1
        self._opening = False
        self._show(record)

    def _on_loaded(self, token: int, record: PatientRecord) -> None:
        if token == self._token:
            self._opening = False
            self._show(record)
            self.record_opened.emit(record)

    def _abandon(self, sentence: str) -> None:
        """The open did not happen: the header says so, naming who is still shown, and
        whatever selected the other patient is told to point back (``open_abandoned``)."""
        current = self.current
        if current is not None:
            d = current.draft
            sentence += f" Still shown: {d.family_name}, {d.given_name} (MRN {current.mrn})."
        self._view.show_message(sentence)
        self.open_abandoned.emit(current.id if current is not None else None)

    def _show(self, record: PatientRecord, *, opened: bool = True) -> None:
        self.current = record
        self._view.show_patient(record, self._today())
        (self.patient_opened if opened else self.patient_refreshed).emit(record)

    def _on_failed(self, token: int, exc: BaseException, patient_id: int) -> None:
        if token != self._token:
            return
        self._opening = False
        if isinstance(exc, PermissionDenied) and exc.break_glass:
            self._ask_reason(patient_id, exc.message)
            return
        if isinstance(exc, NotFound):
            sentence = ("This patient's record no longer exists. Search again: it may have "
                        "been merged with another record.")
        else:
            sentence = failure_sentence(exc, CANNOT_OPEN)
        self._abandon(sentence)

    def _ask_reason(self, patient_id: int, sentence: str) -> None:
        """A restricted chart: say so, and open it only with a reason (audited)."""
        self._view.show_message("This chart is restricted. It opens once you give a reason.")
        if self.break_glass_dialog is not None:
            self.break_glass_dialog.done(0)
        dialog = BreakGlassDialog(sentence, self._view.window())
        self.break_glass_dialog = dialog

        def finished(result: int) -> None:
            if self.break_glass_dialog is dialog:
                self.break_glass_dialog = None
            reason = dialog.reason()
            dialog.deleteLater()
            if result == BreakGlassDialog.DialogCode.Accepted and reason:
                self.open(patient_id, reason)
            else:
                self._abandon("The restricted chart was not opened.")

        dialog.finished.connect(finished)
        dialog.open()
