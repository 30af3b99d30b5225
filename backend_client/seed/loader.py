"""Bulk loader for synthetic clinic data: COPY, not row by row.

One transaction loads everything, so a failed or interrupted seed leaves nothing behind.
Rows are written as PostgreSQL COPY text built directly in Python (psycopg's
``Copy.write``), a chunk of patients at a time. Search terms and the spelling dictionary
come from ``backend_client.patients.names``, exactly as for a patient the service
registers, so seeded patients are found the same way.

Ids are allocated from the tables' own identity sequences (``nextval`` over a series), and
MRNs from ``patient_mrn_seq``, so seeding into a database that already holds patients, or
while the app registers someone, never collides; the sequences are left past every value
used.
"""

from __future__ import annotations

import logging
import time as clock
from array import array
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import date, datetime, tzinfo
from itertools import chain, islice
from typing import Any, TypeVar

import psycopg
from sqlalchemy import Engine, text

from backend_client.patients import names, phones
from backend_client.seed.generator import (
    AppointmentType,
    ClinicGenerator,
    PatientPool,
    SyntheticAppointment,
    SyntheticPatient,
    SyntheticProvider,
)

log = logging.getLogger(__name__)

ProgressFn = Callable[[str, int, int], None]
"""``progress(stage, done, total)``; stages: providers, patients, dictionary,
appointments, analyze (vacuum and statistics after the commit)."""

CHUNK = 20_000
DEMO_PATIENTS = 300
DEMO_PROVIDERS = 6
DEMO_WEEKS = 2

# pg_advisory_xact_lock key: two seeders (two workstations starting at once) take turns.
_SEED_LOCK = 0x5EED_D7A


@dataclass(frozen=True)
class SeedReport:
    patients: int
    providers: int
    appointments: int
    identifiers: int
    name_terms: int
    name_variants_added: int
    first_patient_id: int | None
    last_patient_id: int | None
    seconds: float

    def summary(self) -> str:
        return (f"seeded {self.patients} patients, {self.providers} providers, "
                f"{self.appointments} appointments in {self.seconds:.1f} s")


# ---------------------------------------------------------------- COPY text format

_SPECIAL = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
_NULL = "\\N"


def _t(value: str) -> str:
    """A text value escaped for COPY's text format."""
    if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
        return value.translate(_SPECIAL)
    return value


def _d(value: date | None) -> str:
    return _NULL if value is None else value.isoformat()


T = TypeVar("T")


def _batched(items: Iterable[T], size: int) -> Iterator[list[T]]:
    it = iter(items)
    while batch := list(islice(it, size)):
        yield batch


def _copy(cur: psycopg.Cursor[Any], table: str, columns: str, lines: list[str]) -> None:
    if not lines:
        return
    with cur.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        copy.write("".join(lines))


def _allocate(cur: psycopg.Cursor[Any], sequence_sql: str, n: int) -> list[int]:
    """``n`` fresh values of a sequence (safe against anyone else using it meanwhile)."""
    if n == 0:
        return []
    rows = cur.execute(f"SELECT nextval({sequence_sql}) FROM generate_series(1, %s)",
                       (n,)).fetchall()
    return sorted(r[0] for r in rows)


def _allocate_mrns(cur: psycopg.Cursor[Any], n: int) -> list[int]:
    """``n`` MRN numbers from ``patient_mrn_seq``, skipping any MRN already taken (typed in
    by hand earlier), as the service does when it registers a patient."""
    numbers = _allocate(cur, _MRN_SEQ, n)
    while numbers:
        # One index range probe; the exact check only when something is in the range.
        row = cur.execute(
            "SELECT EXISTS (SELECT 1 FROM patient_identifiers WHERE kind = 'MRN' "
            "AND value BETWEEN %s AND %s)",
            (names.format_mrn(numbers[0]), names.format_mrn(numbers[-1]))).fetchone()
        if row is None or not row[0]:
            break
        taken = {v for v, in cur.execute(
            "SELECT value FROM patient_identifiers WHERE kind = 'MRN' AND value = ANY(%s)",
            ([names.format_mrn(x) for x in numbers],))}
        if not taken:
            break
        numbers = sorted([x for x in numbers if names.format_mrn(x) not in taken]
                         + _allocate(cur, _MRN_SEQ, len(taken)))
    return numbers


_PATIENT_SEQ = "pg_get_serial_sequence('patients', 'id')::regclass"
_PROVIDER_SEQ = "pg_get_serial_sequence('providers', 'id')::regclass"
_MRN_SEQ = "'patient_mrn_seq'::regclass"

