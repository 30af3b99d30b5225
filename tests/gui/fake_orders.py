"""Fake ``OrdersApi`` and ``TasksApi`` for the orders, prescriptions and tasks views (our own
seam, like tests/gui/fake_scheduling.py).

They behave like the services where a screen can tell: newest first, versions (a stale write
raises ``Conflict`` naming who changed it), ``ValidationError`` naming every bad field,
``PermissionDenied`` when the signed-in person is not a prescriber, ``IllegalTransition``
for printing an unsigned prescription, and an inbox "due first". Record times are fixed
UTC values (the database's clock), never the machine's.
"""

from __future__ import annotations

import re
import threading
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from backend_client.chart.dto import (
    ORDER_KINDS,
    ROUTES,
    STRENGTH_UNITS,
    TASK_PRIORITIES,
    Assignee,
    OrderDraft,
    OrderItem,
    PrescriptionDraft,
    PrescriptionItem,
    PrintablePrescription,
    Stamp,
    TaskDraft,
    TaskItem,
)
from backend_client.dto import PatientDraft, PatientRecord
from backend_client.errors import (
    Conflict,
    IllegalTransition,
    NotFound,
    PermissionDenied,
    ValidationError,
)

CLOCK = datetime(2026, 12, 2, 8, 30, tzinfo=UTC)   # "now" on the database's clock
ME = 11                                            # the signed-in person's user id
PER_DAY = {"once daily": 1.0, "twice daily": 2.0, "three times daily": 3.0,
           "four times daily": 4.0, "at night": 1.0, "in the morning": 1.0,
           "as needed": 0.0}
_EVERY = re.compile(r"^every (\d{1,2}) hours?$")


def patient(pid: int = 7, given: str = "Anna", family: str = "Müller",
            born: date = date(1984, 3, 12), mrn: str = "000123") -> PatientRecord:
    return PatientRecord(id=pid, version=1, mrn=mrn, deceased_at=None, alerts=(),
                         updated_at=CLOCK, updated_by="",
                         draft=PatientDraft(given_name=given, family_name=family,
                                            birth_date=born, sex="female",
                                            address_line1="4 Linden Street",
                                            city="Berlin", postal_code="10115"))


def _stamp(who: str, when: datetime) -> Stamp:
    return Stamp(who, when, who, when)


def per_day(frequency: str) -> float | None:
    """Administrations a day for a frequency the service understands, None otherwise."""
    text = " ".join(frequency.lower().split())
    if text in PER_DAY:
        return PER_DAY[text]
    match = _EVERY.match(text)
    if match and 1 <= int(match.group(1)) <= 24:
        return 24 / int(match.group(1))
    return None


def check(draft: PrescriptionDraft) -> PrescriptionDraft:
    """What the service's check answers: the draft normalised, or every bad field."""
    errors: dict[str, str] = {}
    drug = " ".join(draft.drug.split())
    if not drug:
        errors["drug"] = "Name the drug."
    elif not re.search(r"[A-Za-z]", drug):
        errors["drug"] = "A drug's name has letters in it."
    try:
        if float(draft.strength) <= 0:
            raise ValueError
    except ValueError:
        errors["strength"] = "Give the strength as a positive number, e.g. 500."
    if draft.unit not in STRENGTH_UNITS:
        errors["unit"] = "Pick a unit from the list (mg, mcg, ml, …)."
    if draft.route not in ROUTES:
        errors["route"] = "Pick a route from the list (oral, topical, inhaled, …)."
    times = per_day(draft.frequency)
    if times is None:
        errors["frequency"] = ("Say how often in words the app understands: once daily, "
                               "twice daily, every 8 hours, at night, as needed.")
    dose_match = re.match(r"^\s*(\d+(?:\.\d+)?)", draft.dose)
    if not dose_match or float(dose_match.group(1)) <= 0:
        errors["dose"] = "Give the dose as a number of units, e.g. 1 or 2."
    if not 1 <= draft.duration_days <= 365:
        errors["duration_days"] = "The duration is 1 to 365 days."
    if not 0 <= draft.refills <= 12:
        errors["refills"] = "Refills are 0 to 12."
    quantity = draft.quantity.strip()
    if quantity:
        try:
            if float(quantity) <= 0:
                raise ValueError
        except ValueError:
            errors["quantity"] = "The quantity is a positive number."
    elif times == 0.0:
        errors["quantity"] = "With “as needed”, say how many to supply."
    elif times is not None and dose_match and "duration_days" not in errors:
        amount = float(dose_match.group(1)) * times * draft.duration_days
        quantity = f"{amount:g}"
    if errors:
        raise ValidationError.of(errors)
    return replace(draft, drug=drug, quantity=quantity)


