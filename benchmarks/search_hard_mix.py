"""The hard mix of patient search (issue 13): the name forms and numbers clinics type.

Queries are drawn from the seeded patients of the seed's cultures, by class:

- particles joined / split: given name + a family name of several words ("De la Cruz",
  "San Martín", "Mac Giolla Phádraig", "Ó Súilleabháin") typed as one word or as words;
- unspaced CJK: family + given name in Han characters with no space ("李娜");
- prefix families: Mac/Mc/M' typed the other way or with a space ("mc leod" for MacLeod),
  O' typed without the apostrophe or with a space, one letter short ("oneil");
- transliteration variants: another spelling of the given name from the curated table
  (``name_equivalents.txt``, read here as data, so the 'before' code can run the same mix),
  preferring spellings more than two edits away, + the family name;
- initials: family name + the given name's first letter ("smith j");
- name + year, name + date of birth: a name word + the year ("anna 1984") or full date;
- phones in five formats: "+1 917 206 5843", "1-917-206-5843", "206-5843", "2065843",
  "917.206.5843" (for numbers stored in other countries' formats: +CC digits, 00CC
  digits, the national digits, the last seven with a dash, and the last seven).

For each query the intended patient's "equally good or better" rivals are counted by SQL
that knows nothing of the search code (same name; same family and a given name with the
initial; same name word and year; the same number): a query whose patient has 10 or more
such rivals cannot single them out, and is left out of the top-10 rate (and counted).
This module runs with the code before issue 13 as well (it only calls the service).
"""

from __future__ import annotations

import random
import re
import statistics
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, text

from backend_client.patients import names

EQUIVALENTS = Path(__file__).resolve().parents[1] / "backend_client/patients/name_equivalents.txt"
SEP = "\x1f"
PARTICLES = (r"^(de|del|de la|della|di|da|dos|das|du|le|la|san|santa|van|von|ten|ter|mac|ó|o"
             r"|al|el|bin|ibn) ")
CJK = "[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]"


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def _groups() -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for line in EQUIVALENTS.read_text(encoding="utf-8").splitlines():
        group = ["".join(names.tokens(w)) for w in line.split("#", 1)[0].split()]
        for g in group:
            out[g] = [x for x in group if x != g]
    return out


def _sample(engine: Engine, where: str, n: int, rng: random.Random,
            params: dict[str, Any] | None = None) -> list[Any]:
    with engine.connect() as c:
        rows = list(c.execute(text(f"""
            SELECT id, given_name, family_name, birth_date, phone, phone_digits, sort_name
            FROM patients WHERE {where} ORDER BY id LIMIT 20000"""), params or {}))
    rng.shuffle(rows)
    return rows[:n]


def _rivals_sql(kind: str) -> str:
    """SQL counting the intended patient and everyone matching as well or better."""
    if kind in ("particles joined", "particles split", "unspaced CJK", "prefix family"):
        return "SELECT count(*) FROM patients WHERE sort_name = :sort"
    # A family name of several words also counts joined: "El Sayed" is typed "elsayed".
    if kind == "variant":
        return ("SELECT count(*) FROM patients WHERE replace(split_part(sort_name, :sep, 1), "
                "' ', '') = replace(:fam, ' ', '') "
                "AND split_part(split_part(sort_name, :sep, 2), ' ', 1) = ANY(:givens)")
    if kind == "initial":
        # "Orlando g" is as good for Orlando García as for García Orlando.
        return ("SELECT count(*) FROM patients WHERE (replace(split_part(sort_name, :sep, 1), "
                "' ', '') = replace(:fam, ' ', '') AND split_part(sort_name, :sep, 2) "
                "LIKE :ini || '%') OR (split_part(split_part(sort_name, :sep, 2), ' ', 1) "
                "= replace(:fam, ' ', '') AND split_part(sort_name, :sep, 1) LIKE :ini || '%')")
    if kind == "name + year":
        return ("SELECT count(*) FROM patients WHERE (split_part(sort_name, :sep, 1) = :word "
                "OR split_part(split_part(sort_name, :sep, 2), ' ', 1) = :word) "
                "AND birth_date >= make_date(:y, 1, 1) AND birth_date < make_date(:y + 1, 1, 1)")
    if kind == "name + date of birth":
        return ("SELECT count(*) FROM patients WHERE replace(split_part(sort_name, :sep, 1), "
                "' ', '') = replace(:fam, ' ', '') AND birth_date = :born")
    return ("SELECT count(*) FROM patients WHERE right(phone_digits, 7) = right(:d, 7) "
            "AND phone_digits <> '' AND (ltrim(phone_digits, '0') LIKE '%' || ltrim(:d, '0') "
            "OR ltrim(:d, '0') LIKE '%' || ltrim(phone_digits, '0'))")


