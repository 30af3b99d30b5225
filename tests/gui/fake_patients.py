"""A fake patient registry at our own seam (the PatientsApi protocol), for presenter and
view tests: controllable results, per-query delays and raised errors."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime

from backend_client.dto import (
    AlertSummary,
    ClinicLocale,
    DuplicateCandidate,
    Identifier,
    PatientDraft,
    PatientRecord,
    PatientSummary,
    SearchPage,
)
from backend_client.errors import (
    Conflict,
    NotFound,
    PermissionDenied,
    PossibleDuplicate,
    ValidationError,
)
from backend_client.patients.api import PAGE_SIZE
from backend_client.sync.events import ChangeEvent
from ui.patients.formatting import DateFormatError, read_date


def draft(given: str, family: str, born: date | str | None = date(1980, 3, 12), *,
          sex: str = "female", **more: object) -> PatientDraft:
    return PatientDraft(given_name=given, family_name=family, birth_date=born, sex=sex,
                        **more)  # type: ignore[arg-type]


@dataclass
class Call:
    method: str
    args: tuple[object, ...]
    kwargs: dict[str, object] = field(default_factory=dict)
    finished: bool = False


class FakePatientsApi:
    """Searches by "every typed word is the start of a name, the MRN or the phone".

    Attributes:
        search_delays: seconds to sleep, per query text, before answering (on the pool
            thread when the real TaskRunner is used).
        fail: method name → an exception to raise on its next call (consumed).
        duplicates: what ``register`` reports unless ``allow_duplicates``.
    """

    def __init__(self, records: list[PatientRecord] | None = None) -> None:
        self.records: dict[int, PatientRecord] = {r.id: r for r in records or []}
        self.calls: list[Call] = []
        self.search_delays: dict[str, float] = {}
        self.fail: dict[str, BaseException] = {}
        self.duplicates: list[DuplicateCandidate] = []
        self.glass_broken: set[int] = set()
        # The clinic's phone country and date order (clinic_locale); tests change it.
        self.clinic = ClinicLocale()
        self._lock = threading.Lock()
        self._next_id = max(self.records, default=0) + 1

    # ------------------------------------------------------------ helpers

    def add(self, d: PatientDraft, *, alerts: tuple[AlertSummary, ...] = (),
            deceased_at: date | None = None, updated_by: str = "") -> PatientRecord:
        with self._lock:
            pid = self._next_id
            self._next_id += 1
        record = PatientRecord(id=pid, version=1, draft=d, mrn=f"M{pid:07d}",
                               deceased_at=deceased_at, alerts=alerts,
                               updated_at=datetime(2026, 11, 20, 9, 30, tzinfo=UTC),
                               updated_by=updated_by)
        self.records[pid] = record
        return record

    def change_behind_the_back(self, patient_id: int, by: str,
                               **changes: object) -> PatientRecord:
        """Another user saves this patient (the version moves on); the saved record."""
        old = self.records[patient_id]
        self.records[patient_id] = replace(
            old, version=old.version + 1, draft=replace(old.draft, **changes),  # type: ignore[arg-type]
            updated_by=by, updated_at=datetime(2026, 11, 27, 10, 42, tzinfo=UTC))
        return self.records[patient_id]

    def calls_to(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    def _enter(self, method: str, *args: object, **kwargs: object) -> Call:
        call = Call(method, args, kwargs)
        self.calls.append(call)
        error = self.fail.pop(method, None)
        if error is not None:
            call.finished = True
            raise error
        return call

    @staticmethod
    def summary(record: PatientRecord, matched_on: str = "") -> PatientSummary:
        d = record.draft
        born = d.birth_date if isinstance(d.birth_date, date) else date(1900, 1, 1)
        return PatientSummary(id=record.id, given_name=d.given_name, family_name=d.family_name,
                              middle_name=d.middle_name, birth_date=born, sex=d.sex,
                              mrn=record.mrn, phone=d.phone,
                              deceased=record.deceased_at is not None, matched_on=matched_on)

    # ------------------------------------------------------------ PatientsApi

    def search(self, text: str, *, offset: int = 0, limit: int = PAGE_SIZE) -> SearchPage:
        call = self._enter("search", text, offset=offset, limit=limit)
        delay = self.search_delays.get(text, 0.0)
        if delay:
            time.sleep(delay)
        words = text.casefold().split()
        found = []
        for r in sorted(self.records.values(),
                        key=lambda r: (r.draft.family_name, r.draft.given_name, r.id)):
            d = r.draft
            keys = [d.given_name.casefold(), d.family_name.casefold(), r.mrn.casefold(),
                    d.phone, *(p.family_name.casefold() for p in d.previous_names)]
            if words and all(any(k.startswith(w) for k in keys) for w in words):
                previous = any(p.family_name.casefold().startswith(w)
                               for p in d.previous_names for w in words)
                found.append(self.summary(r, "previous name" if previous else ""))
        call.finished = True
        items = tuple(found[offset:offset + limit])
        return SearchPage(text, offset, items, offset + limit < len(found))

    def get(self, patient_id: int, *, break_glass_reason: str | None = None) -> PatientRecord:
        call = self._enter("get", patient_id, break_glass_reason=break_glass_reason)
        call.finished = True
        if patient_id not in self.records:
            raise NotFound(f"There is no patient with id {patient_id}.")
        record = self.records[patient_id]
        if record.restricted and not break_glass_reason:
            raise PermissionDenied("This patient's record is restricted. To open it anyway, "
                                   "say why.", break_glass=True)
        if break_glass_reason:
            self.glass_broken.add(patient_id)  # for refetch (get asks again: simpler tests)
        return record

    def refetch(self, patient_id: int) -> PatientRecord:
        """As ``get`` (a restricted record needs the glass broken), not counted as an open."""
        call = self._enter("refetch", patient_id)
        call.finished = True
        if patient_id not in self.records:
            raise NotFound(f"There is no patient with id {patient_id}.")
        record = self.records[patient_id]
        if record.restricted and patient_id not in self.glass_broken:
            raise PermissionDenied("This patient's record is restricted. To open it anyway, "
                                   "say why.", break_glass=True)
        return record

    def clinic_locale(self) -> ClinicLocale:
        self._enter("clinic_locale").finished = True
        return self.clinic

    def find_duplicates(self, d: PatientDraft, *,
                        exclude_id: int | None = None) -> list[DuplicateCandidate]:
        self._enter("find_duplicates", d, exclude_id=exclude_id).finished = True
        return list(self.duplicates)

    def _check(self, d: PatientDraft) -> PatientDraft:
        errors: dict[str, str] = {}
        for name in ("given_name", "family_name"):
            if not getattr(d, name):
                errors[name] = "is required"
        born = d.birth_date
        if isinstance(born, str):
            try:
                born = read_date(born, self.clinic.day_first)
            except DateFormatError as exc:
                errors["birth_date"] = str(exc)
                born = None
        if born is None and "birth_date" not in errors:
            errors["birth_date"] = "is required"
        if d.sex not in ("female", "male", "other", "unknown"):
            errors["sex"] = "choose female, male, other or unknown"
        if errors:
            raise ValidationError.of(errors)
        return replace(d, birth_date=born)

    def register(self, d: PatientDraft, *, allow_duplicates: bool = False) -> PatientRecord:
        call = self._enter("register", d, allow_duplicates=allow_duplicates)
        call.finished = True
        clean = self._check(d)
        if self.duplicates and not allow_duplicates:
            raise PossibleDuplicate(tuple(self.duplicates))
        if not any(i.kind == "MRN" for i in clean.identifiers):
            clean = replace(clean, identifiers=(Identifier("MRN", f"M{self._next_id:07d}",
                                                           "clinic"), *clean.identifiers))
        return self.add(clean)

    def update(self, patient_id: int, expected_version: int,
               d: PatientDraft) -> PatientRecord:
        call = self._enter("update", patient_id, expected_version, d)
        call.finished = True
        current = self.records[patient_id]
        if expected_version != current.version:
            who = current.updated_by or "another user"
            raise Conflict(f"{who} saved changes to this patient at 10:42 on 27 Nov 2026, "
                           "while you were editing. What you typed is still in the form: "
                           "check their changes, then save again.",
                           current_version=current.version, changed_by=who)
        clean = self._check(d)
        record = replace(current, draft=clean, version=current.version + 1, updated_by="me")
        self.records[patient_id] = record
        return record

    def set_restricted(self, patient_id: int, restricted: bool) -> PatientRecord:
        self._enter("set_restricted", patient_id, restricted).finished = True
        current = self.records[patient_id]
        record = replace(current, restricted=restricted, version=current.version + 1)
        self.records[patient_id] = record
        return record

    def mark_deceased(self, patient_id: int, expected_version: int,
                      deceased_at: date, *, source: str = "") -> PatientRecord:
        call = self._enter("mark_deceased", patient_id, expected_version, deceased_at,
                           source=source)
        call.finished = True
        current = self.records[patient_id]
        if expected_version != current.version:
            raise Conflict("Someone else saved this patient.", current.version, "someone")
        record = replace(current, deceased_at=deceased_at, version=current.version + 1)
        self.records[patient_id] = record
        return record


def other_workstation(record: PatientRecord, action: str = "updated") -> ChangeEvent:
    """The change event another workstation's save of ``record`` publishes (another
    process: ``event.mine`` is false)."""
    return ChangeEvent(kind="patient", id=record.id, version=record.version, action=action,
                       user_id=7, workstation="desk-a", origin="another-process")
