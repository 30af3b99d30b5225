"""The chart's header, timeline and lists through ``ChartService``, as the app runs it: the
app's own login (``backend.engine``), real sessions, row security on, every stamp and
version from PostgreSQL. The scene is committed by the schema's owner (the app's login may
not make users or providers) under a fresh tag; nothing depends on the calendar date:
"today" is the database's, in one fixed zone."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text

from backend_client.accounts.access import SessionAccess, SystemAccess
from backend_client.accounts.service import AccountService
from backend_client.accounts.sessions import SessionStore
from backend_client.backend import Backend
from backend_client.chart.dto import AlertDraft, MedicationDraft, ProblemDraft
from backend_client.chart.service import NOT_A_PROVIDER, ChartService
from backend_client.dto import PatientDraft
from backend_client.errors import (
    Conflict,
    IllegalTransition,
    NotFound,
    PermissionDenied,
    ValidationError,
)
from backend_client.patients.service import PatientService
from backend_client.sync.events import ChangeEvent
from tests.integration.conftest import FAST

TZ = ZoneInfo("Europe/Berlin")
PASSWORD = "chart lists lantern 42"
ROLES = ("doctor", "nurse", "receptionist")


class CommittedPublisher:
    """Records events, and at the moment of publishing checks from another connection
    that what they announce is already committed (the patient's newest chart row has the
    announced version)."""

    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self.events: list[ChangeEvent] = []
        self.seen_committed: list[bool] = []

    def publish(self, events: Sequence[ChangeEvent]) -> None:
        for e in events:
            table = {"problem": "problems", "medication": "medications",
                     "alert": "alerts", "encounter": "encounters"}[e.action]
            with self.backend.owner_engine.connect() as conn:
                versions = conn.execute(text(
                    f"SELECT version FROM {table} WHERE patient_id = :p"),  # noqa: S608
                    {"p": e.id}).scalars().all()
            self.seen_committed.append(e.version in versions)
        self.events.extend(events)


@dataclass
class Clinic:
    backend: Backend
    tag: str
    uids: dict[str, int]
    names: dict[str, str]
    access: dict[str, SessionAccess]
    provider: int
    patient: int
    restricted: int
    events: CommittedPublisher
    services: dict[str, ChartService] = field(default_factory=dict)

    def chart(self, role: str) -> ChartService:
        return self.services[role]

    def owner(self, sql: str, **params: Any) -> Any:
        with self.backend.owner_engine.begin() as conn:
            result = conn.execute(text(sql), params)
            return result.all() if result.returns_rows else []

    def now(self) -> datetime:
        value: datetime = self.owner("SELECT now()")[0][0]
        return value


def make_clinic(backend: Backend) -> Clinic:
    tag = uuid.uuid4().hex[:8]
    accounts = AccountService(backend.owner_engine, hashing=FAST)
    names = {role: f"{role.title()} {tag}" for role in ROLES}
    uids = {role: accounts.add_user(f"{role[:5]}{tag}", names[role], PASSWORD, [role]).id
            for role in ROLES}
    operator = PatientService(backend.owner_engine, SystemAccess("ws-setup"))
    patient = operator.register(PatientDraft(given_name="Clara", family_name=f"Chart{tag}",
                                             birth_date=date(1984, 3, 12), sex="female")).id
    restricted = operator.register(PatientDraft(given_name="Seán", family_name=f"Priv{tag}",
                                                birth_date=date(1962, 7, 8), sex="male")).id
    operator.set_restricted(restricted, True)
    with backend.owner_engine.begin() as conn:
        provider = int(conn.execute(text(
            "INSERT INTO providers (user_id, title, given_name, family_name, specialty) "
            "VALUES (:u, 'Dr', 'Anna', :f, 'Family medicine') RETURNING id"),
            {"u": uids["doctor"], "f": f"Demo{tag}"}).scalar_one())
    events = CommittedPublisher(backend)
    store = SessionStore(backend.engine)
    access = {}
    for role in ROLES:
        username = f"{role[:5]}{tag}"
        outcome = store.sign_in(username, store.keys_for(username, PASSWORD),
                                f"WS-{role}-{tag}")
        assert outcome.actor is not None
        access[role] = SessionAccess(store, backend.engine, f"WS-{role}-{tag}")
        access[role].set_actor(outcome.actor)
    clinic = Clinic(backend, tag, uids, names, access, provider, patient, restricted, events)
    for role in ROLES:
        clinic.services[role] = ChartService(backend.engine, access[role], publisher=events,
                                             tz=TZ)
    return clinic


@pytest.fixture
def clinic(backend: Backend) -> Iterator[Clinic]:
    c = make_clinic(backend)
    yield c
    with backend.owner_engine.begin() as conn:
        conn.execute(text("DELETE FROM app_sessions WHERE user_id = ANY(:u)"),
                     {"u": list(c.uids.values())})


def _appointment(c: Clinic, *, minutes_from_now: int = 0, status: str = "booked",
                 day_offset: int = 0, patient: int | None = None) -> int:
    """An appointment of the doctor's with the patient: starting now (or later today, or
    ``day_offset`` days away, by the database's clock), moved through the flow to
    ``status`` by the owner (arrival opens the encounter: migration 0009)."""
    row = c.owner(
        "INSERT INTO appointments (provider_id, patient_id, appointment_type_id, starts_at, "
        "ends_at, reason) SELECT :pr, :pa, min(id), "
        "date_trunc('minute', now()) + make_interval(days => :d, mins => :m), "
        "date_trunc('minute', now()) + make_interval(days => :d, mins => :m + 15), 'Cough' "
        "FROM appointment_types RETURNING id",
        pr=c.provider, pa=patient or c.patient, m=minutes_from_now, d=day_offset)
    appointment = int(row[0][0])
    path = {"booked": [], "checked_in": ["checked_in"], "cancelled": ["cancelled"],
            "completed": ["checked_in", "in_progress", "completed"]}[status]
    for step in path:
        c.owner("UPDATE appointments SET status = :s WHERE id = :a", s=step, a=appointment)
    return appointment


# ------------------------------------------------------------------ the header


def test_the_header_shows_the_patient_allergies_alerts_today_and_the_open_encounter(
        clinic: Clinic) -> None:
    c = clinic
    doctor = c.chart("doctor")
    for kind, severity, what in (("allergy", "low", "Plasters"),
                                 ("allergy", "high", "Penicillin"),
                                 ("clinical", "moderate", "Falls risk"),
                                 ("allergy", "moderate", "Latex"),
                                 ("infection", "high", "MRSA carrier")):
        doctor.add_alert(c.patient, AlertDraft(kind, what, severity))
    gone = doctor.add_alert(c.patient, AlertDraft("allergy", "Aspirin", "high"))
    doctor.retire_alert(gone.id, gone.version, "Tolerated aspirin since 2020")
    _appointment(c, day_offset=1)                 # tomorrow: not today's
    _appointment(c, minutes_from_now=-120, status="cancelled")
    booked = _appointment(c, status="checked_in")  # now: arrival opened the encounter

    header = doctor.header(c.patient)

    assert header.patient.id == c.patient and header.patient.mrn
    assert header.patient.draft.family_name == f"Chart{c.tag}"
    assert [a.draft.description for a in header.allergies] == ["Penicillin", "Latex",
                                                              "Plasters"]
    assert [a.draft.description for a in header.alerts] == ["MRSA carrier", "Falls risk"]
    assert header.appointment_today is not None
    assert header.appointment_today.id == booked
    assert header.open_encounter is not None
    assert header.open_encounter.appointment_id == booked
    assert header.open_encounter.provider_name == f"Dr Anna Demo{c.tag}"
    assert header.open_encounter.status == "open"


def test_a_patient_with_nothing_on_file_has_an_empty_header(clinic: Clinic) -> None:
    header = clinic.chart("nurse").header(clinic.patient)
    assert (header.allergies, header.alerts) == ((), ())
    assert header.appointment_today is None and header.open_encounter is None


def test_reception_reads_no_part_of_the_chart(clinic: Clinic) -> None:
    chart = clinic.chart("receptionist")
    before = clinic.owner("SELECT max(id) FROM audit_events")[0][0]
    reads = [chart.header, chart.timeline, chart.problems, chart.medications, chart.alerts]
    for read in reads:
        with pytest.raises(PermissionDenied, match="open a patient's clinical chart"):
            read(clinic.patient)
    writes = [lambda: chart.add_problem(clinic.patient, ProblemDraft("Asthma")),
              lambda: chart.add_medication(clinic.patient, MedicationDraft("Metformin", "1")),
              lambda: chart.add_alert(clinic.patient, AlertDraft("allergy", "Latex")),
              lambda: chart.open_encounter(clinic.patient, "Walk-in")]
    for write in writes:
        with pytest.raises(PermissionDenied, match="Your role does not allow you to"):
            write()
    denied = clinic.owner("SELECT action, user_id FROM audit_events WHERE id > :b", b=before)
    assert [tuple(r) for r in denied] == [("access.denied", clinic.uids["receptionist"])] * 9
    assert clinic.events.events == []


def test_a_restricted_chart_is_refused_until_the_glass_is_broken(clinic: Clinic) -> None:
    c = clinic
    c.owner("INSERT INTO problems (patient_id, description) VALUES (:p, 'Hidden problem')",
            p=c.restricted)
    doctor = c.chart("doctor")
    for read in (doctor.header, doctor.timeline, doctor.problems, doctor.medications,
                 doctor.alerts):
        with pytest.raises(PermissionDenied) as refused:
            read(c.restricted)
        assert refused.value.break_glass
    with pytest.raises(PermissionDenied):
        doctor.add_problem(c.restricted, ProblemDraft("Asthma"))
    # Breaking the glass (the chart's opening, with a reason) opens it for this session.
    PatientService(c.backend.engine, c.access["doctor"]).get(
        c.restricted, break_glass_reason="Covering for a colleague in an emergency")
    assert [p.draft.description for p in doctor.problems(c.restricted)] == ["Hidden problem"]
    # ...and only for this session: the nurse still meets the restriction.
    with pytest.raises(PermissionDenied):
        c.chart("nurse").problems(c.restricted)


def test_a_restricted_chart_opens_for_the_clinician_who_sees_the_patient(
        clinic: Clinic) -> None:
    c = clinic
    c.owner("INSERT INTO problems (patient_id, description) VALUES (:p, 'Hidden problem')",
            p=c.restricted)
    with pytest.raises(PermissionDenied):
        c.chart("doctor").problems(c.restricted)
    _appointment(c, patient=c.restricted, status="checked_in")  # now the doctor's patient
    assert [p.draft.description for p in c.chart("doctor").problems(c.restricted)] == [
        "Hidden problem"]
    assert c.chart("doctor").header(c.restricted).open_encounter is not None
    with pytest.raises(PermissionDenied):
        c.chart("nurse").header(c.restricted)


# ------------------------------------------------------------------ encounters


def test_an_ad_hoc_encounter_is_opened_for_the_clinicians_provider_and_closed_with_a_summary(
        clinic: Clinic) -> None:
    c = clinic
    doctor = c.chart("doctor")
    before = c.now()
    enc = doctor.open_encounter(c.patient, "Telephone consultation")
    assert (enc.provider_id, enc.status, enc.reason) == (c.provider, "open",
                                                         "Telephone consultation")
    assert enc.stamp.recorded_by == c.names["doctor"] and enc.started_at >= before
    with pytest.raises(IllegalTransition, match="already have an open encounter"):
        doctor.open_encounter(c.patient, "Again")
    with pytest.raises(ValidationError, match="summary") as bad:
        doctor.close_encounter(enc.id, enc.version, "   ")
    assert "closed with a summary" in bad.value.errors["summary"]
    closed = doctor.close_encounter(enc.id, enc.version, "Advised rest and fluids.")
    assert (closed.status, closed.summary) == ("closed", "Advised rest and fluids.")
    assert closed.ended_at is not None and closed.ended_at >= enc.started_at
    assert closed.version == enc.version + 1
    with pytest.raises(Conflict):
        doctor.close_encounter(enc.id, enc.version, "Twice")
    with pytest.raises(IllegalTransition, match="already closed"):
        doctor.close_encounter(enc.id, closed.version, "Twice")
    assert [e.action for e in c.events.events] == ["encounter", "encounter"]
    assert all(c.events.seen_committed)


def test_someone_who_is_not_a_provider_cannot_open_an_encounter(clinic: Clinic) -> None:
    with pytest.raises(PermissionDenied) as refused:
        clinic.chart("nurse").open_encounter(clinic.patient, "Dressing change")
    assert refused.value.message == NOT_A_PROVIDER


def test_the_timeline_is_newest_first_and_completing_the_visit_closes_it_with_a_summary(
        clinic: Clinic) -> None:
    c = clinic
    visit = _appointment(c, minutes_from_now=-600, status="completed")
    ad_hoc = c.chart("doctor").open_encounter(c.patient, "Results call")
    timeline = c.chart("nurse").timeline(c.patient)
    assert [e.id for e in timeline][0] == ad_hoc.id
    done = next(e for e in timeline if e.appointment_id == visit)
    assert done.status == "closed" and done.summary  # the database wrote how it closed
    assert done.started_at < ad_hoc.started_at


# ------------------------------------------------------------------ the lists


LISTS: dict[str, Any] = {
    "problem": dict(
        add=lambda s, p: s.add_problem(p, ProblemDraft("Type 2 diabetes", "E11",
                                                       date(2019, 5, 1))),
        edit=lambda s, i: s.update_problem(i.id, i.version, ProblemDraft(
            "Type 2 diabetes, diet controlled", "E11", date(2019, 5, 1), "resolved")),
        retire=lambda s, i, r: s.retire_problem(i.id, i.version, r),
        read=lambda s, p, r: s.problems(p, include_retired=r),
        text=lambda i: i.draft.description, table="problems"),
    "medication": dict(
        add=lambda s, p: s.add_medication(p, MedicationDraft("Metformin", "500 mg", "oral",
                                                             "twice daily")),
        edit=lambda s, i: s.update_medication(i.id, i.version, MedicationDraft(
            "Metformin", "1 g", "oral", "twice daily", stopped_on=None)),
        retire=lambda s, i, r: s.retire_medication(i.id, i.version, r),
        read=lambda s, p, r: s.medications(p, include_retired=r),
        text=lambda i: f"{i.draft.name} {i.draft.dose}", table="medications"),
    "alert": dict(
        add=lambda s, p: s.add_alert(p, AlertDraft("allergy", "Penicillin", "high", "Rash")),
        edit=lambda s, i: s.update_alert(i.id, i.version, AlertDraft(
            "allergy", "Penicillin", "high", "Anaphylaxis")),
        retire=lambda s, i, r: s.retire_alert(i.id, i.version, r),
        read=lambda s, p, r: s.alerts(p, include_retired=r),
        text=lambda i: f"{i.draft.description} {i.draft.reaction}", table="alerts"),
}


@pytest.mark.parametrize("section", list(LISTS))
def test_add_edit_retire_with_who_and_when_from_the_database(clinic: Clinic,
                                                             section: str) -> None:
    c, ops = clinic, LISTS[section]
    doctor, nurse = c.chart("doctor"), c.chart("nurse")
    t0 = c.now()
    item = ops["add"](doctor, c.patient)
    t1 = c.now()
    assert item.version == 1 and item.status == "active"
    assert item.stamp.recorded_by == c.names["doctor"] == item.stamp.updated_by
    assert t0 <= item.stamp.recorded_at <= t1
    stored = c.owner(f"SELECT created_by, updated_by FROM {ops['table']} WHERE id = :i",
                     i=item.id)[0]
    assert tuple(stored) == (c.uids["doctor"], c.uids["doctor"])

    edited = ops["edit"](nurse, item)
    assert edited.version == 2
    assert edited.stamp.recorded_by == c.names["doctor"]
    assert edited.stamp.updated_by == c.names["nurse"]
    assert edited.stamp.updated_at >= item.stamp.updated_at
    assert ops["read"](doctor, c.patient, False)[0].id == item.id

    # The doctor still holds version 1: a conflict naming the nurse, nothing written.
    with pytest.raises(Conflict) as stale:
        ops["edit"](doctor, item)
    assert stale.value.changed_by == c.names["nurse"]
    assert c.names["nurse"] in stale.value.message and stale.value.current_version == 2

    with pytest.raises(ValidationError) as no_reason:
        ops["retire"](doctor, edited, "  ")
    assert set(no_reason.value.errors) == {"reason"}
    retired = ops["retire"](doctor, edited, "Entered in the wrong chart")
    assert retired.retired_reason == "Entered in the wrong chart" and retired.version == 3
    assert retired.status != "active"
    assert ops["read"](doctor, c.patient, False) == ()
    assert [i.id for i in ops["read"](doctor, c.patient, True)] == [item.id]
    if section != "alert":
        with pytest.raises(IllegalTransition, match="retired"):
            ops["edit"](doctor, retired)

    # Each write told every workstation, after its commit; the failed ones told no one.
    assert [(e.kind, e.id, e.action) for e in c.events.events] == \
        [("chart", c.patient, section)] * 3
    assert [e.version for e in c.events.events] == [1, 2, 3]
    assert all(c.events.seen_committed)
    audited = c.owner("SELECT action, user_id FROM audit_events WHERE object_type = :t "
                      "AND object_id = :i ORDER BY id", t=ops["table"], i=str(item.id))
    assert [tuple(r) for r in audited] == [("row.insert", c.uids["doctor"]),
                                           ("row.update", c.uids["nurse"]),
                                           ("row.update", c.uids["doctor"])]


def test_bad_entries_are_refused_naming_every_field(clinic: Clinic) -> None:
    doctor = clinic.chart("doctor")
    with pytest.raises(ValidationError) as problem:
        doctor.add_problem(clinic.patient, ProblemDraft(" ", code="x" * 41, status="retired"))
    assert set(problem.value.errors) == {"description", "code", "status"}
    assert problem.value.errors["description"] == "The problem is required."
    assert "retire it with a reason" in problem.value.errors["status"]
    with pytest.raises(ValidationError) as medication:
        doctor.add_medication(clinic.patient, MedicationDraft(
            "", "5 mg", started_on=date(2026, 3, 1), stopped_on=date(2026, 2, 1),
            status="paused"))
    assert set(medication.value.errors) == {"name", "status", "stopped_on"}
    assert medication.value.errors["stopped_on"] == (
        "It was stopped on 01 Feb 2026, before it was started (01 Mar 2026).")
    with pytest.raises(ValidationError) as alert:
        doctor.add_alert(clinic.patient, AlertDraft("rumour", "", "extreme", status="gone"))
    assert set(alert.value.errors) == {"kind", "description", "severity", "status"}
    with pytest.raises(ValidationError) as quiet:
        doctor.add_alert(clinic.patient, AlertDraft("allergy", "Nuts", status="inactive"))
    assert "retire it" in quiet.value.errors["status"]
    assert clinic.events.events == []
    assert clinic.chart("nurse").problems(clinic.patient) == ()


def test_an_alert_made_active_again_loses_its_reason_and_may_be_resolved(
        clinic: Clinic) -> None:
    doctor = clinic.chart("doctor")
    a = doctor.add_alert(clinic.patient, AlertDraft("clinical", "Falls risk"))
    resolved = doctor.retire_alert(a.id, a.version, "Walks unaided now", status="resolved")
    assert (resolved.status, resolved.retired_reason) == ("resolved", "Walks unaided now")
    back = doctor.update_alert(resolved.id, resolved.version,
                               AlertDraft("clinical", "Falls risk", status="active"))
    assert (back.status, back.retired_reason) == ("active", "")
    assert clinic.chart("doctor").header(clinic.patient).alerts[0].id == a.id


def test_unknown_entries_are_not_found(clinic: Clinic) -> None:
    with pytest.raises(NotFound):
        clinic.chart("doctor").update_problem(10**12, 1, ProblemDraft("Asthma"))
    with pytest.raises(NotFound):
        clinic.chart("doctor").problems(10**12)


class EndsSessionAfterCheck:
    """The real ``SessionAccess``, whose session an administrator ends just after the
    service's own check passed: only the database is left to refuse the write."""

    def __init__(self, clinic: Clinic, role: str) -> None:
        self.clinic, self.inner = clinic, clinic.access[role]

    def require(self, permission: str, *, patient_id: int | None = None) -> Any:
        actor = self.inner.require(permission, patient_id=patient_id)
        self.clinic.owner("UPDATE app_sessions SET state = 'revoked' WHERE id = :s",
                          s=actor.session_id)
        return actor

    def audit_denial(self, actor: Any, permission: str, patient_id: int | None) -> None:
        self.inner.audit_denial(actor, permission, patient_id)


def test_a_write_the_database_refuses_is_rolled_back_and_announced_to_no_one(
        clinic: Clinic) -> None:
    c = clinic
    chart = ChartService(c.backend.engine, EndsSessionAfterCheck(c, "doctor"),
                         publisher=c.events, tz=TZ)
    with pytest.raises(PermissionDenied, match="Nothing was saved; sign in again"):
        chart.add_problem(c.patient, ProblemDraft("Asthma"))
    assert c.owner("SELECT count(*) FROM problems WHERE patient_id = :p",
                   p=c.patient)[0][0] == 0
    assert c.events.events == []
