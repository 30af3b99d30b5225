"""Patient search at scale: latency of the query mix through the service layer, against a
naive ``ILIKE '%…%'`` scan in the same run, and recall for misspelt surnames.

    make bench                                  (all benchmarks)
    .venv/bin/python -m benchmarks patient_search

Environment: BENCH_DATA_DIR (default /tmp/seedbench) holds an embedded stack; if it has
fewer than BENCH_PATIENTS patients (default 1,000,000) they are seeded first (bulk COPY),
and the seed time is printed. BENCH_QUERIES (default 1000), BENCH_BASELINE (default 100).
The seed books appointments from its day on, so a stack seeded today has patients booked
today: "who is at the desk" reports where they rank when searched by family name alone.

BENCH_PARTS (default "standard,hard") picks the parts: "standard" is the mix above, "hard"
the issue-13 mix of the forms clinics type (``search_hard_mix.py``: particles, unspaced
CJK, Mac/Mc/O', other spellings, initials, name + year or date, phones in five formats),
BENCH_HARD_PER queries per class (default 60).
"""

from __future__ import annotations

import os
import random
import statistics
import time
from collections import defaultdict
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, text

from backend_client.backend import open_backend
from backend_client.config import load_settings
from backend_client.patients import names
from backend_client.patients.service import PatientService
from backend_client.schema import migrate

LETTERS = "abcdefghijklmnopqrstuvwxyz"
DATE_FORMS: list[Callable[[date], str]] = [
    lambda d: d.isoformat(),
    lambda d: f"{d.day:02d}.{d.month:02d}.{d.year}",
    lambda d: f"{d.day} {d.strftime('%b')} {d.year}",
    lambda d: f"{d.strftime('%B')} {d.day}, {d.year}",
    lambda d: f"{d.day:02d}/{d.month:02d}/{d.year}",
]


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def misspell(word: str, rng: random.Random) -> str:
    while True:
        i = rng.randrange(len(word))
        op = rng.choice(["insert", "delete", "substitute", "transpose"])
        if op == "insert":
            out = word[:i] + rng.choice(LETTERS) + word[i:]
        elif op == "delete" and len(word) > 3:
            out = word[:i] + word[i + 1:]
        elif op == "substitute":
            out = word[:i] + rng.choice(LETTERS) + word[i + 1:]
        elif op == "transpose" and i < len(word) - 1:
            out = word[:i] + word[i + 1] + word[i] + word[i + 2:]
        else:
            continue
        if out != word:
            return out


def sample_patients(engine: Engine, count: int, rng: random.Random) -> list[Any]:
    with engine.connect() as c:
        lo, hi = c.execute(text("SELECT min(id), max(id) FROM patients")).one()
        ids = sorted({rng.randint(lo, hi) for _ in range(count * 2)})
        rows = c.execute(text("""
            SELECT p.id, p.given_name, p.family_name, p.birth_date,
                   (SELECT value FROM patient_identifiers i
                     WHERE i.patient_id = p.id AND i.kind = 'MRN') AS mrn
            FROM patients p WHERE p.id = ANY(:ids)"""), {"ids": ids}).all()
    rows = list(rows)
    rng.shuffle(rows)
    return rows[:count]


def build_mix(patients: list[Any], n: int, rng: random.Random) -> list[tuple[str, str, int]]:
    """(kind, query, intended patient id)."""
    mix: list[tuple[str, str, int]] = []
    kinds = ["prefix"] * 25 + ["full name"] * 25 + ["misspelt surname"] * 20 + \
            ["date of birth"] * 15 + ["MRN"] * 15
    for i in range(n):
        p = patients[i % len(patients)]
        kind = kinds[i % len(kinds)]
        family_ascii = [t for t in names.tokens(p.family_name) if t.isascii() and len(t) >= 4]
        if kind == "prefix":
            word = rng.choice(names.tokens(p.family_name) + names.tokens(p.given_name))
            q = word[:rng.randint(2, 4)]
        elif kind == "full name":
            q = rng.choice([f"{p.given_name} {p.family_name}", f"{p.family_name} {p.given_name}"])
        elif kind == "misspelt surname" and family_ascii:
            q = f"{p.given_name} {misspell(family_ascii[0], rng)}"
        elif kind == "misspelt surname":
            kind, q = "full name", f"{p.family_name} {p.given_name}"
        elif kind == "date of birth":
            q = rng.choice(DATE_FORMS)(p.birth_date)
        else:
            q = p.mrn
        mix.append((kind, q, p.id))
    rng.shuffle(mix)
    return mix


