"""Search knows who is at the desk: among equally good matches, an appointment today first,
then seen recently, then name order; the row carries today's appointment time.

Real PostgreSQL, through the app's own login and a real signed-in session (row-level
security and all), so the rows are committed and removed afterwards. No date is made up:
"today" is the local date of the database's now(), given to the service as the
workstation's date, and every appointment time is built inside that local day (or a
stated number of days before or after it).
"""

from __future__ import annotations

import random
import string
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import pytest
from sqlalchemy import text

from backend_client.accounts.access import SystemAccess
from backend_client.backend import Backend
from backend_client.dto import PatientDraft, PatientSummary
from backend_client.patients.service import PatientService
from tests.integration.conftest import add_user, signed_in

# Twenty patients whose family name is the same: every one-word search for it is a tie.
GIVEN = ("Ana", "Anabel", "Andrea", "Angela", "Angelika", "Anika", "Anita", "Anja", "Anke",
         "Ann", "Anna", "Annabel", "Annegret", "Annelie", "Annette", "Annika", "Anouk", "Antje",
         "Antonella", "Antonia")
BORN = date(1986, 2, 14)


@dataclass
class Clinic:
    family: str
    day: date                   # the workstation's date: the local date of the database's now
    db_now: datetime
    ids: dict[str, int]         # given name -> patient id; "Aaron" is the near namesake
    booked_at: dict[str, datetime]

    def at(self, hours: int, minutes: int = 0, *, days: int = 0) -> datetime:
        """A local wall-clock time on the desk's day (or ``days`` from it)."""
        return datetime.combine(self.day + timedelta(days=days),
                                time(hours, minutes)).astimezone()

    def names(self, items: tuple[PatientSummary, ...]) -> list[str]:
        by_id = {v: k for k, v in self.ids.items()}
        return [by_id[p.id] for p in items]

    def service(self, backend: Backend, role: str) -> PatientService:
        uid = add_user(backend.owner_engine, (role,))
        return PatientService(backend.engine, signed_in(backend, backend.owner_engine, uid,
                                                        workstation=f"desk-{role}"),
                              today=lambda: self.day)


def _letters(n: int) -> str:
    return "".join(random.choice(string.ascii_lowercase) for _ in range(n))


