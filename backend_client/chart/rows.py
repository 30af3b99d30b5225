"""Reads of the chart: rows to frozen DTOs. Every function takes the caller's Session (its
transaction names the signed-in session, so row security applies) and selects columns, not
ORM objects (nothing stale from an identity map; a 200-encounter timeline loads fast).

Who recorded and changed an entry are the ``created_by``/``updated_by`` the database
stamped from the session, joined to ``users`` in the same query; the times are its
``now()``."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import datetime, tzinfo
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session, aliased

from backend_client.chart.dto import (
    AlertDraft,
    AlertItem,
    EncounterItem,
    MedicationDraft,
    MedicationItem,
    ProblemDraft,
    ProblemItem,
    Stamp,
)
from backend_client.dto import AppointmentInfo
from backend_client.scheduling import queries as sq
from backend_client.scheduling.booking import zone_name
from backend_client.stores.postgres.models import (
    Alert,
    Appointment,
    Encounter,
    Medication,
    Problem,
    Provider,
    User,
)

SYSTEM = "System"  # rows written by the operator's tools (seed, migrations) name no person
SEVERITY_RANK = {"high": 0, "moderate": 1, "low": 2}


def _stamped(model: Any, *columns: Any) -> Any:
    """A select of ``columns`` with the stamp's four columns last."""
    creator, updater = aliased(User), aliased(User)
    return (select(*columns, creator.display_name, model.created_at, updater.display_name,
                   model.updated_at)
            .outerjoin(creator, creator.id == model.created_by)
            .outerjoin(updater, updater.id == model.updated_by))


def _stamp(r: Sequence[Any]) -> Stamp:
    created_by, created_at, updated_by, updated_at = r[-4:]
    return Stamp(created_by or SYSTEM, created_at, updated_by or SYSTEM, updated_at)


# ------------------------------------------------------------------ problems

_PROBLEM = (Problem.id, Problem.version, Problem.patient_id, Problem.description,
            Problem.code, Problem.onset_date, Problem.status, Problem.comment,
            Problem.retired_reason)


@functools.cache
def _problem_query() -> Any:
    return _stamped(Problem, *_PROBLEM)


def _problem(r: Sequence[Any]) -> ProblemItem:
    id_, version, patient, description, code, onset, status, comment, retired = r[:9]
    return ProblemItem(id_, version, patient,
                       ProblemDraft(description, code, onset, status, comment), retired,
                       _stamp(r))


def problems(s: Session, patient_id: int, include_retired: bool) -> tuple[ProblemItem, ...]:
    """Active first, then resolved (then retired), each newest first."""
    q = _problem_query().where(Problem.patient_id == patient_id)
    if not include_retired:
        q = q.where(Problem.status != "retired")
    rank = case({"active": 0, "resolved": 1}, value=Problem.status, else_=2)
    q = q.order_by(rank, Problem.onset_date.desc().nulls_last(), Problem.id.desc())
    return tuple(_problem(r) for r in s.execute(q))


def problem(s: Session, problem_id: int) -> ProblemItem | None:
    r = s.execute(_problem_query().where(Problem.id == problem_id)).first()
    return _problem(r) if r is not None else None


# ------------------------------------------------------------------ medications

_MEDICATION = (Medication.id, Medication.version, Medication.patient_id, Medication.name,
               Medication.dose, Medication.route, Medication.frequency,
               Medication.started_on, Medication.stopped_on, Medication.status,
               Medication.comment, Medication.prescription_id, Medication.retired_reason)


@functools.cache
def _medication_query() -> Any:
    return _stamped(Medication, *_MEDICATION)


def _medication(r: Sequence[Any]) -> MedicationItem:
    (id_, version, patient, name, dose, route, frequency, started, stopped, status, comment,
     prescription, retired) = r[:13]
    return MedicationItem(id_, version, patient,
                          MedicationDraft(name, dose, route, frequency, started, stopped,
                                          status, comment),
                          prescription, retired, _stamp(r))


def medications(s: Session, patient_id: int, include_retired: bool
                ) -> tuple[MedicationItem, ...]:
    """Active first (by name), then stopped (most recently stopped first), then retired."""
    q = _medication_query().where(Medication.patient_id == patient_id)
    if not include_retired:
        q = q.where(Medication.status != "retired")
    rank = case({"active": 0, "stopped": 1}, value=Medication.status, else_=2)
    q = q.order_by(rank, Medication.stopped_on.desc().nulls_first(),
                   func.lower(Medication.name), Medication.id)
    return tuple(_medication(r) for r in s.execute(q))


def medication(s: Session, medication_id: int) -> MedicationItem | None:
    r = s.execute(_medication_query().where(Medication.id == medication_id)).first()
    return _medication(r) if r is not None else None