# Names repeat a lot across a million patients: ``names`` caches the terms of each name
# field and the sort key, so calling it per patient is cheap.

def _person(p: SyntheticPatient) -> names.PersonNames:
    return names.PersonNames(
        given=p.given_name, family=p.family_name, middle=p.middle_name,
        preferred=p.preferred_name,
        previous=tuple((n.given_name, n.family_name) for n in p.previous_names))


# ------------------------------------------------------------------------ the loader


def seed(engine: Engine, *, patients: int, providers: int, seed: int = 1, weeks: int = 4,
         today: date | None = None, progress: ProgressFn | None = None,
         tz: tzinfo | None = None, demo_patients: bool = False) -> SeedReport:
    """Generate and load a synthetic clinic into PostgreSQL (migrated to head).

    Args:
        patients: how many generated patients (the fixed demo people come on top).
        providers: how many providers, each with working hours.
        seed: the data follows from it and ``today``; same inputs, same rows.
        weeks: appointments are booked from ``today`` for this many weeks.
        today: the clinic's date (default: the local date).
        tz: the clinic's time zone for appointment times (default: the local zone).
        demo_patients: also load the fixed, recognisable demo patients.
    """
    report = _load(engine, patients=patients, providers=providers, seed=seed, weeks=weeks,
                   today=today, progress=progress, tz=tz, demo_patients=demo_patients,
                   only_if_empty=False)
    assert report is not None
    return report


DEMO_RESTRICTED: tuple[tuple[str, str], ...] = (("Seán", "O'Brien"),)


def seed_demo_if_empty(engine: Engine, *, today: date | None = None,
                       tz: tzinfo | None = None) -> bool:
    """Seed a small demo clinic, but only into a database without patients.

    The embedded default calls this on first start. Returns whether it seeded.
    """
    report = _load(engine, patients=DEMO_PATIENTS, providers=DEMO_PROVIDERS, seed=1,
                   weeks=DEMO_WEEKS, today=today, progress=None, tz=tz, demo_patients=True,
                   only_if_empty=True)
    if report is None:
        return False
    # One restricted record (say, a member of staff), so breaking the glass can be seen.
    with engine.begin() as conn:
        conn.execute(text("UPDATE patients SET restricted = true "
                          "WHERE (given_name, family_name) IN "
                          "(SELECT * FROM unnest(CAST(:g AS text[]), CAST(:f AS text[])))"),
                     {"g": [g for g, _ in DEMO_RESTRICTED], "f": [f for _, f in DEMO_RESTRICTED]})
        from backend_client.seed.chart_demo import seed_demo_chart

        seed_demo_chart(conn)
    return True


def _load(engine: Engine, *, patients: int, providers: int, seed: int, weeks: int,
          today: date | None, progress: ProgressFn | None, tz: tzinfo | None,
          demo_patients: bool, only_if_empty: bool) -> SeedReport | None:
    if patients < 0 or providers < 0 or weeks < 0:
        raise ValueError("patients, providers and weeks must not be negative")
    t0 = clock.perf_counter()
    today = today or date.today()
    notify: ProgressFn = progress or (lambda stage, done, total: None)
    raw = engine.raw_connection()
    try:
        conn = raw.driver_connection
        assert isinstance(conn, psycopg.Connection)
        conn.rollback()   # start from a clean transaction state whatever the pool left
        try:
            report = _load_in_transaction(
                conn, patients=patients, providers=providers, seed=seed, weeks=weeks,
                today=today, notify=notify, tz=tz, demo_patients=demo_patients,
                only_if_empty=only_if_empty, t0=t0)
            if report is None:
                conn.rollback()
                return None
            conn.commit()
        except BaseException:
            conn.rollback()
            raise
        notify("analyze", 0, 1)
        # Fresh statistics, so the planner knows the search tables are big now; and a
        # vacuum, so the visibility map lets the first searches use index-only scans
        # instead of waiting for autovacuum. Neither blocks other sessions' reads or writes.
        conn.autocommit = True
        try:
            conn.execute("VACUUM (ANALYZE) patients, patient_name_terms, patient_name_pairs, "
                         "name_variants, patient_identifiers, patient_names, patient_contacts, "
                         "providers, provider_working_hours, appointments")
        finally:
            conn.autocommit = False
        notify("analyze", 1, 1)
    finally:
        raw.close()
    report = replace(report, seconds=clock.perf_counter() - t0)
    log.info("%s", report.summary())
    return report