class FakeOrdersApi:
    """Orders and prescriptions for any patient, kept in memory.

    Attributes:
        prescriber: whether the signed-in person holds ``prescription.write``.
        fail: method name → an exception its next call raises (consumed).
        calls: (method, args) in call order.
    """

    def __init__(self, *, who: str = "Dr Anna Demo", prescriber: bool = True) -> None:
        self.who = who
        self.prescriber = prescriber
        self.fail: dict[str, BaseException] = {}
        self.calls: list[tuple[str, tuple[object, ...]]] = []
        self.records: dict[int, PatientRecord] = {}
        self._orders: dict[int, OrderItem] = {}
        self._rx: dict[int, PrescriptionItem] = {}
        self._next = 1
        self._tick = 0
        self._lock = threading.Lock()

    def _call(self, name: str, *args: object) -> None:
        self.calls.append((name, args))
        if name in self.fail:
            raise self.fail.pop(name)

    def _now(self) -> datetime:
        self._tick += 1
        return CLOCK + timedelta(minutes=self._tick)

    def _id(self) -> int:
        with self._lock:
            self._next += 1
            return self._next - 1

    # ------------------------------------------------------------ building

    def add_order(self, patient_id: int, draft: OrderDraft, *, status: str = "active",
                  by: str = "Dr Anna Demo", at: datetime | None = None) -> OrderItem:
        when = at or self._now()
        item = OrderItem(self._id(), 1, patient_id, draft, status, by, "", _stamp(by, when))
        self._orders[item.id] = item
        return item

    def add_prescription(self, patient_id: int, draft: PrescriptionDraft, *,
                         signed: bool = False, by: str = "Dr Anna Demo",
                         at: datetime | None = None) -> PrescriptionItem:
        when = at or self._now()
        item = PrescriptionItem(self._id(), 1, patient_id, check(draft),
                                "active" if signed else "draft", by,
                                by if signed else "", when if signed else None, "",
                                _stamp(by, when))
        self._rx[item.id] = item
        return item

    def change_behind_the_back(self, item_id: int, by: str) -> None:
        """Another workstation changed it: the version moves on, ``by`` did it."""
        when = self._now()
        if item_id in self._orders:
            o = self._orders[item_id]
            self._orders[item_id] = replace(o, version=o.version + 1,
                                            stamp=replace(o.stamp, updated_by=by,
                                                          updated_at=when))
        else:
            p = self._rx[item_id]
            self._rx[item_id] = replace(p, version=p.version + 1,
                                        stamp=replace(p.stamp, updated_by=by,
                                                      updated_at=when))

    def _fresh(self, table: dict[int, OrderItem] | dict[int, PrescriptionItem], item_id: int,
               version: int, what: str) -> OrderItem | PrescriptionItem:
        item = table.get(item_id)
        if item is None:
            raise NotFound(f"That {what} no longer exists.")
        if item.version != version:
            who = item.stamp.updated_by
            raise Conflict(f"{who} changed this {what} first.", item.version, who)
        return item

    # ------------------------------------------------------------ orders

    def orders(self, patient_id: int) -> tuple[OrderItem, ...]:
        self._call("orders", patient_id)
        return tuple(sorted((o for o in self._orders.values() if o.patient_id == patient_id),
                            key=lambda o: (o.stamp.recorded_at, o.id), reverse=True))

    def place_order(self, patient_id: int, draft: OrderDraft) -> OrderItem:
        self._call("place_order", patient_id, draft)
        errors: dict[str, str] = {}
        if draft.kind not in ORDER_KINDS:
            errors["kind"] = "Pick what kind of order this is."
        if not draft.description.strip():
            errors["description"] = "Say what is ordered, e.g. Full blood count."
        elif len(draft.description) > 200:
            errors["description"] = "Keep the description under 200 characters."
        if draft.code and not re.fullmatch(r"[A-Za-z0-9.\-]{1,20}", draft.code.strip()):
            errors["code"] = "A code is letters, digits, dots or dashes (at most 20)."
        if errors:
            raise ValidationError.of(errors)
        return self.add_order(patient_id, replace(draft, description=draft.description.strip()),
                              by=self.who)

    def discontinue_order(self, order_id: int, version: int, reason: str) -> OrderItem:
        self._call("discontinue_order", order_id, version, reason)
        old = self._fresh(self._orders, order_id, version, "order")
        assert isinstance(old, OrderItem)
        if not reason.strip():
            raise ValidationError("reason", "Say why it is discontinued.")
        if old.status in ("cancelled", "completed"):
            raise IllegalTransition(f"An order that is {old.status} cannot be discontinued.")
        new = replace(old, version=old.version + 1, status="cancelled",
                      discontinued_reason=reason,
                      stamp=replace(old.stamp, updated_by=self.who, updated_at=self._now()))
        self._orders[order_id] = new
        return new

    # ------------------------------------------------------------ prescriptions

    def prescriptions(self, patient_id: int) -> tuple[PrescriptionItem, ...]:
        self._call("prescriptions", patient_id)
        return tuple(sorted((p for p in self._rx.values() if p.patient_id == patient_id),
                            key=lambda p: (p.stamp.recorded_at, p.id), reverse=True))

    def check_prescription(self, draft: PrescriptionDraft) -> PrescriptionDraft:
        self.calls.append(("check_prescription", (draft,)))
        return check(draft)

    def create_prescription(self, patient_id: int, draft: PrescriptionDraft
                            ) -> PrescriptionItem:
        self._call("create_prescription", patient_id, draft)
        return self.add_prescription(patient_id, draft, by=self.who)

    def sign_prescription(self, prescription_id: int, version: int) -> PrescriptionItem:
        self._call("sign_prescription", prescription_id, version)
        if not self.prescriber:
            raise PermissionDenied("Only a prescriber can sign a prescription; your role "
                                   "does not include prescribing.")
        old = self._fresh(self._rx, prescription_id, version, "prescription")
        assert isinstance(old, PrescriptionItem)
        if old.signed:
            raise IllegalTransition("This prescription is already signed.")
        when = self._now()
        new = replace(old, version=old.version + 1, status="active", signed_by=self.who,
                      signed_at=when, stamp=replace(old.stamp, updated_by=self.who,
                                                    updated_at=when))
        self._rx[prescription_id] = new
        return new

    def discontinue_prescription(self, prescription_id: int, version: int, reason: str
                                 ) -> PrescriptionItem:
        self._call("discontinue_prescription", prescription_id, version, reason)
        old = self._fresh(self._rx, prescription_id, version, "prescription")
        assert isinstance(old, PrescriptionItem)
        new = replace(old, version=old.version + 1, status="stopped", stop_reason=reason,
                      stamp=replace(old.stamp, updated_by=self.who, updated_at=self._now()))
        self._rx[prescription_id] = new
        return new

    def printable(self, prescription_id: int) -> PrintablePrescription:
        self._call("printable", prescription_id)
        item = self._rx.get(prescription_id)
        if item is None:
            raise NotFound("That prescription no longer exists.")
        if not item.signed:
            raise IllegalTransition("Only a signed prescription can be printed.")
        record = self.records.get(item.patient_id) or patient(item.patient_id)
        d = record.draft
        assert isinstance(d.birth_date, date)
        return PrintablePrescription(
            clinic_lines=("Linden Street Medical Centre", "4 Linden Street, 10115 Berlin",
                          "Tel. +49 30 1234 5678"),
            patient_name=f"{d.given_name} {d.family_name}", patient_birth_date=d.birth_date,
            patient_mrn=record.mrn, patient_address="4 Linden Street, 10115 Berlin",
            prescriber_name=item.prescriber, prescriber_number="LANR 123456789",
            item=item, printed_at=self._now())


