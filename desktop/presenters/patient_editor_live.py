"""The edit form meets another workstation's save: the flows of PatientEditorPresenter
that follow change events and resolve a Conflict field by field (split from
patient_editor.py, which holds the form's other flows).

A change event for the patient in the open form makes it read the record again (the
event says only "look again"); a newer version shows "Changed by X at HH:MM (fields)"
with "Show their changes…" (ConflictDialog, to choose) and "Take their values". A save
that meets their version anyway shows the ConflictDialog before saving again, against
their version. The form's starting point (``_base``) and version move on only when the
user takes their changes or chooses.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Slot
from PySide6.QtWidgets import QDialog

from backend_client.dto import PatientDraft, PatientRecord
from backend_client.errors import Conflict
from backend_client.patients.api import PatientsApi
from backend_client.sync.events import ChangeEvent
from desktop.presenters.messages import failure_sentence
from desktop.tasks import InlineTaskRunner, TaskRunner
from ui.patients.conflict_dialog import ConflictDialog
from ui.patients.field_changes import ThreeWay, changed_fields, field_list

if TYPE_CHECKING:
    from ui.patients.patient_dialog import PatientDialog

CANNOT_RELOAD = "The other version cannot be loaded right now"


class FollowsSavesElsewhere:
    """Mixed into PatientEditorPresenter (a QObject), whose state it shares."""

    dialog: PatientDialog | None
    conflict: ConflictDialog | None
    _api: PatientsApi
    _tasks: TaskRunner | InlineTaskRunner
    _patient_id: int | None
    _version: int | None
    _base: PatientDraft | None
    _theirs: PatientRecord | None
    _check_token: int

    def _update(self, draft: PatientDraft, version: int | None) -> None:
        raise NotImplementedError

    @Slot(tuple)
    def on_notifications_changed(self, events: tuple[ChangeEvent, ...]) -> None:
        patient_id, version = self._patient_id, self._version
        if self.dialog is None or patient_id is None or version is None:
            return
        if any(e.kind == "patient" and e.id == patient_id and not e.mine
               and (e.version == 0 or e.version > version) for e in events):
            self._check_saved_elsewhere()

    @Slot()
    def on_notifications_resynced(self) -> None:
        if self.dialog is not None and self._patient_id is not None:
            self._check_saved_elsewhere()  # anything may have changed while deaf

    def _check_saved_elsewhere(self) -> None:
        """Read the record again; the event itself says nothing but "look again"."""
        dialog, patient_id = self.dialog, self._patient_id
        if dialog is None or patient_id is None:
            return
        self._check_token += 1
        token = self._check_token

        def loaded(record: PatientRecord) -> None:
            if token == self._check_token and dialog is self.dialog:
                self._saved_elsewhere(dialog, record)

        def failed(_exc: BaseException) -> None:
            return None  # freshness only: a save still meets their version and shows it

        self._tasks.run(lambda: self._api.refetch(patient_id), loaded, failed, pool="read")

    def _saved_elsewhere(self, dialog: PatientDialog, record: PatientRecord) -> None:
        if self._version is None or record.version <= self._version:
            return
        if self._theirs is not None and record.version <= self._theirs.version:
            return
        if self._base is not None and not changed_fields(self._base, record.draft):
            # Nothing in this form changed (a restriction, a date of death): the form
            # saves against the new version, with nothing to take or to choose.
            self._version, self._base = record.version, record.draft
            return
        self._theirs = record
        keys = changed_fields(self._base, record.draft) if self._base is not None else []
        dialog.show_changed_elsewhere(record.updated_by, _hhmm(record), field_list(keys))

    @Slot()
    def on_dialog_take_theirs_requested(self) -> None:
        dialog, record = self.dialog, self._theirs
        if dialog is None or record is None:
            return
        three_way = ThreeWay(self._base, record.draft, dialog.draft())
        base = self._base
        # Without a starting point (an old kept form) the typing cannot be told apart.
        mine = changed_fields(base, three_way.yours) if base is not None else ["?"]
        theirs = changed_fields(base, record.draft) if base is not None else []
        if not mine:
            dialog.load(record)  # nothing typed yet: simply their version
        else:
            dialog.fill(three_way.take_theirs())
            dialog.record = record
        self._adopt(record)
        taken = field_list(theirs) or "every field"
        dialog.show_notice(f"Their changes are in the form ({taken})."
                           + (" The rest of what you typed is still here; nothing is saved "
                              "yet." if mine else ""))

    @Slot()
    def on_dialog_their_changes_requested(self) -> None:
        dialog, record = self.dialog, self._theirs
        if dialog is None or record is None:
            return
        self._ask(dialog, record, dialog.draft(), saving=False)

    def _adopt(self, record: PatientRecord) -> None:
        """The form now starts from ``record`` and saves against its version."""
        self._version, self._base, self._theirs = record.version, record.draft, None
        if self.dialog is not None:
            self.dialog.hide_changed_elsewhere()

    def _on_conflict(self, dialog: PatientDialog, draft: PatientDraft,
                     exc: Conflict) -> None:
        """Someone saved in between: show both, field by field, before saving again."""
        patient_id = self._patient_id
        if patient_id is None:
            return
        dialog.set_busy(True)

        def loaded(record: PatientRecord) -> None:
            if dialog is not self.dialog:
                return
            dialog.set_busy(False)
            self._theirs = record
            self._ask(dialog, record, draft, saving=True)

        def failed(error: BaseException) -> None:
            if dialog is self.dialog:
                dialog.set_busy(False)
                dialog.show_conflict(f"{exc.message} {failure_sentence(error, CANNOT_RELOAD)}")

        self._tasks.run(lambda: self._api.refetch(patient_id), loaded, failed, pool="read")

    def _ask(self, dialog: PatientDialog, record: PatientRecord, draft: PatientDraft, *,
             saving: bool) -> None:
        if self.conflict is not None:
            self.conflict.done(QDialog.DialogCode.Rejected)
        conflict = ConflictDialog(ThreeWay(self._base, record.draft, draft),
                                  record.updated_by, _hhmm(record), saving=saving,
                                  parent=dialog)
        self.conflict = conflict

        def resolved(merged: PatientDraft) -> None:
            if dialog is not self.dialog:
                return
            dialog.fill(merged)  # the form shows what is saved (or to be saved)
            dialog.record = record
            self._adopt(record)
            if saving:
                self._update(merged, record.version)  # a Conflict again if it moved again
            else:
                dialog.show_notice("The values you chose are in the form; nothing is saved "
                                   "yet.")

        def finished(result: int) -> None:
            if self.conflict is conflict:
                self.conflict = None
            conflict.deleteLater()
            if (result != QDialog.DialogCode.Accepted and saving and dialog is self.dialog
                    and self._theirs is record):
                # Back to the form, unsaved: the bar keeps their changes on offer.
                keys = (changed_fields(self._base, record.draft)
                        if self._base is not None else [])
                dialog.show_changed_elsewhere(record.updated_by, _hhmm(record),
                                              field_list(keys), not_saved=True)

        conflict.resolved.connect(resolved)
        conflict.finished.connect(finished)
        conflict.open()


def _hhmm(record: PatientRecord) -> str:
    """When it was saved, on this workstation's clock face (the time is the database's)."""
    return record.updated_at.astimezone().strftime("%H:%M")
