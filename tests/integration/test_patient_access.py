"""The patient registry enforces permissions itself, for the person signed in (a real
session in Redis): role by action, reception's demographics-only view, restricted charts
and breaking the glass."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date
from typing import Any

import pytest
from sqlalchemy import Connection, text

from backend_client.accounts.access import SystemAccess
from backend_client.audit.service import AuditService
from backend_client.backend import Backend
from backend_client.dto import PatientRecord
from backend_client.errors import PermissionDenied
from backend_client.patients.service import PatientService
from tests.integration.conftest import TODAY, add_user, signed_in
from tests.integration.test_patient_registry import draft

ROLES = ("doctor", "nurse", "receptionist", "admin")


@pytest.fixture
def system(db: Connection) -> PatientService:
    return PatientService(db, SystemAccess("ws-admin"), today=lambda: TODAY)


@pytest.fixture
def as_role(db: Connection, backend: Backend) -> Callable[[str], tuple[PatientService, int]]:
    def make(role: str) -> tuple[PatientService, int]:
        uid = add_user(db, (role,), display_name=f"{role.title()} Person")
        access = signed_in(backend, db, uid, workstation=f"ws-{role}")
        return PatientService(db, access, today=lambda: TODAY), uid
    return make


@pytest.fixture
def patient(system: PatientService, db: Connection) -> PatientRecord:
    rec = system.register(draft(family_name="Accesstest", given_name="Paula"))
    db.execute(text("INSERT INTO alerts (patient_id, kind, severity, description, status) "
                    "VALUES (:p, 'allergy', 'high', 'Penicillin', 'active')"), {"p": rec.id})
    return system.get(rec.id)


def _book(db: Connection, user_id: int, patient_id: int, *, days: int, status: str) -> None:
    """Make ``user_id`` a provider who has seen the patient (or is seeing them now): an
    appointment ``days`` from now that reached ``status``, through arrival, which opened
    the encounter that makes them one of the patient's clinicians (a booking alone does
    not: migration 0009)."""
    provider = db.execute(text(
        "INSERT INTO providers (user_id, given_name, family_name, specialty) "
        "VALUES (:u, 'Tara', 'Treating', 'General practice') RETURNING id"),
        {"u": user_id}).scalar_one()
    appointment = db.execute(text(
        "INSERT INTO appointments (provider_id, patient_id, appointment_type_id, starts_at, "
        "ends_at) SELECT :pr, :pa, min(id), now() + make_interval(days => :d), "
        "now() + make_interval(days => :d, mins => 15) FROM appointment_types RETURNING id"),
        {"pr": provider, "pa": patient_id, "d": days}).scalar_one()
    path = {"checked_in": ["checked_in"],
            "completed": ["checked_in", "in_progress", "completed"]}[status]
    for step in path:
        db.execute(text("UPDATE appointments SET status = :s WHERE id = :a"),
                   {"s": step, "a": appointment})


ACTIONS: dict[str, Callable[[PatientService, PatientRecord], Any]] = {
    "search": lambda s, p: s.search("Accesstest"),
    "open": lambda s, p: s.get(p.id),
    "duplicates": lambda s, p: s.find_duplicates(p.draft),
    "register": lambda s, p: s.register(replace(p.draft, identifiers=()),
                                        allow_duplicates=True),
    "edit": lambda s, p: s.update(p.id, p.version, replace(p.draft, phone="+1 555 010 0100")),
    "deceased": lambda s, p: s.mark_deceased(p.id, p.version, date(2026, 1, 2)),
    "restrict": lambda s, p: s.set_restricted(p.id, True),
}
ALLOWED = {
    "search": {"doctor", "nurse", "receptionist"},
    "open": {"doctor", "nurse", "receptionist"},
    "duplicates": {"doctor", "nurse", "receptionist"},
    "register": {"doctor", "nurse", "receptionist"},
    "edit": {"doctor", "nurse", "receptionist"},
    "deceased": {"doctor", "nurse", "receptionist"},
    "restrict": {"doctor"},
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", list(ACTIONS))
def test_every_role_and_patient_action(as_role: Callable[[str], tuple[PatientService, int]],
                                       patient: PatientRecord, db: Connection, role: str,
                                       action: str) -> None:
    service, uid = as_role(role)
    before = db.execute(text("SELECT max(id) FROM audit_events")).scalar_one()
    if role in ALLOWED[action]:
        ACTIONS[action](service, patient)
        actions = db.execute(text("SELECT action FROM audit_events WHERE id > :b"),
                             {"b": before}).scalars().all()
        assert "access.denied" not in actions
        # Every read of the chart and every write is in the trail, as this user.
        expected = {"open": {"chart.open", "patient.read"}, "register": {"patient.register"},
                    "edit": {"patient.update"}, "deceased": {"patient.deceased"},
                    "restrict": {"patient.restrict"}}.get(action)
        if expected:
            assert set(actions) & expected
        return
    with pytest.raises(PermissionDenied, match="Your role does not allow you to"):
        ACTIONS[action](service, patient)
    # Nothing was written, and the refusal is in the audit trail.
    assert db.execute(text("SELECT version FROM patients WHERE id = :p"),
                      {"p": patient.id}).scalar_one() == patient.version
    events = db.execute(text("SELECT action, user_id, workstation FROM audit_events "
                             "WHERE id > :b ORDER BY id"), {"b": before}).all()
    assert [tuple(e) for e in events] == [("access.denied", uid, f"ws-{role}")]


def test_reception_sees_demographics_but_not_alerts(
        as_role: Callable[[str], tuple[PatientService, int]], patient: PatientRecord,
        db: Connection) -> None:
    reception, uid = as_role("receptionist")
    seen = reception.get(patient.id)
    assert seen.draft.family_name == "Accesstest" and seen.mrn == patient.mrn
    assert seen.alerts == () and not seen.clinical
    doctor, _ = as_role("doctor")
    assert [a.description for a in doctor.get(patient.id).alerts] == ["Penicillin"]
    actions = [(e.action, e.user_id) for e in AuditService(db).report_for_patient(patient.id)]
    assert ("patient.read", uid) in actions


def test_a_restricted_chart_needs_a_reason_unless_you_treat_the_patient(
        as_role: Callable[[str], tuple[PatientService, int]], patient: PatientRecord,
        db: Connection, system: PatientService) -> None:
    system.set_restricted(patient.id, True)
    doctor, doctor_id = as_role("doctor")
    with pytest.raises(PermissionDenied) as info:
        doctor.get(patient.id)
    assert info.value.break_glass and "restricted" in info.value.message
    opened = doctor.get(patient.id, break_glass_reason="  Emergency care: collapsed in "
                                                        "the waiting room  ")
    assert opened.restricted and opened.alerts
    glass = AuditService(db).break_glass_report(days=1 / 24)
    assert [(g.user_id, g.patient_id, g.reason, g.workstation) for g in glass][:1] == [
        (doctor_id, patient.id, "Emergency care: collapsed in the waiting room",
         "ws-doctor")]
    assert glass[0].user_name == "Doctor Person"
    report = [(e.action, e.user_id) for e in AuditService(db).report_for_patient(patient.id)]
    assert report[-2:] == [("chart.break_glass", doctor_id), ("chart.open", doctor_id)]

    # The patient's own clinician (the patient arrived for them) opens it without a reason.
    treating, treating_id = as_role("doctor")
    _book(db, treating_id, patient.id, days=0, status="checked_in")
    assert treating.get(patient.id).restricted

    # A nurse may break the glass too; reception sees demographics with no reason asked.
    nurse, _ = as_role("nurse")
    with pytest.raises(PermissionDenied) as nurse_info:
        nurse.get(patient.id)
    assert nurse_info.value.break_glass
    reception, _ = as_role("receptionist")
    assert reception.get(patient.id).draft.family_name == "Accesstest"


def test_writes_to_a_restricted_record_need_the_glass_broken_too(
        as_role: Callable[[str], tuple[PatientService, int]], patient: PatientRecord,
        db: Connection, system: PatientService) -> None:
    system.set_restricted(patient.id, True)
    current = system.get(patient.id)
    nurse, nurse_id = as_role("nurse")
    edited = replace(current.draft, phone="+1 555 010 0199")
    for attempt in (lambda: nurse.update(patient.id, current.version, edited),
                    lambda: nurse.mark_deceased(patient.id, current.version, date(2026, 1, 2))):
        with pytest.raises(PermissionDenied) as info:
            attempt()
        assert info.value.break_glass
    # Nothing was written, and each refusal is in the trail.
    assert system.get(patient.id).version == current.version
    denials = db.execute(text("SELECT object_id FROM audit_events WHERE user_id = :u "
                              "AND action = 'access.denied'"), {"u": nurse_id}).scalars().all()
    assert denials == ["chart.restricted", "chart.restricted"]

    # Once the nurse broke the glass (with a reason), this session may reopen and edit the
    # chart without being asked again; the report lists the one reason.
    nurse.get(patient.id, break_glass_reason="The patient asked me to")
    nurse.get(patient.id)
    saved = nurse.update(patient.id, current.version, edited)
    assert saved.draft.phone == "(555) 010-0199" and saved.alerts  # shown national
    glass = [g for g in AuditService(db).break_glass_report() if g.patient_id == patient.id]
    assert [(g.user_id, g.reason) for g in glass] == [(nurse_id, "The patient asked me to")]

    # Another session of the same nurse is asked again.
    again, _ = as_role("nurse")
    with pytest.raises(PermissionDenied):
        again.get(patient.id)


def test_only_the_patients_clinicians_lift_a_restriction(
        as_role: Callable[[str], tuple[PatientService, int]], patient: PatientRecord,
        system: PatientService, db: Connection) -> None:
    system.set_restricted(patient.id, True)
    doctor, _ = as_role("doctor")
    with pytest.raises(PermissionDenied) as info:
        doctor.set_restricted(patient.id, False)
    assert info.value.message == ("Only the clinicians who see this patient can lift the "
                                  "restriction on their record.")
    assert not info.value.break_glass  # no reason makes it possible
    assert system.get(patient.id).restricted
    # The patient's own doctor (an encounter with them) may.
    treating, treating_id = as_role("doctor")
    _book(db, treating_id, patient.id, days=-7, status="completed")
    assert not treating.set_restricted(patient.id, False).restricted


def test_breaking_the_glass_does_not_let_anyone_lift_the_restriction(
        as_role: Callable[[str], tuple[PatientService, int]], patient: PatientRecord,
        db: Connection, system: PatientService) -> None:
    system.set_restricted(patient.id, True)
    doctor, doctor_id = as_role("doctor")
    doctor.get(patient.id, break_glass_reason="Curious")
    with pytest.raises(PermissionDenied, match="Only the clinicians who see this patient"):
        doctor.set_restricted(patient.id, False)
    assert system.get(patient.id).restricted
    denied = db.execute(text("SELECT object_id FROM audit_events WHERE user_id = :u AND "
                             "action = 'access.denied'"), {"u": doctor_id}).scalars().all()
    assert denied == ["patient.restrict"]
