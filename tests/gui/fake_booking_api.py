"""A fake scheduling service at our own seam (the SchedulingApi protocol), for the booking
presenter and dialog tests: a small in-memory clinic with the real service's refusals
(clash, warnings needing an override reason, stale versions, illegal status moves)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from PySide6.QtWidgets import QLineEdit, QMainWindow
from pytestqt.qtbot import QtBot

from backend_client.dto import (
    APPOINTMENT_STATUS_LABELS,
    APPOINTMENT_TRANSITIONS,
    LIVE_APPOINTMENT_STATUSES,
    AppointmentInfo,
    AppointmentTypeInfo,
    BookingRequest,
    BookingResult,
    BookingWarning,
    Changes,
    DaySheet,
    ProviderInfo,
    Recurrence,
    SlotOffer,
    WaitlistEntry,
)
from backend_client.errors import (
    Clash,
    Conflict,
    IllegalTransition,
    NeedsOverride,
    NotFound,
    ValidationError,
)
from tests.gui.fake_patients import FakePatientsApi

ZONE = ZoneInfo("Europe/Berlin")
DAY = date(2026, 12, 1)          # a Tuesday
NOW = datetime(2026, 12, 1, 7, 0, tzinfo=ZONE)
OPENS, CLOSES = 8, 17            # working hours, local


def at(hour: int, minute: int = 0, day: date = DAY) -> datetime:
    """A local wall-clock time on the fake clinic's day, as the database returns it (UTC)."""
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=ZONE).astimezone(UTC)


@dataclass
class Call:
    method: str
    args: tuple[object, ...]
    kwargs: dict[str, object] = field(default_factory=dict)