@pytest.fixture
def clinic(backend: Backend) -> Iterator[Clinic]:
    owner = backend.owner_engine
    with owner.connect() as c:
        db_now = c.execute(text("SELECT now()")).scalar_one()
    day = db_now.astimezone().date()
    # Registered in a shuffled order, so name order cannot be registration order by luck.
    order = list(GIVEN)
    random.shuffle(order)
    family = f"Müller{_letters(6)}"
    system = PatientService(owner, SystemAccess("ws-desk-setup"), today=lambda: day)
    ids = {g: system.register(PatientDraft(given_name=g, family_name=family, birth_date=BORN,
                                           sex="female"), allow_duplicates=True).id
           for g in order}
    # A near namesake: their family name only starts with the searched one (a worse match).
    ids["Aaron"] = system.register(PatientDraft(
        given_name="Aaron", family_name=f"{family}son", birth_date=BORN, sex="male"),
        allow_duplicates=True).id
    clinic = Clinic(family, day, db_now, ids, {})
    providers: list[int] = []
    try:
        with owner.begin() as conn:
            providers = [conn.execute(text(
                "INSERT INTO providers (given_name, family_name, specialty) "
                "VALUES ('Desk', :f, 'General practice') RETURNING id"),
                {"f": f"Provider{_letters(5)}"}).scalar_one() for _ in range(3)]

            def book(given: str, starts: datetime, status: str, provider: int = 2) -> None:
                conn.execute(text(
                    "INSERT INTO appointments (provider_id, patient_id, appointment_type_id,"
                    " starts_at, ends_at, status) SELECT :pr, :pa, min(id), :s,"
                    " CAST(:s AS timestamptz) + interval '15 minutes', :st"
                    " FROM appointment_types"),
                    {"pr": providers[provider], "pa": ids[given], "s": starts, "st": status})

            book("Antonia", clinic.at(9, 40), "booked", provider=0)
            # Annabel: one visit already begun, two still to come, one cancelled: the row
            # shows the next one still to come (the last one if all have begun).
            start, end = clinic.at(0), clinic.at(0, days=1)
            live = [max(start, db_now - timedelta(hours=1)),
                    db_now + timedelta(minutes=30), db_now + timedelta(hours=1)]
            live = [t for t in live if t < end]
            for t in live:
                book("Annabel", t, "booked", provider=1)
            if db_now + timedelta(minutes=10) < end:
                book("Annabel", db_now + timedelta(minutes=10), "cancelled", provider=1)
            upcoming = [t for t in live if t >= db_now]
            clinic.booked_at = {"Antonia": clinic.at(9, 40), "Aaron": clinic.at(12),
                                "Annabel": min(upcoming) if upcoming else max(live)}
            book("Aaron", clinic.at(12), "booked")
            book("Anja", clinic.at(9, 40), "cancelled")
            book("Anke", clinic.at(10, 40), "no_show")
            book("Anita", clinic.at(10, days=1), "booked")              # tomorrow
            book("Antje", clinic.at(10, days=-10), "completed")
            book("Annika", clinic.at(10, days=-30), "completed")
            book("Annette", clinic.at(10, days=-200), "completed")      # too long ago
            # Seen five days ago without an appointment: an encounter (clinical content).
            conn.execute(text(
                "INSERT INTO encounters (patient_id, provider_id, started_at, ended_at, status,"
                " summary) VALUES (:p, :pr, :s,"
                " CAST(:s AS timestamptz) + interval '20 minutes', 'closed', 'Seen')"),
                {"p": ids["Angela"], "pr": providers[2], "s": clinic.at(11, days=-5)})
        yield clinic
    finally:
        with owner.begin() as conn:
            every = list(ids.values())
            conn.execute(text("DELETE FROM encounters WHERE patient_id = ANY(:p)"), {"p": every})
            conn.execute(text("DELETE FROM appointments WHERE patient_id = ANY(:p)"),
                         {"p": every})
            conn.execute(text("DELETE FROM providers WHERE id = ANY(:p)"), {"p": providers})
            conn.execute(text("DELETE FROM patients WHERE id = ANY(:p)"), {"p": every})


@pytest.fixture
def reception(backend: Backend, clinic: Clinic) -> Iterator[PatientService]:
    service = clinic.service(backend, "receptionist")
    yield service
    _sign_out(backend, service)


@pytest.fixture
def doctor(backend: Backend, clinic: Clinic) -> Iterator[PatientService]:
    service = clinic.service(backend, "doctor")
    yield service
    _sign_out(backend, service)


def _sign_out(backend: Backend, service: PatientService) -> None:
    actor = service.access.require("patient.search")
    with backend.owner_engine.begin() as conn:
        conn.execute(text("DELETE FROM app_sessions WHERE user_id = :u"), {"u": actor.user_id})


# The rest of the tie, by name: neither booked today (Anja's was cancelled, Anke did not
# come, Anita comes tomorrow) nor seen within 90 days (Annette was, 200 days ago).
REST = sorted(set(GIVEN) - {"Annabel", "Antonia", "Antje", "Annika"})


@pytest.mark.parametrize("words", ["{f}", "{f} an", "an {f}", "{f} 14.02.1986"])
def test_booked_today_first_then_seen_recently_then_by_name(
        clinic: Clinic, reception: PatientService, words: str) -> None:
    page = reception.search(words.format(f=clinic.family), limit=50)
    got = clinic.names(page.items)
    # Booked today (by name among themselves), then the most recently seen, then by name.
    expected = ["Annabel", "Antonia", "Antje", "Annika", *REST]
    if "an" not in words.split():
        expected.append("Aaron")  # booked today, but only the start of the name matches
    assert got == expected


def test_the_row_shows_todays_next_appointment_and_nobody_elses(
        clinic: Clinic, reception: PatientService) -> None:
    page = reception.search(clinic.family, limit=50)
    shown = {name: p.appointment_today for name, p in zip(clinic.names(page.items),
                                                          page.items, strict=True)}
    assert {k: v for k, v in shown.items() if v is not None} == clinic.booked_at
    assert shown["Antonia"] is not None
    assert shown["Antonia"].astimezone().strftime("%H:%M") == "09:40"