PHONE_FORMS: list[Callable[[str], str]] = [
    lambda d: f"+1 {d[-10:-7]} {d[-7:-4]} {d[-4:]}" if len(d) == 10 else f"+{d}",
    lambda d: f"1-{d[-10:-7]}-{d[-7:-4]}-{d[-4:]}" if len(d) == 10 else f"00{d}",
    lambda d: f"{d[-7:-4]}-{d[-4:]}",
    lambda d: d[-7:],
    lambda d: f"{d[-10:-7]}.{d[-7:-4]}.{d[-4:]}" if len(d) == 10 else f"0{d[2:]}",
]


def build(engine: Engine, per_kind: int, rng: random.Random
          ) -> list[tuple[str, str, int, dict[str, Any]]]:
    """(kind, query, intended patient id, rival-count parameters)."""
    mix: list[tuple[str, str, int, dict[str, Any]]] = []

    def add(kind: str, q: str, row: Any, **extra: Any) -> None:
        mix.append((kind, q, int(row.id), {"sort": row.sort_name, "sep": SEP, **extra}))

    for row in _sample(engine, f"lower(family_name) ~ '{PARTICLES}'", per_kind, rng):
        words = names.tokens(row.family_name)
        given = names.tokens(row.given_name)[0]
        add("particles joined", f"{given} {''.join(words)}", row)
        add("particles split", f"{' '.join(words)} {given}", row)
    cjk = f"family_name ~ '{CJK}' AND given_name ~ '{CJK}'"
    for row in _sample(engine, cjk, per_kind, rng):
        add("unspaced CJK", f"{row.family_name}{row.given_name}", row)
    mac = "family_name ~* '^(mac|mc)[a-z]{3}|^o''[a-z]'"  # "Mack" is no Mac name
    for row in _sample(engine, mac, per_kind, rng):
        fam = names.tokens(row.family_name)[0]
        given = names.tokens(row.given_name)[0]
        if fam.startswith("mac"):
            q = rng.choice([f"mc {fam[3:]}", f"mc{fam[3:]}", f"mac {fam[3:]}"])
        elif fam.startswith("mc"):
            q = rng.choice([f"mac {fam[2:]}", f"mac{fam[2:]}", f"mc {fam[2:]}"])
        else:  # O'Neill: typed without the apostrophe, one letter short, or spaced
            q = rng.choice([fam[:-1] if fam[-1] == fam[-2] else fam, f"o {fam[1:]}"])
        add("prefix family", f"{given} {q}", row)
    groups = _groups()
    with engine.connect() as c:
        variant_rows = list(c.execute(text("""
            SELECT id, given_name, family_name, birth_date, phone, phone_digits, sort_name
            FROM patients WHERE lower(given_name) = ANY(:g) ORDER BY id LIMIT 20000"""),
            {"g": list(groups)}))
    rng.shuffle(variant_rows)
    for row in variant_rows[:per_kind]:
        given = "".join(names.tokens(row.given_name))
        others = groups.get(given, [])
        far = [o for o in others if not names.within_edits(given, o, 2)]
        family = " ".join(names.tokens(row.family_name))
        if not others or not family:
            continue
        add("variant", f"{rng.choice(far or others)} {family}", row,
            fam=family, givens=[given, *others])
    latin = "family_name ~ '^[A-Za-z]+$' AND given_name ~ '^[A-Za-z]+$'"
    for row in _sample(engine, latin, per_kind, rng):
        ini = names.tokens(row.given_name)[0][0]
        add("initial", f"{row.family_name} {ini}", row,
            fam=" ".join(names.tokens(row.family_name)), ini=ini)
    for row in _sample(engine, latin, per_kind, rng):
        word = rng.choice([names.tokens(row.given_name)[0], names.tokens(row.family_name)[0]])
        add("name + year", f"{word} {row.birth_date.year}", row, word=word,
            y=row.birth_date.year)
    for row in _sample(engine, latin, per_kind // 2, rng):
        add("name + date of birth", f"{row.family_name} {row.birth_date:%d.%m.%Y}", row,
            fam=" ".join(names.tokens(row.family_name)), born=row.birth_date)
    for row in _sample(engine, "length(phone_digits) >= 10", per_kind, rng):
        d = row.phone_digits
        form = rng.randrange(len(PHONE_FORMS))
        add(f"phone format {form + 1}", PHONE_FORMS[form](d), row, d=d)
    rng.shuffle(mix)
    return mix


def naive(engine: Engine, query: str) -> None:
    """``ILIKE '%…%'`` over the name columns and the phone, as a web EMR does it."""
    words = re.split(r"[\s,]+", query.strip())
    where = " AND ".join(
        f"(given_name || ' ' || middle_name || ' ' || family_name || ' ' || phone "
        f"|| ' ' || birth_date::text) ILIKE :w{i}" for i in range(len(words)))
    with engine.connect() as c:
        c.execute(text(f"SELECT id FROM patients WHERE {where} "
                       "ORDER BY family_name, given_name LIMIT 50"),
                  {f"w{i}": f"%{w}%" for i, w in enumerate(words)}).all()


def cpu_clock(postgres_dir: Path | None) -> Callable[[], float]:
    """Milliseconds of CPU used so far by this process and by the PostgreSQL server whose
    data directory is ``postgres_dir`` (its backends, from /proc/PID/schedstat, in ns).

    Wall time on a shared machine also measures everyone else's work: the CPU a query
    costs does not, so before/after comparisons hold on a busy machine too. Without
    /proc or a local server, only this process is counted."""
    pid = 0
    try:
        if postgres_dir is not None:
            pid = int((postgres_dir / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        pid = 0

    backends: list[Path] = []
    calls = [0]

    def server_ns() -> int:
        if not backends or calls[0] % 50 == 0:  # the pool's connections, found now and then
            backends[:] = []
            for stat in Path("/proc").glob("[0-9]*/stat"):
                try:
                    if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                        backends.append(stat.parent / "schedstat")
                except (OSError, ValueError, IndexError):
                    continue
        calls[0] += 1
        total = 0
        for path in backends:
            try:
                total += int(path.read_text().split()[0])
            except (OSError, ValueError, IndexError):
                continue  # a backend that ended
        return total

    spent = [0.0]  # this process's CPU spent reading /proc, left out

    def now() -> float:
        before = time.process_time() * 1000
        server = server_ns() / 1e6 if pid else 0.0
        spent[0] += time.process_time() * 1000 - before
        return time.process_time() * 1000 - spent[0] + server
    return now


def run(engine: Engine, search: Callable[[str], Any], per_kind: int, n_baseline: int,
        rng: random.Random, cpu: Callable[[], float] | None = None) -> None:
    mix = build(engine, per_kind, rng)
    for _, q, _, _ in mix[:30]:  # warm the caches
        search(q)
    with engine.connect() as c:
        rivals = [c.execute(text(_rivals_sql(kind.split(" format")[0]
                                             if kind.startswith("phone") else kind)),
                            params).scalar_one() for kind, _, _, params in mix]
    times: dict[str, list[float]] = defaultdict(list)
    cpus: dict[str, list[float]] = defaultdict(list)
    top10: dict[str, list[bool]] = defaultdict(list)
    tied: dict[str, int] = defaultdict(int)
    misses: dict[str, list[str]] = defaultdict(list)
    for (kind, q, pid, _), rival in zip(mix, rivals, strict=True):
        c0 = cpu() if cpu else 0.0
        t = time.perf_counter()
        page = search(q)
        times[kind].append((time.perf_counter() - t) * 1000)
        if cpu:
            cpus[kind].append(cpu() - c0)
        if rival > 10:
            tied[kind] += 1
            continue
        hit = any(p.id == pid for p in page.items[:10])
        top10[kind].append(hit)
        if not hit:
            misses[kind].append(q)
    every = [x for v in times.values() for x in v]
    found = [x for v in top10.values() for x in v]
    print(f"hard mix: {len(every)} queries, p50 {pct(every, 50):.2f} ms, "
          f"p95 {pct(every, 95):.2f} ms, p99 {pct(every, 99):.2f} ms, max {max(every):.1f} ms; "
          f"intended patient in the top 10 for {100 * sum(found) / max(1, len(found)):.1f}% "
          f"of the {len(found)} queries whose patient has fewer than 10 equally good rivals "
          f"({sum(tied.values())} left out as tied)")
    every_cpu = [x for v in cpus.values() for x in v]
    if every_cpu:
        print(f"  CPU per query (this process + the database server): p50 "
              f"{pct(every_cpu, 50):.2f} ms, p95 {pct(every_cpu, 95):.2f} ms")
    for kind in sorted(times):
        hits = top10[kind]
        cpu_part = (f"  cpu p50 {pct(cpus[kind], 50):5.2f} p95 {pct(cpus[kind], 95):5.2f}"
                    if cpus[kind] else "")
        print(f"  {kind:<21} n={len(times[kind]):<4} p50 {pct(times[kind], 50):6.2f} ms  "
              f"p95 {pct(times[kind], 95):6.2f} ms{cpu_part}  top-10 "
              f"{100 * sum(hits) / max(1, len(hits)):5.1f}% of {len(hits):<3} "
              f"(tied, left out: {tied[kind]})"
              + (f"  e.g. missed: {misses[kind][:3]}" if misses[kind] else ""))
    base, ours = [], []
    for _, q, _, _ in mix[:n_baseline]:
        t = time.perf_counter()
        naive(engine, q)
        base.append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        search(q)
        ours.append((time.perf_counter() - t) * 1000)
    print(f"  ILIKE on the first {len(base)} queries of the hard mix: p50 {pct(base, 50):.1f} ms"
          f", mean {statistics.mean(base):.1f} ms; ours p50 {pct(ours, 50):.2f} ms, mean "
          f"{statistics.mean(ours):.2f} ms: {pct(base, 50) / pct(ours, 50):.0f}x faster at "
          f"the median, {statistics.mean(base) / statistics.mean(ours):.0f}x on the mean")
