"""A fake ``ChartApi`` at our own seam, for the chart's presenter and view tests.

It behaves like the service where the screen can tell: items carry who recorded them and
when, versions (a stale write raises ``Conflict`` naming who changed it), a
``ValidationError`` naming every bad field at once, retiring needs a reason, the header
lists active allergies and alerts most severe first. ``fail`` makes a method's next call
raise; ``calls`` records the order of reads (the header comes first).
"""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

from backend_client.chart.dto import (
    AlertDraft,
    AlertItem,
    ChartHeader,
    EncounterItem,
    MedicationDraft,
    MedicationItem,
    ProblemDraft,
    ProblemItem,
    Stamp,
)
from backend_client.dto import AppointmentInfo, PatientRecord
from backend_client.errors import Conflict, NotFound, ValidationError

RECORDED_AT = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
CHANGED_AT = datetime(2026, 11, 27, 10, 42, tzinfo=UTC)
_SEVERITY = {"high": 0, "moderate": 1, "low": 2}


def stamp(by: str = "Dr Anna Demo", at: datetime = RECORDED_AT) -> Stamp:
    return Stamp(recorded_by=by, recorded_at=at, updated_by=by, updated_at=at)


class FakeChartApi:
    """Charts kept in memory, per patient. ``me`` is the signed-in person's name."""

    def __init__(self, patients: list[PatientRecord] | None = None, *,
                 me: str = "Dr Anna Demo") -> None:
        self.patients: dict[int, PatientRecord] = {p.id: p for p in patients or []}
        self.me = me
        self.calls: list[tuple[str, int]] = []
        self.fail: dict[str, BaseException] = {}
        self.problems_: dict[int, ProblemItem] = {}
        self.medications_: dict[int, MedicationItem] = {}
        self.alerts_: dict[int, AlertItem] = {}
        self.encounters: dict[int, EncounterItem] = {}
        self.appointments: dict[int, AppointmentInfo] = {}
        self._next = 100
        self._lock = threading.Lock()
        self.latency = 0.0   # seconds every call sleeps, as a round trip would (benchmarks)

    # ------------------------------------------------------------ helpers

    def _id(self) -> int:
        with self._lock:
            self._next += 1
            return self._next

    def _enter(self, method: str, key: int) -> None:
        self.calls.append((method, key))
        if self.latency:
            time.sleep(self.latency)
        error = self.fail.pop(method, None)
        if error is not None:
            raise error

    def reads(self) -> list[str]:
        return [m for m, _ in self.calls]

    def seed_alert(self, patient_id: int, draft: AlertDraft, *, by: str = "Nurse Li Wei"
                   ) -> AlertItem:
        item = AlertItem(self._id(), 1, patient_id, draft, "", stamp(by))
        self.alerts_[item.id] = item
        return item

    def seed_problem(self, patient_id: int, draft: ProblemDraft) -> ProblemItem:
        item = ProblemItem(self._id(), 1, patient_id, draft, "", stamp())
        self.problems_[item.id] = item
        return item

    def seed_medication(self, patient_id: int, draft: MedicationDraft) -> MedicationItem:
        item = MedicationItem(self._id(), 1, patient_id, draft, None, "", stamp())
        self.medications_[item.id] = item
        return item

    def seed_encounter(self, patient_id: int, started: datetime, reason: str, *,
                       status: str = "closed", summary: str = "") -> EncounterItem:
        item = EncounterItem(self._id(), 1, patient_id, 1, "Dr Anna Demo", None, started,
                             None if status == "open" else started, status, reason, summary,
                             stamp(at=started))
        self.encounters[item.id] = item
        return item

    def change_behind_the_back(self, kind: str, item_id: int, by: str, **draft: object) -> None:
        """Another user saves the item (its version moves on)."""
        stores: dict[str, dict[int, Any]] = {"problem": self.problems_,
                                             "medication": self.medications_,
                                             "alert": self.alerts_}
        store = stores[kind]
        old = store[item_id]
        new_stamp = replace(old.stamp, updated_by=by, updated_at=CHANGED_AT)
        store[item_id] = replace(old, version=old.version + 1,
                                 draft=replace(old.draft, **draft), stamp=new_stamp)

    def _stale(self, current: object, version: int) -> None:
        if getattr(current, "version") != version:  # noqa: B009
            who = getattr(current, "stamp").updated_by  # noqa: B009
            raise Conflict(f"{who} changed this at 10:42 on 27 Nov 2026, while you were "
                           "editing. What you typed is still in the form: look at their "
                           "version, then save again.", current_version=getattr(  # noqa: B009
                               current, "version"), changed_by=who)

    def _new_stamp(self, old: Stamp) -> Stamp:
        return replace(old, updated_by=self.me, updated_at=CHANGED_AT)

    # ------------------------------------------------------------ ChartApi: header

    def header(self, patient_id: int) -> ChartHeader:
        self._enter("header", patient_id)
        if patient_id not in self.patients:
            raise NotFound(f"There is no patient with id {patient_id}.")
        active = sorted((a for a in self.alerts_.values()
                         if a.patient_id == patient_id and a.status == "active"),
                        key=lambda a: (_SEVERITY.get(a.draft.severity, 3), a.id))
        open_encounter = next((e for e in self.encounters.values()
                               if e.patient_id == patient_id and e.status == "open"), None)
        return ChartHeader(self.patients[patient_id],
                           tuple(a for a in active if a.is_allergy),
                           tuple(a for a in active if not a.is_allergy),
                           self.appointments.get(patient_id), open_encounter)

    # ------------------------------------------------------------ encounters

    def timeline(self, patient_id: int) -> tuple[EncounterItem, ...]:
        self._enter("timeline", patient_id)
        return tuple(sorted((e for e in self.encounters.values()
                             if e.patient_id == patient_id),
                            key=lambda e: e.started_at, reverse=True))

    def open_encounter(self, patient_id: int, reason: str) -> EncounterItem:
        self._enter("open_encounter", patient_id)
        if not reason.strip():
            raise ValidationError("reason", "say why the patient is seen")
        item = EncounterItem(self._id(), 1, patient_id, 1, self.me, None, CHANGED_AT, None,
                             "open", reason.strip(), "", stamp(self.me, CHANGED_AT))
        self.encounters[item.id] = item
        return item

    def close_encounter(self, encounter_id: int, version: int, summary: str) -> EncounterItem:
        self._enter("close_encounter", encounter_id)
        current = self.encounters[encounter_id]
        self._stale(current, version)
        if not summary.strip():
            raise ValidationError("summary", "a summary is required to close the encounter")
        item = replace(current, version=version + 1, status="closed", ended_at=CHANGED_AT,
                       summary=summary.strip(), stamp=self._new_stamp(current.stamp))
        self.encounters[encounter_id] = item
        return item

    # ------------------------------------------------------------ problems

    def problems(self, patient_id: int, *, include_retired: bool = False
                 ) -> tuple[ProblemItem, ...]:
        self._enter("problems", patient_id)
        return tuple(p for p in self.problems_.values() if p.patient_id == patient_id
                     and (include_retired or p.status != "retired"))

    @staticmethod
    def _check_problem(draft: ProblemDraft) -> None:
        errors = {}
        if not draft.description.strip():
            errors["description"] = "describe the problem"
        if draft.onset_date is not None and draft.onset_date > date(2026, 11, 27):
            errors["onset_date"] = "the onset cannot be in the future"
        if errors:
            raise ValidationError.of(errors)

    def add_problem(self, patient_id: int, draft: ProblemDraft) -> ProblemItem:
        self._enter("add_problem", patient_id)
        self._check_problem(draft)
        item = ProblemItem(self._id(), 1, patient_id, draft, "", stamp(self.me, CHANGED_AT))
        self.problems_[item.id] = item
        return item

    def update_problem(self, problem_id: int, version: int, draft: ProblemDraft
                       ) -> ProblemItem:
        self._enter("update_problem", problem_id)
        current = self.problems_[problem_id]
        self._stale(current, version)
        self._check_problem(draft)
        item = replace(current, version=version + 1, draft=draft,
                       stamp=self._new_stamp(current.stamp))
        self.problems_[problem_id] = item
        return item

    def retire_problem(self, problem_id: int, version: int, reason: str) -> ProblemItem:
        self._enter("retire_problem", problem_id)
        current = self.problems_[problem_id]
        self._stale(current, version)
        if not reason.strip():
            raise ValidationError("reason", "say why it is retired")
        item = replace(current, version=version + 1,
                       draft=replace(current.draft, status="retired"),
                       retired_reason=reason, stamp=self._new_stamp(current.stamp))
        self.problems_[problem_id] = item
        return item

    # ------------------------------------------------------------ medications

    def medications(self, patient_id: int, *, include_retired: bool = False
                    ) -> tuple[MedicationItem, ...]:
        self._enter("medications", patient_id)
        return tuple(m for m in self.medications_.values() if m.patient_id == patient_id
                     and (include_retired or m.status != "retired"))

    @staticmethod
    def _check_medication(draft: MedicationDraft) -> None:
        errors = {}
        if not draft.name.strip():
            errors["name"] = "name the medication"
        if not draft.dose.strip():
            errors["dose"] = "give the dose, e.g. 500 mg"
        if errors:
            raise ValidationError.of(errors)

    def add_medication(self, patient_id: int, draft: MedicationDraft) -> MedicationItem:
        self._enter("add_medication", patient_id)
        self._check_medication(draft)
        item = MedicationItem(self._id(), 1, patient_id, draft, None, "",
                              stamp(self.me, CHANGED_AT))
        self.medications_[item.id] = item
        return item

    def update_medication(self, medication_id: int, version: int, draft: MedicationDraft
                          ) -> MedicationItem:
        self._enter("update_medication", medication_id)
        current = self.medications_[medication_id]
        self._stale(current, version)
        self._check_medication(draft)
        item = replace(current, version=version + 1, draft=draft,
                       stamp=self._new_stamp(current.stamp))
        self.medications_[medication_id] = item
        return item

    def retire_medication(self, medication_id: int, version: int, reason: str
                          ) -> MedicationItem:
        self._enter("retire_medication", medication_id)
        current = self.medications_[medication_id]
        self._stale(current, version)
        if not reason.strip():
            raise ValidationError("reason", "say why it is retired")
        item = replace(current, version=version + 1,
                       draft=replace(current.draft, status="retired"),
                       retired_reason=reason, stamp=self._new_stamp(current.stamp))
        self.medications_[medication_id] = item
        return item

    # ------------------------------------------------------------ allergies and alerts

    def alerts(self, patient_id: int, *, include_retired: bool = False
               ) -> tuple[AlertItem, ...]:
        self._enter("alerts", patient_id)
        return tuple(a for a in self.alerts_.values() if a.patient_id == patient_id
                     and (include_retired or a.status == "active"))

    @staticmethod
    def _check_alert(draft: AlertDraft) -> None:
        errors = {}
        if not draft.description.strip():
            errors["description"] = ("name the substance" if draft.kind == "allergy"
                                     else "describe the alert")
        if draft.severity not in ("low", "moderate", "high"):
            errors["severity"] = "choose low, moderate or high"
        if errors:
            raise ValidationError.of(errors)

    def add_alert(self, patient_id: int, draft: AlertDraft) -> AlertItem:
        self._enter("add_alert", patient_id)
        self._check_alert(draft)
        item = AlertItem(self._id(), 1, patient_id, draft, "", stamp(self.me, CHANGED_AT))
        self.alerts_[item.id] = item
        return item

    def update_alert(self, alert_id: int, version: int, draft: AlertDraft) -> AlertItem:
        self._enter("update_alert", alert_id)
        current = self.alerts_[alert_id]
        self._stale(current, version)
        self._check_alert(draft)
        item = replace(current, version=version + 1, draft=draft,
                       stamp=self._new_stamp(current.stamp))
        self.alerts_[alert_id] = item
        return item

    def retire_alert(self, alert_id: int, version: int, reason: str) -> AlertItem:
        self._enter("retire_alert", alert_id)
        current = self.alerts_[alert_id]
        self._stale(current, version)
        if not reason.strip():
            raise ValidationError("reason", "say why it no longer applies")
        item = replace(current, version=version + 1,
                       draft=replace(current.draft, status="inactive"),
                       retired_reason=reason, stamp=self._new_stamp(current.stamp))
        self.alerts_[alert_id] = item
        return item