def naive(engine: Engine, query: str, kind: str) -> int:
    """The baseline a web EMR ships: ILIKE '%…%' over the columns, no index can help."""
    with engine.connect() as c:
        if kind == "MRN":
            sql = ("SELECT p.id FROM patients p JOIN patient_identifiers i ON i.patient_id = p.id"
                   " WHERE i.value ILIKE :q ORDER BY p.family_name, p.given_name LIMIT 50")
            return len(c.execute(text(sql), {"q": f"%{query}%"}).all())
        if kind == "date of birth":
            sql = ("SELECT id FROM patients WHERE to_char(birth_date, 'YYYY-MM-DD') ILIKE :q"
                   " OR to_char(birth_date, 'DD.MM.YYYY') ILIKE :q"
                   " ORDER BY family_name, given_name LIMIT 50")
            return len(c.execute(text(sql), {"q": f"%{query}%"}).all())
        words = query.replace(",", " ").split()
        where = " AND ".join(
            f"(given_name || ' ' || middle_name || ' ' || family_name) ILIKE :w{i}"
            for i in range(len(words)))
        sql = f"SELECT id FROM patients WHERE {where} ORDER BY family_name, given_name LIMIT 50"
        return len(c.execute(text(sql), {f"w{i}": f"%{w}%" for i, w in enumerate(words)}).all())


def _reception(backend: Any) -> Any:
    """A receptionist signed in at a benchmark desk (her account made once)."""
    from backend_client.accounts.service import AccountService
    from backend_client.accounts.signin import build_session_services
    from backend_client.errors import NotFound

    accounts = AccountService(backend.owner_engine)
    try:
        accounts.get("benchdesk")
    except NotFound:
        accounts.add_user("benchdesk", "Bench Reception", BENCH_PASSWORD, ["receptionist"])
    desk = build_session_services(backend.engine, backend.mongo_db, workstation="bench-desk")
    desk.signin.sign_in("benchdesk", BENCH_PASSWORD)
    return desk.access


BENCH_PASSWORD = "benchmark reception lantern 12"

SEARCH_TABLES = ("patients", "patient_name_terms", "patient_name_pairs", "name_variants",
                 "patient_identifiers", "appointments")


def settle(backend: Any) -> None:
    """Measure the tables as a clinic's database is most of the time: vacuumed.

    A clinic's tables are vacuumed by autovacuum as they change, so nearly every page is
    marked all-visible and an index-only scan (a year of births, a word's patients) reads
    no table rows. A freshly seeded stack can miss that: the seed's own VACUUM cannot mark
    rows that an older snapshot (an autovacuum's ANALYZE that began during the seed) may
    still not see, and autovacuum does not come back to an insert-only table for a long
    while; then "anna 1984" reads ten thousand table pages. Vacuum here when less than 90 %
    of any search table's pages are all-visible, and say so."""
    with backend.owner_engine.connect() as c:
        rows = c.execute(text(
            "SELECT relname, relpages, relallvisible FROM pg_class WHERE relname = ANY(:t)"),
            {"t": list(SEARCH_TABLES)}).all()
    stale = [r.relname for r in rows if r.relpages and r.relallvisible < 0.9 * r.relpages]
    if not stale:
        return
    shown = ", ".join(f"{r.relname} {100 * r.relallvisible / r.relpages:.0f}%"
                      for r in rows if r.relname in stale)
    t0 = time.perf_counter()
    raw = backend.owner_engine.raw_connection()
    conn = raw.driver_connection
    try:
        conn.autocommit = True   # VACUUM runs outside a transaction
        conn.execute(f"VACUUM (ANALYZE) {', '.join(stale)}")
    finally:
        conn.autocommit = False
        raw.close()
    print(f"vacuumed ({shown} of pages all-visible before) in "
          f"{time.perf_counter() - t0:.1f} s")


