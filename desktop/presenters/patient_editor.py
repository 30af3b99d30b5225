"""Register, edit and record a death: the write flows, each through the write pool.

The form is never closed by a failure. A ValidationError puts each field's sentence next
to the field; PossibleDuplicate asks, before anything is saved, whether this is one of the
existing patients.

Another workstation's save never takes the user by surprise and is never undone silently:
the edit form opens over what is saved now (fetched fresh); while it is open, a change
event for its patient makes it refetch, and a newer version shows "Changed by X at HH:MM
(fields)" with their changes on offer; a save that meets their version anyway (a
Conflict) shows both field by field (ConflictDialog): their changes are taken, the user's
are kept, and each field both changed waits for the user's choice before anything is saved
over their version.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date
from typing import Any

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtWidgets import QDialog, QWidget

from backend_client.drafts.payload import patient_draft_from_payload, patient_draft_to_payload
from backend_client.dto import (
    ClinicLocale,
    DraftToKeep,
    DuplicateCandidate,
    PatientDraft,
    PatientRecord,
    SavedDraft,
)
from backend_client.errors import (
    Conflict,
    NotFound,
    PermissionDenied,
    PossibleDuplicate,
    ValidationError,
)
from backend_client.patients.api import PatientsApi
from desktop.bridges.notifications import ChangeNotifications
from desktop.presenters.messages import failure_sentence
from desktop.presenters.patient_editor_live import FollowsSavesElsewhere
from desktop.tasks import InlineTaskRunner, TaskRunner
from ui.patients.conflict_dialog import ConflictDialog
from ui.patients.deceased_dialog import MarkDeceasedDialog
from ui.patients.formatting import format_date
from ui.patients.patient_dialog import DuplicateWarningDialog, PatientDialog

CANNOT_SAVE = "The patient cannot be saved right now"
CANNOT_RELOAD = "The other version cannot be loaded right now"
CANNOT_EDIT = "The patient's details cannot be opened for editing right now"
CANNOT_RESTORE = "The kept form cannot be reopened right now"
REGISTER, EDIT = "patient.register", "patient.edit"


class PatientEditorPresenter(FollowsSavesElsewhere, QObject):
    """Signals:
        patient_saved(object): a PatientRecord just registered or changed.
        open_patient_requested(int): the user chose an existing patient over registering.
        restore_failed(str): a kept form could not be reopened; the sentence says why.
        form_closed(str): the form kept under this key was saved or discarded: its kept
            copy (autosaved, or reopened from a hand-over) may go. Until then it stays,
            in case of a crash.
        edit_failed(str): the edit form could not be opened (the record is gone, or no
            longer open to this user); the sentence says why.
        saved_sentence(str): a save went through, in words for the status bar ("Registered
            Okafor, Ada — MRN M0000042."): the form closes, so this is the confirmation.

    Args:
        notifications: the change bridge; an open edit form follows saves made elsewhere
            (:meth:`follow`). None: it does not (tools, older tests).
    """

    patient_saved = Signal(object)
    open_patient_requested = Signal(int)
    restore_failed = Signal(str)
    form_closed = Signal(str)
    edit_failed = Signal(str)
    saved_sentence = Signal(str)

    def __init__(self, window: QWidget, api: PatientsApi,
                 tasks: TaskRunner | InlineTaskRunner, *,
                 today: Callable[[], date] = date.today,
                 notifications: ChangeNotifications | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._window = window
        self._api = api
        self._tasks = tasks
        self._today = today
        self.dialog: PatientDialog | None = None
        self.duplicates: DuplicateWarningDialog | None = None
        self.deceased: MarkDeceasedDialog | None = None
        self.conflict: ConflictDialog | None = None
        self._patient_id: int | None = None
        # The version the form saves against, and what the form showed of it (its fields
        # as saved then): a save meeting a newer version compares the three field by
        # field. Both move on only when the user takes their changes or chooses.
        self._version: int | None = None
        self._base: PatientDraft | None = None
        # The newest saved record newer than the form's version, seen since it opened.
        self._theirs: PatientRecord | None = None
        self._deceased_version: dict[int, int] = {}
        # The key the open form is kept under (a reopened kept form keeps its own).
        self._form_key: str | None = None
        self._closing_all = False
        self._generation = 0
        self._check_token = 0
        # The clinic's date order, asked once (it changes once in a clinic's life).
        self._clinic: ClinicLocale | None = None
        self._asking_clinic = False
        if notifications is not None:
            self.follow(notifications)

    def follow(self, notifications: ChangeNotifications) -> None:
        """Follow other workstations' saves of the patient in the open edit form."""
        notifications.changed.connect(self.on_notifications_changed)
        notifications.resynced.connect(self.on_notifications_resynced)

    # ------------------------------------------------------------- entry points

    @Slot()
    def register(self) -> None:
        if self._raise_open_dialog():
            return
        self._patient_id = self._version = None
        self._open_dialog(PatientDialog(self._window))
        self._form_key = f"{REGISTER}:{uuid.uuid4().hex}"

    def edit(self, record: PatientRecord) -> None:
        """Open the edit form over what is saved now: ``record`` (the one on screen) may be
        minutes old, so it is fetched again first (no second audited open)."""
        if self._raise_open_dialog():
            return
        self._generation += 1
        generation = self._generation

        def loaded(fresh: PatientRecord) -> None:
            if generation == self._generation and not self._raise_open_dialog():
                self._open_edit(fresh)

        def failed(exc: BaseException) -> None:
            if generation != self._generation or self._raise_open_dialog():
                return
            if isinstance(exc, NotFound):
                self.edit_failed.emit("This patient's record no longer exists (it may have "
                                      "been merged with another). Search again.")
                return
            if isinstance(exc, PermissionDenied):
                self.edit_failed.emit(failure_sentence(exc, CANNOT_EDIT))
                return
            # A store is down: the record in hand is the best there is, and a save will
            # still meet any newer version (and show it field by field).
            dialog = self._open_edit(record)
            dialog.show_notice("The latest saved version could not be checked; this form "
                               "shows the patient as they were when you opened the chart.")

        self._tasks.run(lambda: self._api.refetch(record.id), loaded, failed, pool="read")

    def _open_edit(self, record: PatientRecord) -> PatientDialog:
        dialog = PatientDialog(self._window, record=record)
        self._open_dialog(dialog)
        self._patient_id, self._version, self._base = record.id, record.version, record.draft
        self._form_key = f"{EDIT}:{record.id}:{uuid.uuid4().hex}"
        return dialog

    def mark_deceased(self, record: PatientRecord) -> None:
        dialog = MarkDeceasedDialog(record, self._today(), self._window)
        dialog.save_requested.connect(
            lambda answer: self._save_deceased(dialog, record, *answer))
        dialog.finished.connect(lambda _: self._forget_deceased(dialog))
        self.deceased = dialog
        dialog.open()

    # ------------------------------------------------------------- handing over

    def unsaved_forms(self) -> list[DraftToKeep]:
        """The open form's content, when it holds typing not yet saved: what must be kept
        for its author if the workstation changes hands."""
        dialog = self.dialog
        if dialog is None or not dialog.is_dirty():
            return []
        draft = dialog.draft()
        who = " ".join(p for p in (draft.given_name, draft.family_name) if p) or "no name yet"
        payload: dict[str, Any] = {"form": patient_draft_to_payload(draft)}
        key = self._form_key or f"{REGISTER}:{uuid.uuid4().hex}"
        self._form_key = key
        if self._patient_id is None:
            return [DraftToKeep(kind=REGISTER, title=f"New patient ({who})", payload=payload,
                                key=key)]
        payload.update(patient_id=self._patient_id, version=self._version)
        if self._base is not None:
            # What the form started from: a reopened form then still tells their changes
            # from the user's, field by field.
            payload["base"] = patient_draft_to_payload(self._base)
        mrn = dialog.record.mrn if dialog.record is not None else ""
        title = f"Changes to {who}" + (f" (MRN {mrn})" if mrn else "")
        return [DraftToKeep(kind=EDIT, title=title, payload=payload, key=key)]

    def close_all(self) -> None:
        """Close every form without asking (its content was kept, or the user chose)."""
        # Hidden ones too: the lock screen hides open forms. A reopened kept form closed
        # this way was kept again (same key), so its stored copy is not forgotten.
        self._closing_all = True
        self._generation += 1  # a kept form still loading is not opened any more
        try:
            for dialog in (self.conflict, self.duplicates, self.deceased, self.dialog):
                if dialog is not None:
                    dialog.done(QDialog.DialogCode.Rejected)
        finally:
            self._closing_all = False

    def restore(self, saved: SavedDraft) -> None:
        """Reopen a kept form as it was. An edit reopens over the patient's current
        record, saving against the version it was started from, so changes made since
        come back as a Conflict that names who made them."""
        if self._raise_open_dialog():
            return
        raw_form = saved.payload.get("form")
        form = patient_draft_from_payload(raw_form if isinstance(raw_form, dict) else {})
        if saved.kind != EDIT:
            self._patient_id = self._version = self._base = None
            dialog = PatientDialog(self._window)
            dialog.fill(form)
            self._open_dialog(dialog)
            self._form_key = saved.key or f"{REGISTER}:{uuid.uuid4().hex}"
            dialog.show_notice("This form was kept for you; nothing in it is saved yet.")
            return
        patient_id = int(str(saved.payload["patient_id"]))
        version = int(str(saved.payload["version"]))
        raw_base = saved.payload.get("base")
        # A form kept before forms kept their starting point: every difference from what
        # is saved now is then the user's to choose.
        base = patient_draft_from_payload(raw_base) if isinstance(raw_base, dict) else None
        generation = self._generation

        def loaded(record: PatientRecord) -> None:
            if generation != self._generation:
                return  # the workstation changed hands meanwhile: it is kept, not shown
            if self._raise_open_dialog():
                return
            dialog = PatientDialog(self._window, record=record)
            dialog.fill(form)
            self._open_dialog(dialog)
            self._patient_id, self._version = record.id, version
            self._base = base if version != record.version else record.draft
            self._form_key = saved.key or f"{EDIT}:{record.id}:{uuid.uuid4().hex}"
            dialog.show_notice("These changes were kept for you; they are not saved yet.")

        def failed(exc: BaseException) -> None:
            self.restore_failed.emit(failure_sentence(exc, CANNOT_RESTORE))

        # Reopening a kept form opens the patient in this session: audited, as any open.
        self._tasks.run(lambda: self._api.get(patient_id), loaded, failed, pool="read")

    # ------------------------------------------------------------- the form

    def _raise_open_dialog(self) -> bool:
        if self.dialog is not None and self.dialog.isVisible():
            self.dialog.raise_()
            self.dialog.activateWindow()
            return True
        return False

    def _apply_clinic(self, dialog: PatientDialog) -> None:
        """The form reads 12.03.1984 as the clinic does: at once when known, else once the
        answer comes (until then such a date is shown as ambiguous; the save decides)."""
        if self._clinic is not None:
            dialog.set_clinic_locale(self._clinic)
            return
        if self._asking_clinic:
            return

        def known(clinic: ClinicLocale) -> None:
            self._asking_clinic = False
            self._clinic = clinic
            if self.dialog is not None:
                self.dialog.set_clinic_locale(clinic)

        def unknown(_exc: BaseException) -> None:
            self._asking_clinic = False  # asked again with the next form

        self._asking_clinic = True
        self._tasks.run(self._api.clinic_locale, known, unknown, pool="read")

    def _open_dialog(self, dialog: PatientDialog) -> None:
        dialog.save_requested.connect(self.on_dialog_save_requested)
        dialog.their_changes_requested.connect(self.on_dialog_their_changes_requested)
        dialog.take_theirs_requested.connect(self.on_dialog_take_theirs_requested)
        dialog.finished.connect(self.on_dialog_finished)
        self.dialog = dialog
        self._theirs = None
        self._apply_clinic(dialog)
        dialog.open()

    @Slot(object)
    def on_dialog_save_requested(self, draft: PatientDraft) -> None:
        if self._patient_id is None:
            self._register(draft, allow_duplicates=False)
        else:
            self._update(draft, self._version)

    @Slot(int)
    def on_dialog_finished(self, _result: int) -> None:
        if self.dialog is not None:
            self.dialog.deleteLater()  # its duplicate warning, a child, goes with it
        if self.conflict is not None:
            self.conflict.done(QDialog.DialogCode.Rejected)
        self.dialog = None
        self.duplicates = None
        self._patient_id = self._version = self._base = self._theirs = None
        key, self._form_key = self._form_key, None
        if key is not None and not self._closing_all:
            self.form_closed.emit(key)

    # ------------------------------------------------------------- saving

    def _register(self, draft: PatientDraft, *, allow_duplicates: bool) -> None:
        dialog = self.dialog
        if dialog is None:
            return
        dialog.set_busy(True)
        self._tasks.run(
            lambda: self._api.register(draft, allow_duplicates=allow_duplicates),
            lambda record: self._on_saved(dialog, record),
            lambda exc: self._on_save_failed(dialog, draft, exc), pool="write")

    def _update(self, draft: PatientDraft, version: int | None) -> None:
        dialog, patient_id = self.dialog, self._patient_id
        if dialog is None or patient_id is None:
            return
        dialog.set_busy(True)

        def save() -> PatientRecord:
            # A Conflict without a version (an older server) is answered by reading it.
            expected = version if version is not None else self._api.refetch(patient_id).version
            return self._api.update(patient_id, expected, draft)

        self._tasks.run(save, lambda record: self._on_saved(dialog, record),
                        lambda exc: self._on_save_failed(dialog, draft, exc), pool="write")

    def _on_saved(self, dialog: PatientDialog, record: PatientRecord) -> None:
        registered = dialog.record is None
        if dialog is self.dialog:
            dialog.set_busy(False)
            dialog.accept()
        self.patient_saved.emit(record)
        self.saved_sentence.emit(saved_sentence(record, registered=registered))

    def _on_save_failed(self, dialog: PatientDialog, draft: PatientDraft,
                        exc: BaseException) -> None:
        if dialog is not self.dialog:
            return
        dialog.set_busy(False)
        if isinstance(exc, ValidationError):
            dialog.show_errors(exc.errors)
        elif isinstance(exc, PossibleDuplicate):
            self._warn_duplicates(dialog, draft, exc.candidates)
        elif isinstance(exc, Conflict):
            self._on_conflict(dialog, draft, exc)
        else:
            dialog.show_failure(failure_sentence(exc, CANNOT_SAVE))

    def _warn_duplicates(self, dialog: PatientDialog, draft: PatientDraft,
                         candidates: tuple[DuplicateCandidate, ...]) -> None:
        warning = DuplicateWarningDialog(candidates, draft, dialog)
        warning.register_anyway_requested.connect(
            lambda: self._register(draft, allow_duplicates=True))
        warning.open_existing_requested.connect(self._open_existing)
        warning.finished.connect(lambda _: self._forget_duplicates(warning))
        self.duplicates = warning
        warning.open()

    def _forget_duplicates(self, warning: DuplicateWarningDialog) -> None:
        if self.duplicates is warning:
            self.duplicates = None
        warning.deleteLater()

    @Slot(int)
    def _open_existing(self, patient_id: int) -> None:
        # The user says this is someone already registered: the form is done with.
        if self.dialog is not None:
            self.dialog.accept()
        self.open_patient_requested.emit(patient_id)

    # ------------------------------------------------------------- death

    def _save_deceased(self, dialog: MarkDeceasedDialog, record: PatientRecord,
                       when: date, source: str) -> None:
        dialog.set_busy(True)
        version = self._deceased_version.get(record.id, record.version)

        def saved(updated: PatientRecord) -> None:
            self._deceased_version.pop(record.id, None)
            self.patient_saved.emit(updated)  # even if the dialog was closed meanwhile
            if self.deceased is dialog:
                dialog.set_busy(False)
                dialog.accept()

        def failed(exc: BaseException) -> None:
            if self.deceased is not dialog:
                return  # the dialog was closed; nothing was saved and nobody is waiting
            dialog.set_busy(False)
            if isinstance(exc, ValidationError):
                for field, reason in exc.errors.items():
                    dialog.show_error(_sentence(reason), field)
            elif isinstance(exc, Conflict):
                # Only a date is typed here; the next click saves over the current version.
                if exc.current_version is not None:
                    self._deceased_version[record.id] = exc.current_version
                dialog.show_error(f"{exc.message} Nothing was saved. To record the death "
                                  f"on {format_date(when)} anyway, choose Continue and "
                                  "confirm again.")
            else:
                dialog.show_error(failure_sentence(exc, CANNOT_SAVE))

        self._tasks.run(lambda: self._api.mark_deceased(record.id, version, when,
                                                        source=source),
                        saved, failed, pool="write")

    def _forget_deceased(self, dialog: MarkDeceasedDialog) -> None:
        if self.deceased is dialog:
            self.deceased = None
        dialog.deleteLater()


def saved_sentence(record: PatientRecord, *, registered: bool) -> str:
    """"Registered Okafor, Ada — MRN M0000042." / "Saved changes to Okafor, Ada — ..."."""
    d = record.draft
    name = f"{d.family_name}, {d.given_name}"
    what = f"Registered {name}" if registered else f"Saved changes to {name}"
    return f"{what} — MRN {record.mrn}." if record.mrn else f"{what}."


def _sentence(reason: str) -> str:
    reason = reason.strip()
    text = reason[:1].upper() + reason[1:]
    return text if text.endswith((".", "!", "?")) else text + "."