def _load_in_transaction(conn: psycopg.Connection[Any], *, patients: int, providers: int,
                         seed: int, weeks: int, today: date, notify: ProgressFn,
                         tz: tzinfo | None, demo_patients: bool, only_if_empty: bool,
                         t0: float) -> SeedReport | None:
    cur = conn.cursor()
    cur.execute("SET LOCAL synchronous_commit = off")
    cur.execute("SET LOCAL work_mem = '64MB'")
    cur.execute("SELECT pg_advisory_xact_lock(%s)", (_SEED_LOCK,))
    if only_if_empty:
        row = cur.execute("SELECT EXISTS (SELECT 1 FROM patients)").fetchone()
        if row is not None and row[0]:
            return None
    types = [AppointmentType(int(i), str(n), int(m)) for i, n, m in cur.execute(
        "SELECT id, name, default_minutes FROM appointment_types ORDER BY id").fetchall()]
    gen = ClinicGenerator(seed, today)

    # Providers and their working hours.
    notify("providers", 0, providers)
    provider_rows = gen.providers(providers)
    provider_ids = _allocate(cur, _PROVIDER_SEQ, len(provider_rows))
    _copy(cur, "providers", "id, title, given_name, family_name, specialty, license_number", [
        f"{pid}\t{_t(p.title)}\t{_t(p.given_name)}\t{_t(p.family_name)}\t"
        f"{_t(p.specialty)}\t{_t(p.license_number)}\n"
        for pid, p in zip(provider_ids, provider_rows, strict=True)])
    _copy(cur, "provider_working_hours", "provider_id, weekday, starts_at, ends_at", [
        f"{pid}\t{h.weekday}\t{h.starts_at.isoformat()}\t{h.ends_at.isoformat()}\n"
        for pid, p in zip(provider_ids, provider_rows, strict=True) for h in p.hours])
    notify("providers", providers, providers)

    # Patients, a chunk at a time: demographics, identifiers, previous names, contacts and
    # search terms, then the spelling dictionary of every distinct term. A worker thread
    # generates and formats the next chunk while this one is copied: the server's work and
    # Python's overlap (the GIL is released while psycopg waits on the socket).
    stream: Iterator[SyntheticPatient] = gen.patients(patients)
    total = patients
    if demo_patients:
        demo = gen.demo_patients()
        stream = chain(demo, stream)
        total += len(demo)
    rows = _PatientRows(today)
    notify("patients", 0, total)
    done = 0
    not_issued = 0
    cur.execute(_STAGE_ISSUED)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="seed-rows") as pool:
        def submit(n: int) -> Future[_Chunk] | None:
            if n == 0:
                return None
            ids = _allocate(cur, _PATIENT_SEQ, n)
            mrns = _allocate_mrns(cur, n)
            # The worker draws the patients too: generating them is half the Python work.
            return pool.submit(lambda: rows.build(list(islice(stream, n)), ids, mrns))

        pending = submit(min(CHUNK, total))
        while pending is not None:
            chunk = pending.result()
            done += chunk.count
            pending = submit(min(CHUNK, total - done))
            not_issued += _copy_chunk(cur, chunk)
            notify("patients", done, total)

    notify("dictionary", 0, 1)
    variants_added = _load_dictionary(cur, rows.terms)
    notify("dictionary", 1, 1)

    # Appointments for the coming weeks.
    notify("appointments", 0, 1)
    appointments = 0
    tz_of: Callable[[datetime], datetime] = (
        (lambda dt: dt.replace(tzinfo=tz)) if tz is not None else (lambda dt: dt.astimezone()))
    pairs: Sequence[tuple[int, SyntheticProvider]] = list(
        zip(provider_ids, provider_rows, strict=True))
    for batch_a in _batched(gen.appointments(pairs, rows.pool(), types, weeks=weeks), CHUNK):
        _copy(cur, "appointments",
              "provider_id, patient_id, appointment_type_id, starts_at, ends_at, status, reason",
              [_appointment_line(a, tz_of) for a in batch_a])
        appointments += len(batch_a)
    notify("appointments", 1, 1)

    # Leave the sequences past everything used (nextval already did; this also covers ids
    # someone inserted with explicit values).
    for seq, table in ((_PATIENT_SEQ, "patients"), (_PROVIDER_SEQ, "providers")):
        cur.execute(f"SELECT setval({seq}, GREATEST(COALESCE(pg_sequence_last_value({seq}), 1), "
                    f"(SELECT COALESCE(max(id), 1) FROM {table})))")
    if rows.max_mrn:
        cur.execute(f"SELECT setval({_MRN_SEQ}, GREATEST(COALESCE(pg_sequence_last_value("
                    f"{_MRN_SEQ}), 1), %s))", (rows.max_mrn,))

    return SeedReport(
        patients=rows.count, providers=len(provider_rows), appointments=appointments,
        identifiers=rows.identifiers - not_issued, name_terms=rows.term_rows,
        name_variants_added=variants_added, first_patient_id=rows.first_id,
        last_patient_id=rows.last_id, seconds=clock.perf_counter() - t0)


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:          # 29 February
        return day.replace(year=day.year - years, day=28)