def desk_check(engine: Engine, service: PatientService, count: int = 100) -> None:
    """Who is at the desk: patients booked today, searched by their family name alone (a
    tie among all their namesakes). Where does the one booked today come, and how fast?"""
    # The workstation's local day, as the service takes it (the same code runs before the
    # desk ranking existed, for a before/after comparison).
    midnight = datetime.combine(datetime.now().date(), datetime.min.time()).astimezone()
    with engine.connect() as c:
        rows = c.execute(text("""
            SELECT DISTINCT ON (a.patient_id) a.patient_id, p.family_name
            FROM appointments a JOIN patients p ON p.id = a.patient_id
            WHERE a.starts_at >= :s AND a.starts_at < :s + interval '1 day'
              AND a.status NOT IN ('cancelled', 'no_show')
            ORDER BY a.patient_id LIMIT :n"""), {"s": midnight, "n": count}).all()
    if not rows:
        print("who is at the desk: nobody is booked today (seed with BENCH_DATA_DIR fresh)")
        return
    ranks: list[float] = []
    times: list[float] = []
    for pid, family in rows:
        word = max(names.tokens(family), key=len)
        t = time.perf_counter()
        page = service.search(word, limit=50)
        times.append((time.perf_counter() - t) * 1000)
        ids = [p.id for p in page.items]
        ranks.append(ids.index(pid) + 1 if pid in ids else 51)
    print(f"who is at the desk: {len(rows)} patients booked today, each searched by the "
          f"longest word of their family name: rank p50 {pct(ranks, 50):.0f}, "
          f"in the top 10 for {100 * sum(r <= 10 for r in ranks) / len(ranks):.0f}%, "
          f"on the first page for {100 * sum(r <= 50 for r in ranks) / len(ranks):.0f}%; "
          f"search p50 {pct(times, 50):.2f} ms")


