"""What the chart shows: frozen values the UI may import (like ``backend_client.dto``).

Every clinical item carries who recorded it and when (the database's clock), who changed it
last, and its version (a stale write raises ``Conflict``). Statuses are the database's
words; the UI labels them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from backend_client.dto import AppointmentInfo, PatientRecord


@dataclass(frozen=True)
class Stamp:
    """Who recorded an item and when; who changed it last and when."""

    recorded_by: str
    recorded_at: datetime
    updated_by: str
    updated_at: datetime


# --------------------------------------------------------------------------- encounters

ENCOUNTER_STATUSES = ("open", "closed", "cancelled")


@dataclass(frozen=True)
class EncounterItem:
    id: int
    version: int
    patient_id: int
    provider_id: int
    provider_name: str
    appointment_id: int | None
    started_at: datetime
    ended_at: datetime | None
    status: str            # open, closed, cancelled
    reason: str
    summary: str
    stamp: Stamp
    note_count: int = 0    # notes linked to it (filled by the chart service when known)


# --------------------------------------------------------------------------- lists

PROBLEM_STATUSES = ("active", "resolved", "retired")


@dataclass(frozen=True)
class ProblemDraft:
    description: str
    code: str = ""               # optional ICD-10 / SNOMED code as typed
    onset_date: date | None = None
    status: str = "active"       # active or resolved (retire with retire_problem)
    comment: str = ""


@dataclass(frozen=True)
class ProblemItem:
    id: int
    version: int
    patient_id: int
    draft: ProblemDraft
    retired_reason: str
    stamp: Stamp

    @property
    def status(self) -> str:
        return self.draft.status


MEDICATION_STATUSES = ("active", "stopped", "retired")


@dataclass(frozen=True)
class MedicationDraft:
    name: str                    # "Metformin"
    dose: str                    # "500 mg"
    route: str = "oral"
    frequency: str = ""          # "twice daily"
    started_on: date | None = None
    stopped_on: date | None = None
    status: str = "active"       # active or stopped (retire = entered in error)
    comment: str = ""


@dataclass(frozen=True)
class MedicationItem:
    id: int
    version: int
    patient_id: int
    draft: MedicationDraft
    prescription_id: int | None   # the prescription it came from, if any
    retired_reason: str
    stamp: Stamp

    @property
    def status(self) -> str:
        return self.draft.status


ALERT_KINDS = ("allergy", "clinical", "infection", "other")
ALERT_SEVERITIES = ("low", "moderate", "high")
ALERT_STATUSES = ("active", "inactive", "resolved")


@dataclass(frozen=True)
class AlertDraft:
    """An allergy (kind "allergy": ``description`` is the substance) or a clinical warning."""

    kind: str
    description: str
    severity: str = "moderate"
    reaction: str = ""
    onset_date: date | None = None
    status: str = "active"


@dataclass(frozen=True)
class AlertItem:
    id: int
    version: int
    patient_id: int
    draft: AlertDraft
    retired_reason: str          # why it was made inactive ("" while active)
    stamp: Stamp

    @property
    def status(self) -> str:
        return self.draft.status

    @property
    def is_allergy(self) -> bool:
        return self.draft.kind == "allergy"


# --------------------------------------------------------------------------- header


@dataclass(frozen=True)
class ChartHeader:
    """What is always visible at the top of a chart; loads first, on its own."""

    patient: PatientRecord
    allergies: tuple[AlertItem, ...]          # active allergies, most severe first
    alerts: tuple[AlertItem, ...]             # active non-allergy alerts, most severe first
    appointment_today: AppointmentInfo | None  # the next (or current) one today
    open_encounter: EncounterItem | None


# --------------------------------------------------------------------------- orders

ORDER_KINDS = ("lab", "imaging", "referral", "procedure", "other")
ORDER_STATUSES = ("draft", "active", "completed", "cancelled")


@dataclass(frozen=True)
class OrderDraft:
    kind: str
    description: str             # "Full blood count"
    code: str = ""
    details: str = ""            # clinical question, urgency, instructions
    encounter_id: int | None = None


@dataclass(frozen=True)
class OrderItem:
    id: int
    version: int
    patient_id: int
    draft: OrderDraft
    status: str
    ordered_by: str              # provider's display name
    discontinued_reason: str
    stamp: Stamp


# --------------------------------------------------------------------------- prescriptions

PRESCRIPTION_STATUSES = ("draft", "active", "stopped", "completed")
ROUTES = ("oral", "sublingual", "topical", "inhaled", "nasal", "ophthalmic", "otic",
          "rectal", "vaginal", "subcutaneous", "intramuscular", "intravenous", "transdermal")
STRENGTH_UNITS = ("mg", "g", "mcg", "ml", "mg/ml", "mg/5ml", "IU", "units", "%", "puff",
                  "drop", "patch")


@dataclass(frozen=True)
class PrescriptionDraft:
    """What a prescriber types. Each field is checked and named when wrong: the drug
    (non-empty, letters), strength (a positive number), unit (one of STRENGTH_UNITS), route
    (one of ROUTES), frequency (understood: "once daily", "twice daily", "every 8 hours",
    "at night", "as needed", ...), duration in days (1–365), quantity (positive), refills
    (0–12)."""

    drug: str
    strength: str                # "500"
    unit: str                    # "mg"
    form: str = "tablet"         # tablet, capsule, solution, cream, inhaler, ...
    dose: str = "1"              # how many per administration ("1", "2", "5 ml")
    route: str = "oral"
    frequency: str = "once daily"
    duration_days: int = 7
    quantity: str = ""           # "28"; empty: computed from dose × frequency × duration
    refills: int = 0
    starts_on: date | None = None   # None: the day it is signed
    instructions: str = ""       # "with food"
    encounter_id: int | None = None


@dataclass(frozen=True)
class PrescriptionItem:
    id: int
    version: int
    patient_id: int
    draft: PrescriptionDraft
    status: str                  # draft, active (signed), stopped, completed
    prescriber: str              # display name of the provider it is written for
    signed_by: str               # "" until signed
    signed_at: datetime | None
    stop_reason: str
    stamp: Stamp

    @property
    def signed(self) -> bool:
        return self.signed_at is not None


@dataclass(frozen=True)
class PrintablePrescription:
    """Everything a printed prescription shows, read at once (the printer never asks)."""

    clinic_lines: tuple[str, ...]        # clinic name, address, phone
    patient_name: str
    patient_birth_date: date
    patient_mrn: str
    patient_address: str
    prescriber_name: str
    prescriber_number: str               # registration number, "" if unknown
    item: PrescriptionItem
    printed_at: datetime                 # the database's clock


# --------------------------------------------------------------------------- tasks

TASK_PRIORITIES = ("low", "normal", "high", "urgent")
TASK_STATUSES = ("open", "done", "cancelled")


@dataclass(frozen=True)
class Assignee:
    """Someone (or a role) a task can be given to."""

    user_id: int | None          # None: the task goes to everyone with ``role``
    role: str                    # "" when given to a person
    label: str                   # "Dr Demo" or "All nurses"


@dataclass(frozen=True)
class TaskDraft:
    title: str
    details: str = ""
    patient_id: int | None = None
    assignee_user_id: int | None = None
    assignee_role: str = ""      # exactly one of assignee_user_id / assignee_role
    due_at: datetime | None = None
    priority: str = "normal"


@dataclass(frozen=True)
class TaskItem:
    id: int
    version: int
    draft: TaskDraft
    patient_label: str           # "Müller, Anna · 12 Mar 1984 · MRN 000123", "" if none
    assignee_label: str
    status: str
    done_by: str
    done_at: datetime | None
    stamp: Stamp

    @property
    def open(self) -> bool:
        return self.status == "open"
