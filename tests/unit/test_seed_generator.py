"""The synthetic-data generator, without a database: determinism, plausible values, the
name pools' size and skew, schedules that fit working hours."""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from datetime import date, datetime, time
from itertools import islice

import pytest

from backend_client.patients import names
from backend_client.seed import names_data as nd
from backend_client.seed.generator import (
    AppointmentType,
    ClinicGenerator,
    PatientPool,
    SyntheticPatient,
    feminine_surname,
    russian_patronymic,
    strip_accents,
    transliterate_russian,
)

TODAY = date(2026, 11, 27)
SAMPLE = 30_000
TYPES = [AppointmentType(1, "Consultation", 15), AppointmentType(2, "Long consultation", 30),
         AppointmentType(3, "Follow-up", 10), AppointmentType(4, "New patient", 40),
         AppointmentType(5, "Procedure", 45)]


@pytest.fixture(scope="module")
def sample() -> list[SyntheticPatient]:
    return list(ClinicGenerator(1, TODAY).patients(SAMPLE))


def test_same_seed_same_patients_and_another_seed_others() -> None:
    a = list(ClinicGenerator(3, TODAY).patients(300))
    assert a == list(ClinicGenerator(3, TODAY).patients(300))
    # The first n patients do not depend on how many are asked for.
    assert a[:50] == list(ClinicGenerator(3, TODAY).patients(50))
    b = list(ClinicGenerator(4, TODAY).patients(300))
    assert sum(x.family_name == y.family_name for x, y in zip(a, b, strict=True)) < 30


def test_generation_leaves_the_global_random_alone() -> None:
    random.seed(99)
    expected = random.random()
    random.seed(99)
    list(ClinicGenerator(1, TODAY).patients(200))
    ClinicGenerator(1, TODAY).providers(3)
    assert random.random() == expected


def test_patients_stream_lazily() -> None:
    stream = ClinicGenerator(1, TODAY).patients(10**12)
    assert len(list(islice(stream, 3))) == 3


def test_birth_dates_and_ages_are_plausible(sample: list[SyntheticPatient]) -> None:
    ages = [(TODAY - p.birth_date).days / 365.25 for p in sample]
    assert all(0 <= a < 101 for a in ages)
    children = sum(a < 18 for a in ages) / len(ages)
    elderly = sum(a >= 65 for a in ages) / len(ages)
    assert 0.15 < children < 0.30
    assert 0.10 < elderly < 0.30
    assert sum(a >= 90 for a in ages) > 0
    assert Counter(p.sex for p in sample)["female"] / len(sample) == pytest.approx(0.505,
                                                                                  abs=0.02)


def test_some_patients_died_after_birth_and_not_in_the_future(
        sample: list[SyntheticPatient]) -> None:
    dead = [p for p in sample if p.deceased_at is not None]
    assert 0.005 < len(dead) / len(sample) < 0.02
    for p in dead:
        assert p.deceased_at is not None and p.birth_date <= p.deceased_at <= TODAY
    # Deaths are more common among the old.
    assert sum(TODAY.year - p.birth_date.year >= 70 for p in dead) > len(dead) / 2


def test_previous_names_preferred_names_and_contact_details(
        sample: list[SyntheticPatient]) -> None:
    with_previous = [p for p in sample if p.previous_names]
    assert 0.02 < len(with_previous) / len(sample) < 0.045
    for p in with_previous:
        prev = p.previous_names[0]
        assert prev.family_name != p.family_name and prev.valid_to is not None
        assert p.birth_date < prev.valid_to <= TODAY
    assert 0.02 < sum(bool(p.preferred_name) for p in sample) / len(sample) < 0.1
    phones = [p.phone for p in sample if p.phone]
    assert 0.85 < len(phones) / len(sample) < 0.97
    formats = {"".join("9" if c.isdigit() else c for c in ph) for ph in phones}
    assert {"(999) 999-9999", "999-999-9999", "9999999999"} <= formats
    us = [names.phone_digits(ph) for ph in phones if not ph.startswith("+")]
    assert all(len(d) == 10 for d in us)
    emails = [p.email for p in sample if p.email]
    assert emails and all(e.split("@")[1].endswith(("example.com", "example.org",
                                                    "example.net")) for e in emails)
    insured = sum(p.insurance is not None for p in sample) / len(sample)
    assert 0.25 < insured < 0.35
    assert all(p.given_name.strip() and p.family_name.strip() for p in sample)
    assert all(len(p.given_name) <= 100 and len(p.family_name) <= 100 for p in sample)


def test_names_come_from_many_cultures_and_scripts(sample: list[SyntheticPatient]) -> None:
    assert len({p.culture for p in sample}) >= 15
    families = [p.family_name for p in sample]
    assert any("\u0400" <= f[0] <= "\u04ff" for f in families)             # Cyrillic
    assert any("\u4e00" <= f[0] <= "\u9fff" for f in families)             # Hanzi
    assert any("-" in f for f in families) and any("'" in f for f in families)
    assert any(f == "Nguyễn" for f in families) and any(f == "Nguyen" for f in families)
    assert any(p.middle_name.endswith(("ovich", "evich", "ович", "евич")) for p in sample)