def test_a_better_match_beats_a_worse_one_booked_today(
        clinic: Clinic, reception: PatientService) -> None:
    got = clinic.names(reception.search(f"{clinic.family} anna").items)
    # Anna is the whole word; Annabel (booked today) only starts with it; Ana, Anja and
    # Ann are a letter away and tie among themselves, in name order.
    assert got == ["Anna", "Annabel", "Ana", "Anja", "Ann"]


def test_pages_are_the_same_order_every_time(clinic: Clinic,
                                             reception: PatientService) -> None:
    whole = [p.id for p in reception.search(clinic.family, limit=50).items]
    for _ in range(2):
        paged: list[int] = []
        offset = 0
        while True:
            page = reception.search(clinic.family, offset=offset, limit=3)
            paged += [p.id for p in page.items]
            if not page.has_more:
                break
            offset += 3
        assert paged == whole
    assert len(whole) == len(GIVEN) + 1


def test_a_doctor_also_counts_encounters_as_seen(clinic: Clinic, doctor: PatientService,
                                                 reception: PatientService) -> None:
    # Encounters are clinical content: a doctor's login reads them, reception's does not,
    # so for reception Angela, seen five days ago without an appointment, is one of the rest.
    got = clinic.names(doctor.search(clinic.family, limit=50).items)
    assert got[:5] == ["Annabel", "Antonia", "Angela", "Antje", "Annika"]
    assert got[5:] == [n for n in REST if n != "Angela"] + ["Aaron"]
    assert clinic.names(reception.search(clinic.family, limit=50).items)[4:5] == [REST[0]]


@pytest.mark.parametrize("words", ["{f}", "{f} an", "{f} 14.02.1986", "{f} 1986"])
def test_the_desk_lifts_a_patient_from_beyond_the_first_page(
        backend: Backend, clinic: Clinic, reception: PatientService, words: str) -> None:
    # One page of two: Antonia is the last of twenty by name, yet booked today she is on it
    # (each strategy's scan stops far before her name).
    page = reception.search(words.format(f=clinic.family), limit=2)
    assert clinic.names(page.items) == ["Annabel", "Antonia"] and page.has_more
    # The same in a crowd: more namesakes than one scan fetches (over 2 x page + 10).
    system = PatientService(backend.owner_engine, SystemAccess("ws-desk-setup"),
                            today=lambda: clinic.day)
    crowd = [system.register(PatientDraft(given_name=f"Aa{_letters(8)}",
                                          family_name=clinic.family, birth_date=BORN,
                                          sex="female"), allow_duplicates=True).id
             for _ in range(20)]
    try:
        for query in (clinic.family, f"{clinic.family} 1986", f"{clinic.family} 14.02.1986"):
            page = reception.search(query, limit=5)
            assert clinic.names(page.items[:2]) == ["Annabel", "Antonia"], query
    finally:
        with backend.owner_engine.begin() as conn:
            conn.execute(text("DELETE FROM patients WHERE id = ANY(:p)"), {"p": crowd})


def test_uses_the_desks_day_not_the_stores(backend: Backend, clinic: Clinic) -> None:
    # The same search on the workstation's next day: nobody is booked "today" any more but
    # Anita, whose appointment is tomorrow.
    uid = add_user(backend.owner_engine, ("receptionist",))
    access = signed_in(backend, backend.owner_engine, uid,
                       workstation=f"desk-{uuid.uuid4().hex[:6]}")
    tomorrow = PatientService(backend.engine, access,
                              today=lambda: clinic.day + timedelta(days=1))
    try:
        page = tomorrow.search(clinic.family, limit=50)
        booked = [(n, p.appointment_today) for n, p in zip(clinic.names(page.items), page.items,
                                                           strict=True) if p.appointment_today]
        assert booked == [("Anita", clinic.at(10, days=1))]
        assert clinic.names(page.items)[0] == "Anita"
    finally:
        with backend.owner_engine.begin() as conn:
            conn.execute(text("DELETE FROM app_sessions WHERE user_id = :u"), {"u": uid})