class FakeTasksApi:
    """Tasks for the signed-in person ``ME`` (a doctor: role "doctor")."""

    def __init__(self, *, me: int = ME, my_role: str = "doctor") -> None:
        self.me = me
        self.my_role = my_role
        self.fail: dict[str, BaseException] = {}
        self.calls: list[tuple[str, tuple[object, ...]]] = []
        self._tasks: dict[int, TaskItem] = {}
        self._next = 1
        self._tick = 0
        self.people = {11: "Dr Anna Demo", 12: "Dr Amara Okafor", 14: "Nurse Li Wei"}
        self.patient_labels: dict[int, str] = {
            7: "Müller, Anna · 12 Mar 1984 · MRN 000123"}

    def _call(self, name: str, *args: object) -> None:
        self.calls.append((name, args))
        if name in self.fail:
            raise self.fail.pop(name)

    def _now(self) -> datetime:
        self._tick += 1
        return CLOCK + timedelta(minutes=self._tick)

    def _label(self, draft: TaskDraft) -> str:
        if draft.assignee_user_id is not None:
            return self.people.get(draft.assignee_user_id, f"User {draft.assignee_user_id}")
        return f"All {draft.assignee_role}s"

    def add(self, draft: TaskDraft, *, status: str = "open", by: str = "Nurse Li Wei"
            ) -> TaskItem:
        when = self._now()
        item = TaskItem(self._next, 1, draft,
                        self.patient_labels.get(draft.patient_id or 0, ""),
                        self._label(draft), status, "", None, _stamp(by, when))
        self._next += 1
        self._tasks[item.id] = item
        return item

    def _mine(self, t: TaskItem) -> bool:
        return t.draft.assignee_user_id == self.me or t.draft.assignee_role == self.my_role

    @staticmethod
    def _due_first(t: TaskItem) -> tuple[bool, datetime, int]:
        far = datetime.max.replace(tzinfo=UTC)
        return (t.draft.due_at is None, t.draft.due_at or far, t.id)

    def assignees(self) -> tuple[Assignee, ...]:
        self._call("assignees")
        people = tuple(Assignee(uid, "", name) for uid, name in self.people.items())
        return people + (Assignee(None, "doctor", "All doctors"),
                         Assignee(None, "nurse", "All nurses"),
                         Assignee(None, "receptionist", "All receptionists"))

    def inbox(self, *, include_done: bool = False) -> tuple[TaskItem, ...]:
        self._call("inbox", include_done)
        return tuple(sorted((t for t in self._tasks.values() if self._mine(t)
                             and (include_done or t.open)), key=self._due_first))

    def open_count(self) -> int:
        self._call("open_count")
        return sum(1 for t in self._tasks.values() if self._mine(t) and t.open)

    def patient_tasks(self, patient_id: int) -> tuple[TaskItem, ...]:
        self._call("patient_tasks", patient_id)
        return tuple(sorted((t for t in self._tasks.values()
                             if t.draft.patient_id == patient_id), key=self._due_first))

    def _validate(self, draft: TaskDraft) -> None:
        errors: dict[str, str] = {}
        if not draft.title.strip():
            errors["title"] = "Say what is to be done."
        if (draft.assignee_user_id is None) == (not draft.assignee_role):
            errors["assignee"] = "Give the task to one person or one role."
        if draft.priority not in TASK_PRIORITIES:
            errors["priority"] = "Pick a priority from the list."
        if draft.due_at is not None and draft.due_at < CLOCK - timedelta(days=1):
            errors["due_at"] = "The due date is in the past."
        if errors:
            raise ValidationError.of(errors)

    def create_task(self, draft: TaskDraft) -> TaskItem:
        self._call("create_task", draft)
        self._validate(draft)
        return self.add(draft, by="Dr Anna Demo")

    def _fresh(self, task_id: int, version: int) -> TaskItem:
        item = self._tasks.get(task_id)
        if item is None:
            raise NotFound("That task no longer exists.")
        if item.version != version:
            who = item.stamp.updated_by
            raise Conflict(f"{who} changed this task first.", item.version, who)
        return item

    def update_task(self, task_id: int, version: int, draft: TaskDraft) -> TaskItem:
        self._call("update_task", task_id, version, draft)
        self._validate(draft)
        old = self._fresh(task_id, version)
        new = replace(old, version=version + 1, draft=draft,
                      assignee_label=self._label(draft))
        self._tasks[task_id] = new
        return new

    def change_behind_the_back(self, task_id: int, by: str) -> None:
        old = self._tasks[task_id]
        self._tasks[task_id] = replace(old, version=old.version + 1,
                                       stamp=replace(old.stamp, updated_by=by,
                                                     updated_at=self._now()))

    def complete_task(self, task_id: int, version: int) -> TaskItem:
        self._call("complete_task", task_id, version)
        old = self._fresh(task_id, version)
        if not old.open:
            raise IllegalTransition(f"A task that is {old.status} cannot be marked done.")
        when = self._now()
        new = replace(old, version=version + 1, status="done", done_by="Dr Anna Demo",
                      done_at=when)
        self._tasks[task_id] = new
        return new

    def cancel_task(self, task_id: int, version: int, reason: str) -> TaskItem:
        self._call("cancel_task", task_id, version, reason)
        old = self._fresh(task_id, version)
        if not old.open:
            raise IllegalTransition(f"A task that is {old.status} cannot be cancelled.")
        new = replace(old, version=version + 1, status="cancelled")
        self._tasks[task_id] = new
        return new
