"""What the chart offers the app: ``ChartApi`` (header, timeline, problems, medications,
allergies and alerts), ``OrdersApi`` (orders, prescriptions) and ``TasksApi`` (tasks and the
personal inbox). Services implement them against PostgreSQL; presenter tests use fakes with
the same methods.

Every method checks the signed-in person's permission first and raises
``PermissionDenied`` (reception never reads a chart: ``chart.open``), ``WorkstationLocked``
/ ``SessionEnded`` when they may not act now, ``NotFound``, ``Conflict`` for a stale
``version`` (naming who changed it), ``ValidationError`` naming every bad field at once,
and ``Unavailable`` when PostgreSQL cannot be reached. Row-level security in PostgreSQL
enforces the same rules again.

Writes publish change events after the commit: kind "chart", id = the patient's id,
action = what changed ("problem", "medication", "alert", "encounter", "order",
"prescription"), so every open chart of that patient refetches that section and its
header; kind "task", id = the task's id, ``notify_user_id`` = the assignee (when a
person), so the assignee's workstation updates its inbox count at once.
"""

from __future__ import annotations

from typing import Protocol

from backend_client.chart.dto import (
    AlertDraft,
    AlertItem,
    Assignee,
    ChartHeader,
    EncounterItem,
    MedicationDraft,
    MedicationItem,
    OrderDraft,
    OrderItem,
    PrescriptionDraft,
    PrescriptionItem,
    PrintablePrescription,
    ProblemDraft,
    ProblemItem,
    TaskDraft,
    TaskItem,
)


class ChartApi(Protocol):
    def header(self, patient_id: int) -> ChartHeader:
        """The chart's header: one fast read (target ≤ 100 ms with a large chart). Opening
        the chart is audited once ("chart.open"); this read is not a second audited open."""
        ...

    def timeline(self, patient_id: int) -> tuple[EncounterItem, ...]:
        """Encounters, newest first."""
        ...

    def open_encounter(self, patient_id: int, reason: str) -> EncounterItem:
        """An ad hoc encounter for the signed-in clinician's provider (check-in opens the
        booked ones)."""
        ...

    def close_encounter(self, encounter_id: int, version: int, summary: str) -> EncounterItem:
        """Closed with a summary (required, says so when empty)."""
        ...

    # problems, medications, allergies/alerts: list (retired ones on request), add,
    # edit, retire (with a reason, required)
    def problems(self, patient_id: int, *, include_retired: bool = False
                 ) -> tuple[ProblemItem, ...]: ...
    def add_problem(self, patient_id: int, draft: ProblemDraft) -> ProblemItem: ...
    def update_problem(self, problem_id: int, version: int, draft: ProblemDraft
                       ) -> ProblemItem: ...
    def retire_problem(self, problem_id: int, version: int, reason: str) -> ProblemItem: ...

    def medications(self, patient_id: int, *, include_retired: bool = False
                    ) -> tuple[MedicationItem, ...]: ...
    def add_medication(self, patient_id: int, draft: MedicationDraft) -> MedicationItem: ...
    def update_medication(self, medication_id: int, version: int, draft: MedicationDraft
                          ) -> MedicationItem: ...
    def retire_medication(self, medication_id: int, version: int, reason: str
                          ) -> MedicationItem: ...

    def alerts(self, patient_id: int, *, include_retired: bool = False
               ) -> tuple[AlertItem, ...]:
        """Allergies and clinical alerts together (``AlertItem.is_allergy`` tells)."""
        ...
    def add_alert(self, patient_id: int, draft: AlertDraft) -> AlertItem: ...
    def update_alert(self, alert_id: int, version: int, draft: AlertDraft) -> AlertItem: ...
    def retire_alert(self, alert_id: int, version: int, reason: str) -> AlertItem: ...


class OrdersApi(Protocol):
    def orders(self, patient_id: int) -> tuple[OrderItem, ...]:
        """Newest first, discontinued ones included."""
        ...
    def place_order(self, patient_id: int, draft: OrderDraft) -> OrderItem: ...
    def discontinue_order(self, order_id: int, version: int, reason: str) -> OrderItem: ...

    def prescriptions(self, patient_id: int) -> tuple[PrescriptionItem, ...]: ...

    def check_prescription(self, draft: PrescriptionDraft) -> PrescriptionDraft:
        """The draft normalised (quantity computed when empty), or ``ValidationError``
        naming every bad field — for the form to show before saving. No I/O."""
        ...

    def create_prescription(self, patient_id: int, draft: PrescriptionDraft
                            ) -> PrescriptionItem:
        """Saved as a draft for the signed-in prescriber (or, for a nurse preparing it,
        for the patient's provider named by ``encounter_id``)."""
        ...

    def sign_prescription(self, prescription_id: int, version: int) -> PrescriptionItem:
        """Only a prescriber role (``prescription.write``) signs; the database refuses
        anyone else and freezes a signed prescription's content. Adds it to the
        medication list."""
        ...

    def discontinue_prescription(self, prescription_id: int, version: int, reason: str
                                 ) -> PrescriptionItem: ...

    def clinic_header(self) -> tuple[str, ...]:
        """The clinic's name, address lines and phone (clinic_settings "clinic.name",
        "clinic.address", "clinic.phone"), as every printed document heads them."""
        ...

    def printable(self, prescription_id: int) -> PrintablePrescription:
        """Only a signed prescription prints (``IllegalTransition`` otherwise); printing is
        audited."""
        ...


class TasksApi(Protocol):
    def assignees(self) -> tuple[Assignee, ...]:
        """Active people and the roles, for the "assign to" picker."""
        ...

    def inbox(self, *, include_done: bool = False) -> tuple[TaskItem, ...]:
        """Tasks given to the signed-in person or to one of their roles, due first."""
        ...

    def open_count(self) -> int:
        """How many open tasks the inbox has (the status bar's count)."""
        ...

    def patient_tasks(self, patient_id: int) -> tuple[TaskItem, ...]: ...
    def create_task(self, draft: TaskDraft) -> TaskItem: ...
    def update_task(self, task_id: int, version: int, draft: TaskDraft) -> TaskItem: ...
    def complete_task(self, task_id: int, version: int) -> TaskItem: ...
    def cancel_task(self, task_id: int, version: int, reason: str) -> TaskItem: ...
