"""``ChartService``: the chart's header, timeline and lists (problems, medications,
allergies and alerts) against PostgreSQL. Implements ``ChartApi`` (api.py).

What the database guarantees whatever this code does (migration 0010): reading needs
``chart.open`` and, for a restricted record, being one of its clinicians or having broken
the glass; writing needs the list's permission; nothing is deleted; who and when are the
session's person and the database's clock; versions move by one per change; a retired
entry needs a reason and stays retired; a closed encounter has a summary and its end time
is the database's. This service adds the sentences: every bad field named at once
(``ValidationError``), a stale version naming who changed it (``Conflict``), a refusal
that says why, and the change events (kind "chart", id = the patient, action = the
section), published after the commit.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import tzinfo
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, func, insert, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from backend_client.accounts.access import Access
from backend_client.chart import checks
from backend_client.chart import rows as q
from backend_client.chart.dto import (
    AlertDraft,
    AlertItem,
    ChartHeader,
    EncounterItem,
    MedicationDraft,
    MedicationItem,
    ProblemDraft,
    ProblemItem,
)
from backend_client.dto import Actor
from backend_client.errors import (
    Conflict,
    IllegalTransition,
    NotFound,
    PermissionDenied,
    ValidationError,
)
from backend_client.patients.service import RESTRICTED, PatientService
from backend_client.scheduling.booking import local_zone, sqlstate
from backend_client.stores.postgres.models import (
    Alert,
    Encounter,
    Medication,
    Patient,
    Problem,
    Provider,
    User,
)
from backend_client.sync.events import ChangeEvent, ChangePublisher, NullPublisher
from backend_client.uow import unit_of_work

if TYPE_CHECKING:
    from backend_client.backend import Backend
    from backend_client.chart.api import ChartApi

# table → (ORM class, the words for one entry, the section its events name)
_LISTS: dict[str, tuple[Any, str, str]] = {
    "problems": (Problem, "problem", "problem"),
    "medications": (Medication, "medication", "medication"),
    "alerts": (Alert, "alert", "alert"),
    "encounters": (Encounter, "encounter", "encounter"),
}
NOT_A_PROVIDER = ("You are not set up as a provider in this clinic, so an encounter cannot "
                  "be opened in your name. Ask an administrator to link your account to a "
                  "provider.")

REFUSED_BY_DATABASE = ("The clinic database refused this for your session: it may have "
                       "been locked or ended, or your role changed. Nothing was saved; sign "
                       "in again and retry.")


class _Refused(Exception):
    """A refusal to audit once the unit of work has rolled back."""

    def __init__(self, permission: str, error: PermissionDenied) -> None:
        super().__init__(error.message)
        self.permission = permission
        self.error = error


class ChartService:
    """Args:
        engine: the app's Engine (or a test's Connection in an outer transaction).
        access: who is acting (``SessionAccess``; ``SystemAccess`` for operator tools).
        publisher: where change events go after each commit.
        tz: the clinic's zone: which appointments are "today" (by the database's clock),
            and the times in sentences.
    """

    def __init__(self, engine: Engine | Connection, access: Access, *,
                 publisher: ChangePublisher | None = None, tz: tzinfo | None = None) -> None:
        self.engine = engine
        self.access = access
        self.publisher: ChangePublisher = publisher or NullPublisher()
        self.tz = tz or local_zone()
        # The patient record as the registry builds it (one implementation of what a
        # record shows); its methods are used inside this service's own transactions.
        self._patients = PatientService(engine, access, publisher=self.publisher)

    # ------------------------------------------------------------------ plumbing

    @contextmanager
    def _work(self, actor: Actor, patient_id: int | None = None) -> Iterator[Any]:
        """A unit of work for the actor; refusals raised inside are audited after it has
        rolled back (an event written inside would be rolled back with it)."""
        try:
            with unit_of_work(self.engine, token=actor.token or None,
                              publisher=self.publisher) as uow:
                yield uow
        except _Refused as refused:
            self.access.audit_denial(actor, refused.permission, patient_id)
            raise refused.error from None
        except DBAPIError as exc:
            # Row security or the stamping trigger refused the session: it was locked,
            # ended or lost a permission after this service checked it.
            if sqlstate(exc) == "42501":
                raise PermissionDenied(REFUSED_BY_DATABASE) from None
            raise

    def _reach(self, s: Session, actor: Actor, patient_id: int) -> None:
        """May this session reach the patient's clinical rows? The database's own answer
        (``dra_may_open``, what its row security asks), so that a restricted chart is
        refused in a sentence instead of showing as empty."""
        if not actor.token:
            if s.get(Patient, patient_id) is None:
                raise NotFound(f"There is no patient with id {patient_id}.")
            return  # the operator's tools
        row = s.execute(select(Patient.restricted, func.dra_may_open(Patient.id))
                        .where(Patient.id == patient_id)).first()
        if row is None:
            if s.execute(select(func.dra_session_user())).scalar_one() is None:
                # Row security hid the patient because the session is no longer live.
                raise PermissionDenied(REFUSED_BY_DATABASE)
            raise NotFound(f"There is no patient with id {patient_id}.")
        restricted, may_open = row
        if restricted and not may_open:
            if actor.can("chart.break_glass"):
                raise _Refused("chart.restricted", PermissionDenied(
                    RESTRICTED + " Open the chart again and say why: your reason is "
                    "recorded and reviewed.", break_glass=True))
            raise _Refused("chart.break_glass",
                           PermissionDenied(RESTRICTED + " Your role cannot open it."))

    def _event(self, uow: Any, actor: Actor, patient_id: int, version: int,
               section: str) -> None:
        uow.announce(ChangeEvent(kind="chart", id=patient_id, version=version, action=section,
                                 user_id=actor.user_id, workstation=actor.workstation))

    def _locked(self, s: Session, actor: Actor, table: str, row_id: int, version: int
                ) -> Any:
        """The row, locked, after checking its patient is within reach and ``version`` is
        the one stored; else ``NotFound`` or ``Conflict`` naming who changed it."""
        model, noun, _ = _LISTS[table]
        row = s.execute(select(model.patient_id, model.version, model.status,
                               model.updated_at, User.display_name)
                        .outerjoin(User, User.id == model.updated_by)
                        .where(model.id == row_id).with_for_update(of=model)).first()
        if row is None:
            raise NotFound(f"There is no {noun} with id {row_id}; it may have been "
                           "recorded in a chart you cannot open.")
        self._reach(s, actor, row.patient_id)
        if row.version != version:
            who = row.display_name or q.SYSTEM
            at = row.updated_at.astimezone(self.tz).strftime("%H:%M on %d %b %Y")
            raise Conflict(f"{who} changed this {noun} at {at}, after you opened it. Look at "
                           "it again, then make your change once more.",
                           current_version=row.version, changed_by=who)
        return row

    def _change(self, s: Session, actor: Actor, table: str, row_id: int,
                values: dict[str, Any]) -> None:
        model = _LISTS[table][0]
        try:
            s.execute(update(model).where(model.id == row_id)
                      .values(**values, updated_by=actor.user_id, updated_at=func.now(),
                              version=model.version + 1)
                      .execution_options(synchronize_session=False))
        except DBAPIError as exc:
            if sqlstate(exc) in ("DRA01", "DRA02"):
                raise IllegalTransition(_first_line(exc)) from None
            raise

    # ------------------------------------------------------------------ header

    def header(self, patient_id: int) -> ChartHeader:
        """One transaction of a few indexed queries (the record, the active alerts, today's
        appointment, the open encounter). Not audited as an open: the chart's opening is
        (``PatientService.get``)."""
        actor = self.access.require("chart.open", patient_id=patient_id)
        with self._work(actor, patient_id) as uow:
            s = uow.session
            self._reach(s, actor, patient_id)
            record = self._patients._record(s, patient_id, clinical=True)
            active = q.alerts(s, patient_id)
            return ChartHeader(
                patient=record,
                allergies=tuple(a for a in active if a.is_allergy),
                alerts=tuple(a for a in active if not a.is_allergy),
                appointment_today=q.appointment_today(s, patient_id, self.tz),
                open_encounter=q.open_encounter(s, patient_id, actor.user_id))

    # ------------------------------------------------------------------ encounters

    def timeline(self, patient_id: int) -> tuple[EncounterItem, ...]:
        actor = self.access.require("chart.open", patient_id=patient_id)
        with self._work(actor, patient_id) as uow:
            self._reach(uow.session, actor, patient_id)
            return q.timeline(uow.session, patient_id)

    def open_encounter(self, patient_id: int, reason: str) -> EncounterItem:
        actor = self.access.require("note.write", patient_id=patient_id)
        clean = checks.encounter_reason(reason)
        with self._work(actor, patient_id) as uow:
            s = uow.session
            self._reach(s, actor, patient_id)
            provider = s.execute(select(Provider.id).where(
                Provider.user_id == actor.user_id, Provider.is_active)
                .order_by(Provider.id).limit(1)).scalar_one_or_none()
            if provider is None:
                raise PermissionDenied(NOT_A_PROVIDER)
            already = s.execute(select(Encounter.started_at).where(
                Encounter.patient_id == patient_id, Encounter.provider_id == provider,
                Encounter.status == "open")).scalars().first()
            if already is not None:
                raise IllegalTransition(
                    "You already have an open encounter with this patient (started "
                    f"{already.astimezone(self.tz).strftime('%H:%M on %d %b %Y')}): close it "
                    "with a summary before opening another.")
            new_id = s.execute(
                insert(Encounter).values(
                    patient_id=patient_id, provider_id=provider, started_at=func.now(),
                    status="open", reason=clean, created_by=actor.user_id,
                    updated_by=actor.user_id)
                .returning(Encounter.id)).scalar_one()
            item = q.encounter(s, new_id)
            assert item is not None
            self._event(uow, actor, patient_id, item.version, "encounter")
            uow.commit()
        return item

    def close_encounter(self, encounter_id: int, version: int, summary: str) -> EncounterItem:
        actor = self.access.require("note.write")
        clean = checks.summary(summary)
        with self._work(actor) as uow:
            s = uow.session
            row = self._locked(s, actor, "encounters", encounter_id, version)
            if row.status != "open":
                raise IllegalTransition(f"This encounter is already {row.status}; only an "
                                        "open encounter is closed.")
            self._change(s, actor, "encounters", encounter_id,
                         {"status": "closed", "summary": clean, "ended_at": func.now()})
            item = q.encounter(s, encounter_id)
            assert item is not None
            self._event(uow, actor, row.patient_id, item.version, "encounter")
            uow.commit()
        return item

    # ------------------------------------------------------------------ problems

    def problems(self, patient_id: int, *, include_retired: bool = False
                 ) -> tuple[ProblemItem, ...]:
        actor = self.access.require("chart.open", patient_id=patient_id)
        with self._work(actor, patient_id) as uow:
            self._reach(uow.session, actor, patient_id)
            return q.problems(uow.session, patient_id, include_retired)

    def add_problem(self, patient_id: int, draft: ProblemDraft) -> ProblemItem:
        actor = self.access.require("problem.write", patient_id=patient_id)
        d = checks.problem(draft)
        values = {"description": d.description, "code": d.code, "onset_date": d.onset_date,
                  "status": d.status, "comment": d.comment}
        new_id = self._add(actor, "problems", patient_id, values)
        return self._after_write(actor, patient_id, "problems", new_id, q.problem)

    def update_problem(self, problem_id: int, version: int, draft: ProblemDraft
                       ) -> ProblemItem:
        actor = self.access.require("problem.write")
        d = checks.problem(draft)
        values = {"description": d.description, "code": d.code, "onset_date": d.onset_date,
                  "status": d.status, "comment": d.comment}
        return self._edit(actor, "problems", problem_id, version, values, q.problem)

    def retire_problem(self, problem_id: int, version: int, reason: str) -> ProblemItem:
        actor = self.access.require("problem.write")
        why = checks.reason(reason, "retiring this problem")
        return self._edit(actor, "problems", problem_id, version,
                          {"status": "retired", "retired_reason": why}, q.problem)

    # ------------------------------------------------------------------ medications

    def medications(self, patient_id: int, *, include_retired: bool = False
                    ) -> tuple[MedicationItem, ...]:
        actor = self.access.require("chart.open", patient_id=patient_id)
        with self._work(actor, patient_id) as uow:
            self._reach(uow.session, actor, patient_id)
            return q.medications(uow.session, patient_id, include_retired)

    @staticmethod
    def _medication_values(d: MedicationDraft) -> dict[str, Any]:
        return {"name": d.name, "dose": d.dose, "route": d.route, "frequency": d.frequency,
                "started_on": d.started_on, "stopped_on": d.stopped_on, "status": d.status,
                "comment": d.comment}

    def add_medication(self, patient_id: int, draft: MedicationDraft) -> MedicationItem:
        actor = self.access.require("medication.write", patient_id=patient_id)
        values = self._medication_values(checks.medication(draft))
        new_id = self._add(actor, "medications", patient_id, values)
        return self._after_write(actor, patient_id, "medications", new_id, q.medication)

    def update_medication(self, medication_id: int, version: int, draft: MedicationDraft
                          ) -> MedicationItem:
        actor = self.access.require("medication.write")
        values = self._medication_values(checks.medication(draft))
        return self._edit(actor, "medications", medication_id, version, values,
                          q.medication)

    def retire_medication(self, medication_id: int, version: int, reason: str
                          ) -> MedicationItem:
        actor = self.access.require("medication.write")
        why = checks.reason(reason, "retiring this medication")
        return self._edit(actor, "medications", medication_id, version,
                          {"status": "retired", "retired_reason": why}, q.medication)

    # ------------------------------------------------------------------ alerts

    def alerts(self, patient_id: int, *, include_retired: bool = False
               ) -> tuple[AlertItem, ...]:
        actor = self.access.require("chart.open", patient_id=patient_id)
        with self._work(actor, patient_id) as uow:
            self._reach(uow.session, actor, patient_id)
            return q.alerts(uow.session, patient_id, include_retired=include_retired)

    def add_alert(self, patient_id: int, draft: AlertDraft) -> AlertItem:
        actor = self.access.require("alert.write", patient_id=patient_id)
        d = checks.alert(draft, status_may_change=False)
        values = {"kind": d.kind, "description": d.description, "severity": d.severity,
                  "reaction": d.reaction, "onset_date": d.onset_date, "status": "active"}
        new_id = self._add(actor, "alerts", patient_id, values)
        return self._after_write(actor, patient_id, "alerts", new_id, q.alert)

    def update_alert(self, alert_id: int, version: int, draft: AlertDraft) -> AlertItem:
        """Edits an alert; an inactive or resolved one made active again loses its
        retirement reason (it is no longer retired)."""
        actor = self.access.require("alert.write")

        def values(row: Any) -> dict[str, Any]:
            d = checks.alert(draft, status_may_change=row.status != "active")
            out = {"kind": d.kind, "description": d.description, "severity": d.severity,
                   "reaction": d.reaction, "onset_date": d.onset_date, "status": d.status}
            if d.status == "active":
                out["retired_reason"] = ""
            return out

        return self._edit(actor, "alerts", alert_id, version, values, q.alert)

    def retire_alert(self, alert_id: int, version: int, reason: str, *,
                     status: str = "inactive") -> AlertItem:
        """``status``: "inactive" (no longer applies, or entered in error) or "resolved"
        (an addition to ``ChartApi``; optional)."""
        actor = self.access.require("alert.write")
        errors: dict[str, str] = {}
        try:
            why = checks.reason(reason, "making this alert inactive")
        except ValidationError as exc:
            errors.update(exc.errors)
        if status not in ("inactive", "resolved"):
            errors["status"] = "A retired alert is inactive or resolved."
        if errors:
            raise ValidationError.of(errors)
        return self._edit(actor, "alerts", alert_id, version,
                          {"status": status, "retired_reason": why}, q.alert)

    # ------------------------------------------------------------------ writes

    def _add(self, actor: Actor, table: str, patient_id: int, values: dict[str, Any]) -> int:
        """Inserts and commits; returns the new id (read back in a fresh transaction by
        :meth:`_after_write`, after the audit chain's lock is released)."""
        model = _LISTS[table][0]
        section = _LISTS[table][2]
        with self._work(actor, patient_id) as uow:
            s = uow.session
            self._reach(s, actor, patient_id)
            new_id = int(s.execute(
                insert(model).values(
                    patient_id=patient_id, created_by=actor.user_id,
                    updated_by=actor.user_id, **values)
                .returning(model.id)).scalar_one())
            self._event(uow, actor, patient_id, 1, section)
            uow.commit()
        return new_id

    def _edit(self, actor: Actor, table: str, row_id: int, version: int,
              values: dict[str, Any] | Callable[[Any], dict[str, Any]],
              read: Callable[[Session, int], Any]) -> Any:
        _, noun, section = _LISTS[table]
        with self._work(actor) as uow:
            s = uow.session
            row = self._locked(s, actor, table, row_id, version)
            if row.status == "retired":
                raise IllegalTransition(f"This {noun} was retired; a retired entry is not "
                                        "changed. Add it again if it was retired by mistake.")
            self._change(s, actor, table, row_id,
                         values(row) if callable(values) else values)
            self._event(uow, actor, row.patient_id, version + 1, section)
            uow.commit()
            patient_id = row.patient_id
        return self._after_write(actor, patient_id, table, row_id, read)

    def _after_write(self, actor: Actor, patient_id: int, table: str, row_id: int,
                     read: Callable[[Session, int], Any]) -> Any:
        with self._work(actor, patient_id) as uow:
            item = read(uow.session, row_id)
        if item is None:  # pragma: no cover - the row was just written in reach
            raise NotFound(f"The {_LISTS[table][1]} just saved cannot be read back.")
        return item


def _first_line(exc: DBAPIError) -> str:
    """The database's own sentence (migration 0010's triggers write them for people)."""
    diag = getattr(exc.orig, "diag", None)
    message = str(getattr(diag, "message_primary", "") or "This change is not allowed")
    return message[:1].upper() + message[1:] + "."


def build_chart(backend: Backend, access: Access, publisher: ChangePublisher | None, *,
                tz: tzinfo | None = None) -> ChartService:
    """The chart service as the composition root builds it: the app's engine, the
    process's change publisher, the clinic's zone (default this computer's)."""
    return ChartService(backend.engine, access, publisher=publisher, tz=tz)


if TYPE_CHECKING:
    def _implements(service: ChartService) -> ChartApi:  # mypy checks the protocol here
        return service