# ------------------------------------------------------------------ alerts

_ALERT = (Alert.id, Alert.version, Alert.patient_id, Alert.kind, Alert.description,
          Alert.severity, Alert.reaction, Alert.onset_date, Alert.status,
          Alert.retired_reason)


@functools.cache
def _alert_query() -> Any:
    return _stamped(Alert, *_ALERT)


def _alert(r: Sequence[Any]) -> AlertItem:
    id_, version, patient, kind, description, severity, reaction, onset, status, retired = r[:10]
    return AlertItem(id_, version, patient,
                     AlertDraft(kind, description, severity, reaction, onset, status),
                     retired, _stamp(r))


def alerts(s: Session, patient_id: int, *, include_retired: bool = False
           ) -> tuple[AlertItem, ...]:
    """Active ones first, most severe first, then newest first."""
    q = _alert_query().where(Alert.patient_id == patient_id)
    if not include_retired:
        q = q.where(Alert.status == "active")
    active = case((Alert.status == "active", 0), else_=1)
    severity = case(SEVERITY_RANK, value=Alert.severity, else_=3)
    q = q.order_by(active, severity, Alert.id.desc())
    return tuple(_alert(r) for r in s.execute(q))


def alert(s: Session, alert_id: int) -> AlertItem | None:
    r = s.execute(_alert_query().where(Alert.id == alert_id)).first()
    return _alert(r) if r is not None else None


# ------------------------------------------------------------------ encounters

_ENCOUNTER = (Encounter.id, Encounter.version, Encounter.patient_id, Encounter.provider_id,
              Provider.title, Provider.given_name, Provider.family_name,
              Encounter.appointment_id, Encounter.started_at, Encounter.ended_at,
              Encounter.status, Encounter.reason, Encounter.summary)


@functools.cache
def _encounter_query() -> Any:
    return _stamped(Encounter, *_ENCOUNTER).join(Provider,
                                                 Provider.id == Encounter.provider_id)


def _encounter(r: Sequence[Any]) -> EncounterItem:
    (id_, version, patient, provider, title, given, family, appointment, started, ended,
     status, reason, summary) = r[:13]
    return EncounterItem(id_, version, patient, provider,
                         sq.provider_name(title, given, family), appointment, started,
                         ended, status, reason, summary, _stamp(r))


def timeline(s: Session, patient_id: int) -> tuple[EncounterItem, ...]:
    q = (_encounter_query().where(Encounter.patient_id == patient_id)
         .order_by(Encounter.started_at.desc(), Encounter.id.desc()))
    return tuple(_encounter(r) for r in s.execute(q))


def encounter(s: Session, encounter_id: int) -> EncounterItem | None:
    r = s.execute(_encounter_query().where(Encounter.id == encounter_id)).first()
    return _encounter(r) if r is not None else None


def open_encounter(s: Session, patient_id: int, user_id: int | None) -> EncounterItem | None:
    """The patient's open encounter: the signed-in clinician's own if they have one, else
    the one opened last."""
    mine = case((Provider.user_id == user_id, 0), else_=1) if user_id is not None else None
    q = _encounter_query().where(Encounter.patient_id == patient_id,
                                 Encounter.status == "open")
    q = q.order_by(*(o for o in (mine, Encounter.started_at.desc(), Encounter.id.desc())
                     if o is not None)).limit(1)
    r = s.execute(q).first()
    return _encounter(r) if r is not None else None


# ------------------------------------------------------------------ today's appointment


def appointment_today(s: Session, patient_id: int, tz: tzinfo) -> AppointmentInfo | None:
    """The patient's current or next appointment today, today being the database's date in
    the clinic's zone (a workstation's wrong clock changes nothing); else today's last one
    (completed, say). Cancelled and no-show ones are not shown."""
    zone = zone_name(tz)
    local_now = func.timezone(zone, func.now())
    start = func.timezone(zone, func.date_trunc("day", local_now))
    end = func.timezone(zone, func.date_trunc("day", local_now) + func.make_interval(0, 0, 0, 1))
    q = (sq._appointment_query()
         .add_columns(func.now())
         .where(Appointment.patient_id == patient_id, Appointment.starts_at >= start,
                Appointment.starts_at < end,
                Appointment.status.notin_(("cancelled", "no_show")))
         .order_by(Appointment.starts_at, Appointment.id))
    rows = s.execute(q).all()
    if not rows:
        return None
    now: datetime = rows[0][-1]
    infos = [sq._info(r[:-1]) for r in rows]
    upcoming = [a for a in infos if a.ends_at > now]
    return upcoming[0] if upcoming else infos[-1]