def _appointment_line(a: SyntheticAppointment, tz_of: Callable[[datetime], datetime]) -> str:
    return (f"{a.provider_id}\t{a.patient_id}\t{a.appointment_type_id}\t"
            f"{tz_of(a.starts_at).isoformat(sep=' ')}\t{tz_of(a.ends_at).isoformat(sep=' ')}\t"
            f"{a.status}\t{_t(a.reason)}\n")


def _load_dictionary(cur: psycopg.Cursor[Any], terms: set[str]) -> int:
    """Spelling-dictionary rows of the new terms; rows already there are kept as they are."""
    rows = names.dictionary_for(terms)
    if not rows:
        return 0
    cur.execute("CREATE TEMP TABLE seed_name_variants (LIKE name_variants) ON COMMIT DROP")
    _copy(cur, "seed_name_variants", "variant, term, kind",
          [f"{_t(v)}\t{_t(t)}\t{k}\n" for v, t, k in sorted(rows)])
    cur.execute("INSERT INTO name_variants (variant, term, kind) "
                "SELECT variant, term, kind FROM seed_name_variants ORDER BY 1, 2, 3 "
                "ON CONFLICT DO NOTHING")
    added = cur.rowcount
    cur.execute("DROP TABLE seed_name_variants")
    return added


SEED_REGION = "US"     # the generator's numbers without a country code are American


def _e164(phone: str) -> str:
    """Numbers stored as the app stores them (E.164; the seed's clinic is in the US), from
    the mixed formats the generator writes as people type them."""
    if not phone:
        return ""
    try:
        return phones.to_e164(phone, SEED_REGION)
    except phones.PhoneProblem:
        return phone


@dataclass
class _Chunk:
    """COPY text of one chunk of patients, for each table."""

    count: int
    patients: list[str]
    identifiers: list[str]
    issued: list[str]
    previous: list[str]
    contacts: list[str]
    terms: list[str]
    pairs: list[str]


_PATIENT_COLUMNS = (
    "id, given_name, middle_name, family_name, preferred_name, birth_date, sex, "
    "gender_identity, phone, phone_digits, email, address_line1, address_line2, city, region, "
    "postal_code, country, language, deceased_at, sort_name")


# Insurance numbers are drawn at random, and a second seed with the same ``--seed`` draws
# the same ones again; the database lets a number belong to one patient per issuer
# (migration 0007). They go through a staging table, and a patient whose number is already
# someone else's is simply left without one.
_STAGE_ISSUED = ("CREATE TEMP TABLE seed_issued_identifiers (patient_id bigint, kind text, "
                 "value text, issuer text) ON COMMIT DROP")


def _copy_chunk(cur: psycopg.Cursor[Any], chunk: _Chunk) -> int:
    """COPY one chunk; returns how many of its insurance numbers were someone else's."""
    _copy(cur, "patients", _PATIENT_COLUMNS, chunk.patients)
    _copy(cur, "patient_identifiers", "patient_id, kind, value, issuer", chunk.identifiers)
    skipped = 0
    if chunk.issued:
        _copy(cur, "seed_issued_identifiers", "patient_id, kind, value, issuer", chunk.issued)
        cur.execute("INSERT INTO patient_identifiers (patient_id, kind, value, issuer) "
                    "SELECT patient_id, kind, value, issuer FROM seed_issued_identifiers "
                    "ORDER BY patient_id ON CONFLICT DO NOTHING")
        skipped = len(chunk.issued) - cur.rowcount
        cur.execute("TRUNCATE seed_issued_identifiers")
    _copy(cur, "patient_names", "patient_id, kind, given_name, family_name, valid_to",
          chunk.previous)
    _copy(cur, "patient_contacts", "patient_id, name, relationship, phone, email, is_emergency",
          chunk.contacts)
    _copy(cur, "patient_name_terms", "term, sort_name, patient_id, source", chunk.terms)
    _copy(cur, "patient_name_pairs", "first, second, sort_name, patient_id, penalty, previous",
          chunk.pairs)
    return skipped