def main() -> None:
    data_dir = Path(os.environ.get("BENCH_DATA_DIR", "/tmp/seedbench"))
    want = int(os.environ.get("BENCH_PATIENTS", "1000000"))
    n_queries = int(os.environ.get("BENCH_QUERIES", "1000"))
    n_baseline = int(os.environ.get("BENCH_BASELINE", "100"))
    os.environ["DRA_DATA_DIR"] = str(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    backend = open_backend(load_settings())
    try:
        migrate(backend)
        # Samples and the naive baseline read as the owner; the searches themselves go the
        # way a receptionist's do: the app's login, her session, row-level security.
        engine = backend.owner_engine
        with engine.connect() as c:
            have = c.execute(text("SELECT count(*) FROM patients")).scalar_one()
        if have < want:
            from backend_client.seed.loader import seed

            t0 = time.perf_counter()
            seed(backend.owner_engine, patients=want - have, providers=40, seed=7)
            print(f"seeded {want - have} patients in {time.perf_counter() - t0:.1f} s")
            have = want
        print(f"patients in the database: {have}")
        settle(backend)
        rng = random.Random(2026)
        service = PatientService(backend.engine, _reception(backend))
        parts = os.environ.get("BENCH_PARTS", "standard,hard").split(",")
        if "hard" in parts:
            from benchmarks import search_hard_mix

            search_hard_mix.run(engine, lambda q: service.search(q, limit=50),
                                int(os.environ.get("BENCH_HARD_PER", "60")), n_baseline,
                                random.Random(2026),
                                search_hard_mix.cpu_clock(data_dir / "stack" / "postgres"))
        if "standard" not in parts:
            return
        mix = build_mix(sample_patients(engine, n_queries, rng), n_queries, rng)
        for _, q, _ in mix[:50]:  # warm the caches and the connection pool
            service.search(q)

        timings: dict[str, list[float]] = defaultdict(list)
        hits_top10: dict[str, list[bool]] = defaultdict(list)
        for kind, q, pid in mix:
            t = time.perf_counter()
            page = service.search(q, limit=50)
            timings[kind].append((time.perf_counter() - t) * 1000)
            top = page.items[:10]
            hits_top10[kind].append(any(p.id == pid for p in top))
        everything = [x for v in timings.values() for x in v]
        print(f"{len(everything)} queries through PatientService.search (limit 50):")
        print(f"  all       p50 {pct(everything, 50):6.2f} ms  p95 {pct(everything, 95):6.2f} ms"
              f"  p99 {pct(everything, 99):6.2f} ms  max {max(everything):7.2f} ms")
        for kind, values in sorted(timings.items()):
            print(f"  {kind:<17} n={len(values):<4} p50 {pct(values, 50):6.2f} ms"
                  f"  p95 {pct(values, 95):6.2f} ms  found-in-top-10 "
                  f"{100 * sum(hits_top10[kind]) / len(hits_top10[kind]):5.1f}%")
        recall = sum(hits_top10["misspelt surname"]) / max(1, len(hits_top10["misspelt surname"]))
        print(f"recall, misspelt surname (given + surname with one edit), intended patient "
              f"in top 10: {100 * recall:.1f}%")
        # A query cannot single out a patient whose exact name ten or more others share;
        # report how many queries were like that, and the recall over the rest.
        misspelt = [(q, pid, hit) for (kind, q, pid), hit in zip(
            [m for m in mix if m[0] == "misspelt surname"], hits_top10["misspelt surname"],
            strict=True)]
        with engine.connect() as c:
            shared = {pid: c.execute(text(
                "SELECT count(*) FROM patients WHERE sort_name = "
                "(SELECT sort_name FROM patients WHERE id = :id)"), {"id": pid}).scalar_one()
                for _, pid, _ in misspelt}
        clear = [hit for _, pid, hit in misspelt if shared[pid] <= 10]
        print(f"  of these, {len(misspelt) - len(clear)} name a patient whose exact name is "
              f"shared by 10 or more others; recall over the other {len(clear)}: "
              f"{100 * sum(clear) / max(1, len(clear)):.1f}%")
        # What the misspelling itself costs: the same query spelt right (given name and
        # the same surname word). Where even that cannot put the patient in the top 10
        # (too many people answer to it), no spelling correction could.
        spelt_right: list[tuple[bool, bool]] = []
        for _, pid, hit in misspelt:
            with engine.connect() as c:
                given, family = c.execute(text(
                    "SELECT given_name, family_name FROM patients WHERE id = :id"),
                    {"id": pid}).one()
            word = next(t for t in names.tokens(family) if t.isascii() and len(t) >= 4)
            right = service.search(f"{given} {word}", limit=10)
            spelt_right.append((any(p.id == pid for p in right.items[:10]), hit))
        findable = [hit for ok, hit in spelt_right if ok]
        print(f"  spelt right, the same queries find the intended patient in the top 10 for "
              f"{len(findable)} of {len(spelt_right)}; misspelt, for "
              f"{sum(findable)} of those {len(findable)}: "
              f"{100 * sum(findable) / max(1, len(findable)):.1f}%")
        # The surname alone, misspelt: was the intended surname found and put on top?
        surname_hits = []
        for q, pid, _ in misspelt:
            with engine.connect() as c:
                family = c.execute(text("SELECT family_name FROM patients WHERE id = :id"),
                                   {"id": pid}).scalar_one()
            page = service.search(q.split()[-1], limit=10)
            surname_hits.append(any(names.tokens(p.family_name) == names.tokens(family)
                                    for p in page.items[:10]))
        print(f"  the misspelt surname alone: a patient with the intended surname in the top "
              f"10 for {100 * sum(surname_hits) / max(1, len(surname_hits)):.1f}% of queries")

        desk_check(engine, service)

        base_mix = mix[:n_baseline]
        base_t, ours_t = [], []
        for kind, q, _ in base_mix:
            t = time.perf_counter()
            naive(engine, q, kind)
            base_t.append((time.perf_counter() - t) * 1000)
            t = time.perf_counter()
            service.search(q, limit=50)
            ours_t.append((time.perf_counter() - t) * 1000)
        print(f"baseline ILIKE scan on the first {len(base_mix)} queries of the same mix: "
              f"p50 {pct(base_t, 50):.1f} ms  p95 {pct(base_t, 95):.1f} ms  "
              f"mean {statistics.mean(base_t):.1f} ms")
        print(f"ours on the same queries: p50 {pct(ours_t, 50):.2f} ms  "
              f"p95 {pct(ours_t, 95):.2f} ms  mean {statistics.mean(ours_t):.2f} ms")
        print(f"speed-up vs ILIKE: {pct(base_t, 50) / pct(ours_t, 50):.0f}x at the median, "
              f"{statistics.mean(base_t) / statistics.mean(ours_t):.0f}x on the mean")
    finally:
        backend.close(stop_stack=False)


if __name__ == "__main__":
    main()
