"""A little clinical history for the fixed demo people, so that a first ``make run`` shows
a chart with something in it: allergies and alerts in the header, problems, medications
and two past encounters. Written by the schema's owner (like the rest of the seed);
dates count back from the database's own date, never the workstation's."""

from __future__ import annotations

from sqlalchemy import Connection, text

# (given, family) → what their chart holds
ALLERGIES = {
    ("Anna", "Müller"): [("Penicillin", "high", "Hives and facial swelling"),
                         ("Latex", "moderate", "Contact dermatitis")],
    ("John", "Smith"): [("Codeine", "moderate", "Vomiting")],
    ("Mohammed", "Al-Sayed"): [("Peanuts", "high", "Anaphylaxis")],
}
ALERTS = {
    ("Anna", "Müller"): [("clinical", "moderate", "Needle phobia: allow extra time")],
    ("Иван", "Иванов"): [("clinical", "high", "On anticoagulation: bleeding risk")],
}
PROBLEMS = {
    ("Anna", "Müller"): [("Type 2 diabetes mellitus", "E11.9", 2000),
                         ("Essential hypertension", "I10", 1200)],
    ("Иван", "Иванов"): [("Atrial fibrillation", "I48.91", 3000),
                         ("Chronic kidney disease, stage 3", "N18.3", 900)],
    ("John", "Smith"): [("Osteoarthritis of knee", "M17.9", 2500)],
}
MEDICATIONS = {
    ("Anna", "Müller"): [("Metformin", "500 mg", "twice daily", 1900),
                         ("Ramipril", "5 mg", "once daily", 1100)],
    ("Иван", "Иванов"): [("Apixaban", "5 mg", "twice daily", 2900),
                         ("Bisoprolol", "2.5 mg", "once daily", 2900)],
    ("John", "Smith"): [("Paracetamol", "1 g", "four times daily as needed", 400)],
}
ENCOUNTERS = {
    ("Anna", "Müller"): [(180, "Diabetes review", "HbA1c 7.1 %. Continue metformin; "
                                                   "retinal screening booked."),
                         (40, "Blood pressure check", "BP 138/86. Ramipril continued.")],
    ("Иван", "Иванов"): [(90, "Anticoagulation review", "No bleeding. eGFR stable.")],
}


def seed_demo_chart(conn: Connection) -> int:
    """Adds the demo charts; returns how many rows it wrote (0 if the people are absent)."""
    written = 0
    ids = {(g, f): i for i, g, f in conn.execute(text(
        "SELECT id, given_name, family_name FROM patients WHERE (given_name, family_name) IN "
        "(SELECT * FROM unnest(CAST(:g AS text[]), CAST(:f AS text[])))"),
        {"g": [g for g, _ in _people()], "f": [f for _, f in _people()]})}
    provider = conn.execute(text(
        "SELECT id FROM providers WHERE is_active ORDER BY id LIMIT 1")).scalar()
    for who, items in ALLERGIES.items():
        for substance, severity, reaction in items:
            written += _insert(conn, ids, who, "INSERT INTO alerts (patient_id, kind, severity, "
                               "description, reaction) VALUES (:p, 'allergy', :s, :d, :r)",
                               {"s": severity, "d": substance, "r": reaction})
    for who, items in ALERTS.items():
        for kind, severity, description in items:
            written += _insert(conn, ids, who, "INSERT INTO alerts (patient_id, kind, severity, "
                               "description) VALUES (:p, :k, :s, :d)",
                               {"k": kind, "s": severity, "d": description})
    for who, problems in PROBLEMS.items():
        for description, code, days in problems:
            written += _insert(conn, ids, who, "INSERT INTO problems (patient_id, description, "
                               "code, onset_date) VALUES (:p, :d, :c, current_date - :n)",
                               {"d": description, "c": code, "n": days})
    for who, medications in MEDICATIONS.items():
        for name, dose, frequency, days in medications:
            written += _insert(conn, ids, who, "INSERT INTO medications (patient_id, name, "
                               "dose, frequency, started_on) "
                               "VALUES (:p, :n, :d, :f, current_date - :days)",
                               {"n": name, "d": dose, "f": frequency, "days": days})
    if provider is not None:
        for who, encounters in ENCOUNTERS.items():
            for days, reason, summary in encounters:
                written += _insert(
                    conn, ids, who,
                    "INSERT INTO encounters (patient_id, provider_id, started_at, ended_at, "
                    "status, reason, summary) VALUES (:p, :prov, "
                    "now() - make_interval(days => :n), "
                    "now() - make_interval(days => :n) + interval '20 minutes', "
                    "'closed', :r, :s)",
                    {"prov": provider, "n": days, "r": reason, "s": summary})
    return written


def _people() -> list[tuple[str, str]]:
    return sorted({*ALLERGIES, *ALERTS, *PROBLEMS, *MEDICATIONS, *ENCOUNTERS})


def _insert(conn: Connection, ids: dict[tuple[str, str], int], who: tuple[str, str],
            sql: str, values: dict[str, object]) -> int:
    patient = ids.get(who)
    if patient is None:
        return 0
    conn.execute(text(sql), {"p": patient, **values})
    return 1