def test_name_pools_are_large_and_skewed(sample: list[SyntheticPatient]) -> None:
    pools = nd.culture_pools()
    assert len(pools) >= 8
    surnames = {n for p in pools for n in p.surnames.names}
    given = {n for p in pools for n in (*p.male.names, *p.female.names)}
    assert len(surnames) >= 1500
    assert len(given) >= 1000
    for name in ("Smith", "Smyth", "Thompson", "Thomson", "Phillips", "Philips", "Schmidt",
                 "Schmitt", "Meyer", "Meier", "Mayer", "Katz", "Kats", "Nguyễn", "Müller",
                 "Schäfer", "Weiß", "O'Brien", "O'Connor", "MacDonald", "McDonald", "García",
                 "Muñoz", "Peña", "Wójcik", "Trần", "王", "李", "Иванов"):
        assert name in surnames or name in nd.SURNAME_HANZI.values(), name
    for name in ("Mohammed", "Muhammad", "Mohamed", "Łukasz"):
        assert name in given, name

    # A realistic head: the commonest surname (as search sees it) is about 0.5–1% of
    # patients, and the ten commonest together a few per cent.
    folded = Counter(names.tokens(p.family_name)[0] for p in sample)
    top = folded.most_common(10)
    assert 0.004 < top[0][1] / len(sample) < 0.012
    assert sum(c for _, c in top) / len(sample) < 0.06
    # A long tail: most people share their exact name with few others.
    combos = Counter((p.given_name, p.family_name) for p in sample)
    assert sum(1 for p in sample if combos[(p.given_name, p.family_name)] == 1) > SAMPLE / 2


def test_language_rules() -> None:
    assert transliterate_russian("Иванов") == "Ivanov"
    assert transliterate_russian("Васильев") == "Vasilyev"
    assert transliterate_russian("Достоевский") == "Dostoyevsky"
    assert feminine_surname("russian", "Иванов") == "Иванова"
    assert feminine_surname("russian", "Достоевский") == "Достоевская"
    assert feminine_surname("polish", "Kowalski") == "Kowalska"
    assert feminine_surname("greek", "Papadopoulos") == "Papadopoulou"
    assert feminine_surname("english", "Jones") == "Jones"
    assert feminine_surname("irish_scottish", "Mac Giolla Phádraig") == "Nic Giolla Phádraig"
    assert russian_patronymic("Сергей", female=False) == "Сергеевич"
    assert russian_patronymic("Юрий", female=True) == "Юрьевна"
    assert russian_patronymic("Пётр", female=False) == "Петрович"
    assert strip_accents("Nguyễn Đặng") == "Nguyen Dang"


def test_providers_work_weekdays_with_some_half_days() -> None:
    providers = ClinicGenerator(1, TODAY).providers(40)
    assert providers == ClinicGenerator(1, TODAY).providers(40)
    assert all(p.title == "Dr." for p in providers)
    assert len({p.specialty for p in providers}) >= 6
    assert {"Family medicine", "Paediatrics"} <= {p.specialty for p in providers}
    half_days = 0
    for p in providers:
        by_day: dict[int, list[tuple[time, time]]] = defaultdict(list)
        for h in p.hours:
            assert 1 <= h.weekday <= 5 and time(7) <= h.starts_at < h.ends_at <= time(19)
            by_day[h.weekday].append((h.starts_at, h.ends_at))
        for blocks in by_day.values():
            blocks.sort()
            assert all(a[1] <= b[0] for a, b in zip(blocks, blocks[1:], strict=False))
        half_days += sum(len(b) == 1 for b in by_day.values())
    assert half_days > 0


def test_appointments_fit_hours_never_overlap_and_mostly_booked() -> None:
    gen = ClinicGenerator(2, TODAY)
    providers = list(enumerate(gen.providers(12), start=100))
    pool = PatientPool(children=range(1, 200), adults=range(200, 1000), women=range(500, 600))
    appts = list(gen.appointments(providers, pool, TYPES, weeks=4))
    assert appts == list(ClinicGenerator(2, TODAY).appointments(providers, pool, TYPES,
                                                                 weeks=4))
    minutes = {t.id: t.minutes for t in TYPES}
    hours = {pid: p.hours for pid, p in providers}
    specialty = {pid: p.specialty for pid, p in providers}
    live: dict[int, list[tuple[datetime, datetime]]] = defaultdict(list)
    for a in appts:
        assert TODAY <= a.starts_at.date() < date.fromordinal(TODAY.toordinal() + 28)
        assert (a.ends_at - a.starts_at).total_seconds() == minutes[a.appointment_type_id] * 60
        assert any(h.weekday == a.starts_at.isoweekday() and h.starts_at <= a.starts_at.time()
                   and a.ends_at.time() <= h.ends_at for h in hours[a.provider_id])
        if specialty[a.provider_id] == "Paediatrics":
            assert a.patient_id < 200
        if a.status != "cancelled":
            live[a.provider_id].append((a.starts_at, a.ends_at))
    for slots in live.values():
        slots.sort()
        assert all(a[1] <= b[0] for a, b in zip(slots, slots[1:], strict=False))
    statuses = Counter(a.status for a in appts)
    assert statuses["booked"] / len(appts) > 0.9 and statuses["cancelled"] > 0
    # Nearer weeks are fuller than later ones.
    week = Counter((a.starts_at.date() - TODAY).days // 7 for a in appts)
    assert week[0] > week[3]


def test_demo_patients_are_fixed() -> None:
    a = ClinicGenerator(1, TODAY).demo_patients()
    b = ClinicGenerator(9, date(2030, 1, 1)).demo_patients()
    assert a == b
    assert {(p.given_name, p.family_name) for p in a} >= {
        ("Anna", "Müller"), ("Seán", "O'Brien"), ("Иван", "Иванов"), ("芳", "王"),
        ("Lan", "Nguyễn"), ("María José", "García-López")}