class FakeSchedulingApi:
    """Attributes:
        fail: method name → exception raised on its next call (consumed).
        delays: method name → seconds to sleep first (on the pool thread).
        offer_list: what ``offers`` answers (filtered to the day asked).
    """

    def __init__(self, patients: FakePatientsApi) -> None:
        self.patients = patients
        self.provider_list = (
            ProviderInfo(1, "Dr Anna Demo", "General practice", user_id=7),
            ProviderInfo(2, "Dr Ben Okafor", "Paediatrics", user_id=8),
        )
        self.types = (
            AppointmentTypeInfo(1, "Consultation", 15, "#1976d2"),
            AppointmentTypeInfo(2, "Long consultation", 30, "#7b1fa2"),
            AppointmentTypeInfo(3, "Vaccination", 10, "#2e7d32"),
        )
        self.appointments: dict[int, AppointmentInfo] = {}
        self.entries: dict[int, WaitlistEntry] = {}
        self.offer_list: list[SlotOffer] = []
        self.calls: list[Call] = []
        self.fail: dict[str, BaseException] = {}
        self.delays: dict[str, float] = {}
        self._ids = iter(range(100, 10_000))
        self._lock = threading.Lock()

    # ------------------------------------------------------------ helpers

    def calls_to(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    def _enter(self, method: str, *args: object, **kwargs: object) -> None:
        self.calls.append(Call(method, args, kwargs))
        if self.delays.get(method):
            time.sleep(self.delays[method])
        error = self.fail.pop(method, None)
        if error is not None:
            raise error

    def _name(self, patient_id: int) -> tuple[str, str, date | None]:
        record = self.patients.records[patient_id]
        born = record.draft.birth_date
        return (f"{record.draft.family_name}, {record.draft.given_name}", record.mrn,
                born if isinstance(born, date) else None)

    def _provider(self, provider_id: int) -> ProviderInfo:
        return next(p for p in self.provider_list if p.id == provider_id)

    def add(self, patient_id: int, provider_id: int, starts_at: datetime, minutes: int = 15,
            *, status: str = "booked", series_id: int | None = None,
            type_id: int | None = 1) -> AppointmentInfo:
        name, mrn, born = self._name(patient_id)
        kind = next((t for t in self.types if t.id == type_id), None)
        with self._lock:
            appt_id = next(self._ids)
        appt = AppointmentInfo(
            id=appt_id, version=1, provider_id=provider_id, patient_id=patient_id,
            patient_name=name, patient_mrn=mrn, patient_birth_date=born, type_id=type_id,
            type_name=kind.name if kind else "", colour=kind.colour if kind else "#9e9e9e",
            starts_at=starts_at, ends_at=starts_at + timedelta(minutes=minutes),
            status=status, reason="", series_id=series_id, updated_by="Reception Desk",
            updated_at=NOW.astimezone(UTC))
        self.appointments[appt_id] = appt
        return appt

    def change_behind_the_back(self, appointment_id: int, by: str, hour: int,
                               minute: int) -> None:
        old = self.appointments[appointment_id]
        self.appointments[appointment_id] = replace(
            old, version=old.version + 1, starts_at=old.starts_at + timedelta(minutes=30),
            ends_at=old.ends_at + timedelta(minutes=30), updated_by=by,
            updated_at=at(hour, minute))

    def _live(self) -> list[AppointmentInfo]:
        return [a for a in self.appointments.values() if a.status in LIVE_APPOINTMENT_STATUSES]

    def _clash(self, provider_id: int, start: datetime, end: datetime,
               ignore: set[int]) -> AppointmentInfo | None:
        return next((a for a in self._live() if a.provider_id == provider_id
                     and a.id not in ignore and a.starts_at < end and a.ends_at > start), None)

    def _clash_sentence(self, other: AppointmentInfo) -> str:
        s, e = other.starts_at.astimezone(ZONE), other.ends_at.astimezone(ZONE)
        return (f"{self._provider(other.provider_id).display_name} is already booked "
                f"{s:%H:%M}–{e:%H:%M} with {other.patient_name} ({other.type_name})")

    def _warnings(self, patient_id: int, provider_id: int, start: datetime, end: datetime,
                  ignore: set[int]) -> list[BookingWarning]:
        found = []
        local_start, local_end = start.astimezone(ZONE), end.astimezone(ZONE)
        for a in self._live():
            if a.patient_id == patient_id and a.provider_id != provider_id and \
                    a.id not in ignore and a.starts_at < end and a.ends_at > start:
                s, e = a.starts_at.astimezone(ZONE), a.ends_at.astimezone(ZONE)
                found.append(BookingWarning(
                    "patient_elsewhere", f"{a.patient_name} is already booked with "
                    f"{self._provider(a.provider_id).display_name} {s:%H:%M}–{e:%H:%M} "
                    "that day", start))
        if local_start.hour < OPENS or (local_end.hour, local_end.minute) > (CLOSES, 0):
            found.append(BookingWarning("outside_hours", f"{local_start:%H:%M} is outside "
                                        f"{self._provider(provider_id).display_name}'s "
                                        "working hours", start))
        if start < NOW:
            found.append(BookingWarning("in_past", "That time is in the past", start))
        return found

    @staticmethod
    def occurrences(start: datetime, rule: Recurrence | None) -> list[datetime]:
        if rule is None:
            return [start]
        local_start = start.astimezone(ZONE)
        out: list[datetime] = []
        i = 0
        while len(out) < (rule.count or 200):
            if rule.frequency == "daily":
                when = local_start + timedelta(days=i * rule.interval)
            elif rule.frequency == "weekly":
                when = local_start + timedelta(weeks=i * rule.interval)
            else:  # monthly: the same date (weekday rules are the real service's)
                month = local_start.month - 1 + i * rule.interval
                when = local_start.replace(year=local_start.year + month // 12,
                                           month=month % 12 + 1)
            if rule.until is not None and when.date() > rule.until:
                break
            out.append(when.astimezone(UTC))
            i += 1
        return out

    # ------------------------------------------------------------ reads

    def providers(self) -> tuple[ProviderInfo, ...]:
        self._enter("providers")
        return self.provider_list

    def appointment_types(self) -> tuple[AppointmentTypeInfo, ...]:
        self._enter("appointment_types")
        return self.types

    def day_sheet(self, day: date, provider_ids: tuple[int, ...] | None = None) -> DaySheet:
        self._enter("day_sheet", day)
        return DaySheet(day, self.provider_list, (), tuple(
            a for a in self.appointments.values() if a.starts_at.astimezone(ZONE).date() == day))

    def week(self, provider_id: int, monday: date) -> tuple[DaySheet, ...]:
        return tuple(self.day_sheet(monday + timedelta(days=i)) for i in range(7))

    def agenda(self, start: date, end: date,
               provider_ids: tuple[int, ...] | None = None) -> tuple[AppointmentInfo, ...]:
        return tuple(sorted(self.appointments.values(), key=lambda a: a.starts_at))

    def get(self, appointment_id: int) -> AppointmentInfo:
        self._enter("get", appointment_id)
        if appointment_id not in self.appointments:
            raise NotFound("There is no such appointment.")
        return self.appointments[appointment_id]

    def patient_appointments(self, patient_id: int) -> tuple[AppointmentInfo, ...]:
        return tuple(a for a in self.appointments.values() if a.patient_id == patient_id)

    # ------------------------------------------------------------ writes

    def _validate(self, request: BookingRequest) -> None:
        errors = {}
        if request.patient_id not in self.patients.records:
            errors["patient_id"] = "choose a registered patient"
        if request.ends_at <= request.starts_at:
            errors["ends_at"] = "the appointment must end after it starts"
        if errors:
            raise ValidationError.of(errors)

    def check(self, request: BookingRequest) -> tuple[BookingWarning, ...]:
        self._enter("check", request)
        self._validate(request)
        other = self._clash(request.provider_id, request.starts_at, request.ends_at, set())
        if other is not None:
            raise Clash(self._clash_sentence(other), other.id)
        length = request.ends_at - request.starts_at
        found: list[BookingWarning] = []
        for start in self.occurrences(request.starts_at, request.recurrence):
            found += self._warnings(request.patient_id, request.provider_id, start,
                                    start + length, set())
        return tuple(found)

    def book(self, request: BookingRequest) -> BookingResult:
        self._enter("book", request)
        self._validate(request)
        length = request.ends_at - request.starts_at
        starts = self.occurrences(request.starts_at, request.recurrence)
        other = self._clash(request.provider_id, starts[0], starts[0] + length, set())
        if other is not None:
            raise Clash(self._clash_sentence(other), other.id)
        warnings = [w for s in starts for w in self._warnings(
            request.patient_id, request.provider_id, s, s + length, set())]
        if warnings and not request.override_reason:
            raise NeedsOverride(f"{len(warnings)} warning(s) need a reason.", tuple(warnings))
        series_id = next(self._ids) if request.recurrence else None
        made, skipped = [], []
        for start in starts:
            other = self._clash(request.provider_id, start, start + length, set())
            if other is not None:
                skipped.append(f"{start.astimezone(ZONE):%a %d %b %H:%M}: "
                               + self._clash_sentence(other))
                continue
            appt = self.add(request.patient_id, request.provider_id, start,
                            int(length.total_seconds() // 60), series_id=series_id,
                            type_id=request.type_id)
            appt = replace(appt, reason=request.reason,
                           override_reason=request.override_reason)
            self.appointments[appt.id] = appt
            made.append(appt)
        return BookingResult(tuple(made), Changes(appointments=frozenset(a.id for a in made)),
                             tuple(skipped))

    def _current(self, appointment_id: int, expected_version: int) -> AppointmentInfo:
        current = self.appointments[appointment_id]
        if current.version != expected_version:
            raise Conflict("Someone else changed this appointment.",
                           current_version=current.version, changed_by=current.updated_by)
        return current

    def move(self, appointment_id: int, expected_version: int, *, provider_id: int,
             starts_at: datetime, ends_at: datetime, scope: str = "one",
             override_reason: str = "") -> BookingResult:
        self._enter("move", appointment_id, expected_version, provider_id=provider_id,
                    starts_at=starts_at, ends_at=ends_at, scope=scope,
                    override_reason=override_reason)
        current = self._current(appointment_id, expected_version)
        other = self._clash(provider_id, starts_at, ends_at, {appointment_id})
        if other is not None:
            raise Clash(self._clash_sentence(other), other.id)
        warnings = self._warnings(current.patient_id, provider_id, starts_at, ends_at,
                                  {appointment_id})
        if warnings and not override_reason:
            raise NeedsOverride("Warnings need a reason.", tuple(warnings))
        shift = starts_at - current.starts_at
        targets = [current]
        if scope == "following" and current.series_id is not None:
            targets += [a for a in self.appointments.values() if a.series_id ==
                        current.series_id and a.starts_at > current.starts_at]
        moved = []
        for a in targets:
            new = replace(a, version=a.version + 1, provider_id=provider_id,
                          starts_at=a.starts_at + shift,
                          ends_at=a.starts_at + shift + (ends_at - starts_at),
                          override_reason=override_reason)
            self.appointments[a.id] = new
            moved.append(new)
        return BookingResult(tuple(moved), Changes(appointments=frozenset(a.id for a in moved)))

    def cancel(self, appointment_id: int, expected_version: int, reason: str, *,
               scope: str = "one") -> BookingResult:
        self._enter("cancel", appointment_id, expected_version, reason, scope=scope)
        if not reason.strip():
            raise ValidationError("reason", "say why it is cancelled")
        current = self._current(appointment_id, expected_version)
        targets = [current]
        if scope == "following" and current.series_id is not None:
            targets += [a for a in self.appointments.values() if a.series_id ==
                        current.series_id and a.starts_at > current.starts_at]
        done = []
        for a in targets:
            new = replace(a, version=a.version + 1, status="cancelled", cancel_reason=reason)
            self.appointments[a.id] = new
            done.append(new)
        return BookingResult(tuple(done), Changes(appointments=frozenset(a.id for a in done)))

    def set_status(self, appointment_id: int, expected_version: int, status: str, *,
                   reason: str = "") -> AppointmentInfo:
        self._enter("set_status", appointment_id, expected_version, status)
        current = self._current(appointment_id, expected_version)
        if status not in APPOINTMENT_TRANSITIONS.get(current.status, ()):
            raise IllegalTransition(
                f"An appointment that is {APPOINTMENT_STATUS_LABELS[current.status].lower()} "
                f"cannot be marked {APPOINTMENT_STATUS_LABELS[status].lower()}.")
        new = replace(current, version=current.version + 1, status=status)
        self.appointments[appointment_id] = new
        return new

    # ------------------------------------------------------------ waitlist

    def waitlist(self) -> tuple[WaitlistEntry, ...]:
        self._enter("waitlist")
        return tuple(self.entries.values())

    def add_to_waitlist(self, patient_id: int, *, provider_id: int | None, type_id: int | None,
                        minutes: int, earliest: date, latest: date | None,
                        part_of_day: str = "any", note: str = "") -> WaitlistEntry:
        self._enter("add_to_waitlist", patient_id, provider_id=provider_id, minutes=minutes,
                    note=note)
        entry = WaitlistEntry(next(self._ids), 1, patient_id, self._name(patient_id)[0],
                              provider_id, type_id, minutes, earliest, latest, part_of_day,
                              note, NOW.astimezone(UTC))
        self.entries[entry.id] = entry
        return entry

    def remove_from_waitlist(self, entry_id: int, expected_version: int,
                             reason: str = "") -> None:
        self._enter("remove_from_waitlist", entry_id, expected_version, reason)
        self.entries.pop(entry_id, None)

    def offers(self, day: date) -> tuple[SlotOffer, ...]:
        self._enter("offers", day)
        return tuple(o for o in self.offer_list if o.starts_at.astimezone(ZONE).date() == day
                     and any(e.id in self.entries for e in o.entries))


# --------------------------------------------------------------------------- the desk

SHOTS = "/tmp/shots-book"


def shot(widget: object, name: str) -> str:
    """Save what the widget shows now under /tmp/shots-book/ (looked at by hand)."""
    import os

    from PySide6.QtWidgets import QApplication, QWidget

    assert isinstance(widget, QWidget)
    QApplication.processEvents()  # test code only: let deferred layout run first
    os.makedirs(SHOTS, exist_ok=True)
    path = os.path.join(SHOTS, name)
    assert widget.grab().save(path), path
    return path


# Imported by the test modules (the gui conftest is shared with other work): registered
# under their fixture names, so a test's parameter never shadows an import.
@pytest.fixture(name="api")
def api_fixture(clinic: FakePatientsApi) -> FakeSchedulingApi:
    return FakeSchedulingApi(clinic)


@pytest.fixture(name="window")
def window_fixture(qtbot: QtBot) -> Iterator[QMainWindow]:
    """A main window whose work area is a text field the doctor is typing in."""
    win = QMainWindow()
    win.setWindowTitle("Dr. Assistant")
    editor = QLineEdit(win)
    editor.setObjectName("note-editor")
    win.setCentralWidget(editor)
    win.resize(1280, 800)
    qtbot.addWidget(win)
    win.show()
    yield win


def clipped_text(root: object) -> list[str]:
    """Visible labels and buttons narrower than their text needs (word-wrapped labels
    wrap instead, so they are judged by their height)."""
    from PySide6.QtWidgets import QAbstractButton, QLabel, QWidget

    assert isinstance(root, QWidget)
    found = []
    for widget in root.findChildren(QWidget):
        if not widget.isVisibleTo(root):
            continue
        if isinstance(widget, QLabel) and widget.text():
            if widget.wordWrap():
                needed = widget.heightForWidth(widget.width())
                if needed > widget.height() + 1:
                    found.append(f"{widget.text()[:40]!r}: height {widget.height()} < {needed}")
            elif widget.width() < widget.sizeHint().width() and not widget.pixmap():
                found.append(f"{widget.text()[:40]!r}: {widget.width()} < "
                             f"{widget.sizeHint().width()}")
        elif isinstance(widget, QAbstractButton) and widget.text():
            if widget.width() < widget.sizeHint().width():
                found.append(f"button {widget.text()!r}: {widget.width()} < "
                             f"{widget.sizeHint().width()}")
    return found
