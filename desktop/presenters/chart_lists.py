"""The chart's own sections: the timeline of encounters, and the problem, medication and
allergy-and-alert lists, each a ``ChartSection`` (desktop/presenters/chart_section.py).

Every read and write goes through the task runner; a newer read wins. Each section is
bound to one patient for its whole life: every write carries that patient's id (or the id
of an item read for that patient), never "whoever is selected somewhere". A write tells
the chart (``written``) so that its header follows at once, even when live updates are
off; other workstations hear of it through the change event the service publishes.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from PySide6.QtWidgets import QDialog, QWidget

from backend_client.chart.api import ChartApi
from backend_client.chart.dto import AlertItem, EncounterItem, MedicationItem, ProblemItem
from backend_client.dto import PatientRecord
from backend_client.errors import Conflict, ValidationError
from desktop.presenters.messages import failure_sentence
from desktop.tasks import InlineTaskRunner, TaskRunner
from ui.chart.chart_header import SEVERITY_ORDER
from ui.chart.item_dialogs import (
    AlertDialog,
    ChartFormDialog,
    MedicationDialog,
    ProblemDialog,
    ReasonDialog,
)
from ui.chart.list_section import Action, Column, ListSectionView, when_text
from ui.patients.formatting import format_date

Written = Callable[[frozenset[str]], None]
CANNOT_READ = "This list cannot be read right now"
CANNOT_SAVE = "This cannot be saved right now"


def _date(value: date | None) -> str:
    return format_date(value) if value else ""


class _ListSectionBase:
    """Loads, refreshes and shows one list; subclasses say what it is and what it does."""

    key = ""
    title = ""
    changes: frozenset[str] = frozenset()   # event actions that concern this list

    def __init__(self, record: PatientRecord, api: ChartApi,
                 tasks: TaskRunner | InlineTaskRunner, view: ListSectionView, *,
                 today: Callable[[], date] = date.today,
                 written: Written | None = None) -> None:
        self.record = record
        self.patient_id = record.id
        self._api = api
        self._tasks = tasks
        self._today = today
        self._written = written
        self.view = view
        self._token = 0
        self._include_retired = False
        self._closed = False
        self.dialog: ChartFormDialog | None = None
        view.action_requested.connect(self._on_action)
        view.show_retired_toggled.connect(self._on_show_retired)

    # ------------------------------------------------------------- ChartSection

    def widget(self) -> QWidget:
        return self.view

    def load(self, done: Callable[[], None]) -> None:
        self._read(done)

    def refresh(self, actions: frozenset[str]) -> None:
        if not actions or actions & self.changes:
            self._read(None)

    def close(self) -> bool:
        self._closed = True
        self._token += 1
        if self.dialog is not None:
            self.dialog.done(QDialog.DialogCode.Rejected)
        return True

    # ------------------------------------------------------------- reading

    def fetch(self, include_retired: bool) -> tuple[Any, ...]:
        raise NotImplementedError

    def _read(self, done: Callable[[], None] | None, select_id: int | None = None) -> None:
        self._token += 1
        token, include = self._token, self._include_retired

        def loaded(items: tuple[Any, ...]) -> None:
            if token == self._token and not self._closed:
                self.view.show_items(items, select_id)
            if done is not None:
                done()

        def failed(exc: BaseException) -> None:
            if token == self._token and not self._closed:
                self.view.show_error(failure_sentence(exc, CANNOT_READ))
            if done is not None:
                done()

        self._tasks.run(lambda: self.fetch(include), loaded, failed, pool="read")

    def _on_show_retired(self, shown: bool) -> None:
        self._include_retired = shown
        self._read(None)

    # ------------------------------------------------------------- writing

    def _on_action(self, key: str, item: Any) -> None:
        raise NotImplementedError

    def _open(self, dialog: ChartFormDialog, save: Callable[[Any, int | None], Any],
              version: int | None) -> None:
        """Show ``dialog``; its Save runs ``save(value, version)`` on the write pool. A
        Conflict names who changed it and moves the form onto their version (the list
        shows it), so saving again is a choice made knowingly."""
        if self.dialog is not None:
            self.dialog.done(QDialog.DialogCode.Rejected)
        self.dialog = dialog
        versions = {"current": version}

        def requested(value: Any) -> None:
            dialog.set_busy(True)
            expected = versions["current"]

            def saved(item: Any) -> None:
                if self.dialog is dialog:
                    dialog.set_busy(False)
                    dialog.accept()
                self._read(None, select_id=getattr(item, "id", None))
                if self._written is not None:
                    self._written(self.changes)

            def failed(exc: BaseException) -> None:
                if self.dialog is not dialog:
                    return
                dialog.set_busy(False)
                if isinstance(exc, ValidationError):
                    dialog.show_errors(exc.errors)
                elif isinstance(exc, Conflict):
                    if exc.current_version is not None:
                        versions["current"] = exc.current_version
                    dialog.show_message(f"{exc.message} Nothing was saved; the list now shows "
                                        "their version. Save again to put yours over it.")
                    self._read(None)
                else:
                    dialog.show_message(failure_sentence(exc, CANNOT_SAVE))

            self._tasks.run(lambda: save(value, expected), saved, failed, pool="write")

        def finished(_result: int) -> None:
            if self.dialog is dialog:
                self.dialog = None
            dialog.deleteLater()

        dialog.save_requested.connect(requested)
        dialog.finished.connect(finished)
        dialog.open()

    def _retire(self, item: Any, noun: str, retire: Callable[[int, int, str], Any]) -> None:
        label = getattr(item.draft, "description", "") or getattr(item.draft, "name", "")
        dialog = ReasonDialog(
            f"Retire {noun}", f"Retire “{label}” from the {noun} list. It stays in the record, "
            "marked retired with your reason, and is no longer shown as current.",
            "&Reason", self.record, self._today(), save_text="Retire",
            missing="say why it is retired", stamp=item.stamp, parent=self.view.window())
        self._open(dialog, lambda reason, v: retire(item.id, v or item.version, reason),
                   item.version)


# --------------------------------------------------------------------------- lists

class ProblemsSection(_ListSectionBase):
    key, title = "problems", "Pro&blems"
    changes = frozenset({"problem"})

    COLUMNS = (Column("Problem", lambda p: p.draft.description, stretch=True),
               Column("Code", lambda p: p.draft.code),
               Column("Onset", lambda p: _date(p.draft.onset_date)),
               Column("Status", lambda p: p.status.capitalize()),
               Column("Recorded", lambda p: f"{p.stamp.recorded_by}, "
                      f"{when_text(p.stamp.recorded_at)}", optional=True))

    @classmethod
    def make_view(cls) -> ListSectionView:
        return ListSectionView("chart-problems", cls.COLUMNS, standard_actions("problem"),
                               retired_toggle="Show retired",
                               empty="No problems recorded. Insert adds one.")

    def fetch(self, include_retired: bool) -> tuple[ProblemItem, ...]:
        return self._api.problems(self.patient_id, include_retired=include_retired)

    def _on_action(self, key: str, item: ProblemItem | None) -> None:
        api, pid, window = self._api, self.patient_id, self.view.window()
        if key == "add":
            self._open(ProblemDialog(self.record, self._today(), parent=window),
                       lambda draft, _v: api.add_problem(pid, draft), None)
        elif key == "edit" and item is not None:
            self._open(ProblemDialog(self.record, self._today(), item.draft, item.stamp,
                                     parent=window),
                       lambda draft, v: api.update_problem(item.id, v or item.version, draft),
                       item.version)
        elif key == "retire" and item is not None:
            self._retire(item, "problem", api.retire_problem)


class MedicationsSection(_ListSectionBase):
    key, title = "medications", "&Medications"
    # A signed prescription adds to the medication list.
    changes = frozenset({"medication", "prescription"})

    COLUMNS = (Column("Medication", lambda m: m.draft.name, stretch=True),
               Column("Dose", lambda m: m.draft.dose),
               Column("Route", lambda m: m.draft.route),
               Column("Frequency", lambda m: m.draft.frequency),
               Column("Status", lambda m: m.status.capitalize()),
               Column("Recorded", lambda m: f"{m.stamp.recorded_by}, "
                      f"{when_text(m.stamp.recorded_at)}", optional=True))

    @classmethod
    def make_view(cls) -> ListSectionView:
        return ListSectionView("chart-medications", cls.COLUMNS,
                               standard_actions("medication"), retired_toggle="Show retired",
                               empty="No medications recorded. Insert adds one.")

    def fetch(self, include_retired: bool) -> tuple[MedicationItem, ...]:
        return self._api.medications(self.patient_id, include_retired=include_retired)

    def _on_action(self, key: str, item: MedicationItem | None) -> None:
        api, pid, window = self._api, self.patient_id, self.view.window()
        if key == "add":
            self._open(MedicationDialog(self.record, self._today(), parent=window),
                       lambda draft, _v: api.add_medication(pid, draft), None)
        elif key == "edit" and item is not None:
            self._open(MedicationDialog(self.record, self._today(), item.draft, item.stamp,
                                        parent=window),
                       lambda draft, v: api.update_medication(item.id, v or item.version,
                                                              draft), item.version)
        elif key == "retire" and item is not None:
            self._retire(item, "medication", api.retire_medication)


class AlertsSection(_ListSectionBase):
    key, title = "alerts", "Aller&gies && alerts"
    changes = frozenset({"alert"})

    COLUMNS = (Column("Allergy or alert", lambda a: a.draft.description, stretch=True),
               Column("Kind", lambda a: a.draft.kind.capitalize()),
               Column("Severity", lambda a: a.draft.severity.capitalize()),
               Column("Reaction", lambda a: a.draft.reaction, stretch=True),
               Column("Status", lambda a: a.status.capitalize()),
               Column("Recorded", lambda a: f"{a.stamp.recorded_by}, "
                      f"{when_text(a.stamp.recorded_at)}", optional=True))

    @classmethod
    def make_view(cls) -> ListSectionView:
        return ListSectionView("chart-alerts", cls.COLUMNS,
                               standard_actions("allergy or alert"),
                               retired_toggle="Show inactive",
                               empty="No allergies or alerts recorded. Insert adds one.")

    def fetch(self, include_retired: bool) -> tuple[AlertItem, ...]:
        items = self._api.alerts(self.patient_id, include_retired=include_retired)
        # As the header shows them: active first, allergies, most severe first.
        return tuple(sorted(items, key=lambda a: (a.status != "active", not a.is_allergy,
                                                  SEVERITY_ORDER.get(a.draft.severity, 3))))

    def _on_action(self, key: str, item: AlertItem | None) -> None:
        api, pid, window = self._api, self.patient_id, self.view.window()
        if key == "add":
            self._open(AlertDialog(self.record, self._today(), parent=window),
                       lambda draft, _v: api.add_alert(pid, draft), None)
        elif key == "edit" and item is not None:
            self._open(AlertDialog(self.record, self._today(), item.draft, item.stamp,
                                   parent=window),
                       lambda draft, v: api.update_alert(item.id, v or item.version, draft),
                       item.version)
        elif key == "retire" and item is not None:
            self._retire(item, "allergy or alert", api.retire_alert)


def standard_actions(noun: str) -> tuple[Action, ...]:
    return (Action("add", f"Add {noun}…", "Ins", needs_item=False),
            Action("edit", "Edit…", "F2", needs_item=True),
            Action("retire", "Retire…", "Del", needs_item=True))


# --------------------------------------------------------------------------- timeline

ENCOUNTER_STATUS = {"open": "Open", "closed": "Closed", "cancelled": "Cancelled"}


class TimelineSection(_ListSectionBase):
    key, title = "timeline", "&Timeline"
    changes = frozenset({"encounter"})

    COLUMNS = (Column("Started", lambda e: when_text(e.started_at)),
               Column("Status", lambda e: ENCOUNTER_STATUS.get(e.status, e.status)),
               Column("With", lambda e: e.provider_name),
               Column("Reason and summary", lambda e: e.reason + (
                   f" — {e.summary}" if e.summary else ""), stretch=True))

    @classmethod
    def make_view(cls) -> ListSectionView:
        return ListSectionView(
            "chart-timeline", cls.COLUMNS,
            (Action("start", "Start encounter…", "Ins", needs_item=False),
             Action("close", "Close encounter…", "F2", needs_item=True)),
            empty="No encounters yet. Check-in opens one; Insert starts one now.")

    def fetch(self, include_retired: bool) -> tuple[EncounterItem, ...]:
        return self._api.timeline(self.patient_id)

    def _on_action(self, key: str, item: EncounterItem | None) -> None:
        api, pid, window = self._api, self.patient_id, self.view.window()
        if key == "start":
            dialog = ReasonDialog(
                "Start encounter", "An encounter now, with you as the clinician (a booked "
                "visit's encounter opens at check-in).", "&Reason for the visit",
                self.record, self._today(), save_text="Start encounter",
                missing="say why the patient is seen", parent=window)
            self._open(dialog, lambda reason, _v: api.open_encounter(pid, reason), None)
        elif key == "close" and item is not None:
            if item.status != "open":
                self.view.show_error(f"The encounter of {when_text(item.started_at)} is "
                                     "already closed.")
                return
            dialog = ReasonDialog(
                "Close encounter", f"Close the encounter started {when_text(item.started_at)}"
                f" ({item.reason}). The summary is required and is shown on the timeline.",
                "&Summary", self.record, self._today(), field="summary",
                missing="a summary is required to close the encounter",
                save_text="Close encounter", multiline=True, stamp=item.stamp, parent=window)
            self._open(dialog, lambda summary, v: api.close_encounter(item.id,
                                                                      v or item.version,
                                                                      summary), item.version)


# Sections this module builds, in the order a chart shows them first.
OWN_SECTIONS: tuple[type[_ListSectionBase], ...] = (
    TimelineSection, ProblemsSection, MedicationsSection, AlertsSection)


def build_own_section(cls: type[_ListSectionBase], record: PatientRecord, api: ChartApi,
                      tasks: TaskRunner | InlineTaskRunner, *, today: Callable[[], date],
                      written: Written) -> _ListSectionBase:
    view = cls.make_view()  # type: ignore[attr-defined]
    return cls(record, api, tasks, view, today=today, written=written)