class _PatientRows:
    """Formats chunks of patients and everything hanging off them (pure Python, no I/O);
    remembers what the dictionary and the appointments need. Used by one thread at a
    time."""

    def __init__(self, today: date) -> None:
        self.count = 0
        self.identifiers = 0
        self.term_rows = 0
        self.first_id: int | None = None
        self.last_id: int | None = None
        self.max_mrn = 0
        self.terms: set[str] = set()
        self._children = array("q")
        self._adults = array("q")
        self._women = array("q")
        self._adult_from = _years_before(today, 18)
        self._women_from = _years_before(today, 50)
        self._women_to = _years_before(today, 16)

    def pool(self) -> PatientPool:
        return PatientPool(children=self._children, adults=self._adults, women=self._women)

    def build(self, batch: list[SyntheticPatient], ids: list[int], mrns: list[int]) -> _Chunk:
        patients: list[str] = []
        identifiers: list[str] = []
        issued: list[str] = []
        previous: list[str] = []
        contacts: list[str] = []
        terms: list[tuple[str, str, int, int]] = []
        pairs: list[str] = []
        for pid, mrn, p in zip(ids, mrns, batch, strict=True):
            sort_name = names.sort_name(p.family_name, p.given_name)
            phone = _e164(p.phone)
            patients.append(
                f"{pid}\t{_t(p.given_name)}\t{_t(p.middle_name)}\t{_t(p.family_name)}\t"
                f"{_t(p.preferred_name)}\t{p.birth_date.isoformat()}\t{p.sex}\t"
                f"{_t(p.gender_identity)}\t{_t(phone)}\t{names.phone_digits(phone)}\t"
                f"{_t(p.email)}\t{_t(p.address_line1)}\t{_t(p.address_line2)}\t"
                f"{_t(p.city)}\t{_t(p.region)}\t{_t(p.postal_code)}\t{_t(p.country)}\t"
                f"{_t(p.language)}\t{_d(p.deceased_at)}\t{_t(sort_name)}\n")
            identifiers.append(f"{pid}\tMRN\t{names.format_mrn(mrn)}\t{names.MRN_ISSUER}\n")
            if p.insurance is not None:
                issued.append(f"{pid}\tINSURANCE\t{_t(p.insurance[0])}\t"
                              f"{_t(p.insurance[1])}\n")
            for prev in p.previous_names:
                previous.append(f"{pid}\tprevious\t{_t(prev.given_name)}\t"
                                f"{_t(prev.family_name)}\t{_d(prev.valid_to)}\n")
            if p.contact is not None:
                c = p.contact
                contacts.append(f"{pid}\t{_t(c.name)}\t{_t(c.relationship)}\t"
                                f"{_t(_e164(c.phone))}\t"
                                f"{_t(c.email)}\t{'t' if c.is_emergency else 'f'}\n")
            person_terms = names.patient_terms(_person(p))
            for term, source in person_terms:
                terms.append((term, sort_name, pid, source))
            key = _t(sort_name)
            for a, b, pen, was in names.patient_pairs(person_terms):
                pairs.append(f"{_t(a)}\t{_t(b)}\t{key}\t{pid}\t{pen}\t{'t' if was else 'f'}\n")
            if p.deceased_at is None:
                if p.birth_date > self._adult_from:
                    self._children.append(pid)
                else:
                    self._adults.append(pid)
                    if p.sex == "female" and self._women_from < p.birth_date <= self._women_to:
                        self._women.append(pid)

        # In key order, so the index on (term, sort_name, ...) is filled sweeping forward.
        terms.sort()
        self.terms.update(t[0] for t in terms)
        self.count += len(batch)
        self.identifiers += len(identifiers) + len(issued)
        self.term_rows += len(terms)
        if batch:
            self.first_id = ids[0] if self.first_id is None else self.first_id
            self.last_id = ids[-1]
            self.max_mrn = max(self.max_mrn, *mrns)
        return _Chunk(len(batch), patients, identifiers, issued, previous, contacts,
                      [f"{_t(t)}\t{_t(s)}\t{i}\t{src}\n" for t, s, i, src in terms], pairs)
