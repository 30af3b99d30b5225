"""Patient search from one box, on vanilla PostgreSQL (no pg_trgm, no unaccent).

What is typed is split into name tokens, dates of birth, and identifier or phone numbers.
Each name token matches the patient_name_terms index in four tiers, best first:

    4  the whole term        ("smith" → smith)
    3  a prefix of a term    ("smi"   → smith, smithers), from 2 letters
    2  one edit away         ("smiht" → smith), through the name_variants dictionary
    1  sounds alike          ("smyth" → smith), Metaphone keys in the same dictionary

A patient must match every token (in any order, any name part, current or previous
names). One token is answered by ordered index range scans that stop at the page size;
several tokens are joined to the most selective one (a date of birth or an identifier if
given, else the longest token), so the work is bounded by that token's matches.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import Row, text
from sqlalchemy.orm import Session

from backend_client.dto import PatientSummary, SearchPage
from backend_client.patients import names
from backend_client.patients.dates import find_dates

TIER_LABELS = {2: "similar spelling", 1: "sounds alike"}


@dataclass
class NameToken:
    text: str
    fuzzy: list[str] = field(default_factory=list)      # terms one edit away
    phonetic: list[str] = field(default_factory=list)   # terms that sound alike

    @property
    def upper(self) -> str:
        return names.prefix_upper_bound(self.text)


@dataclass(frozen=True)
class ParsedQuery:
    text: str
    tokens: tuple[str, ...]
    dates: tuple[date, ...]
    identifiers: tuple[str, ...]
    phones: tuple[str, ...]

    @property
    def empty(self) -> bool:
        return not (self.tokens or self.dates or self.identifiers or self.phones)


_PHONE_ONLY = re.compile(r"^[\s0-9+\-().]+$")


def parse_query(query: str, today: date) -> ParsedQuery:
    rest = query
    dates: list[date] = []
    for match in reversed(find_dates(query, today)):
        dates.extend(match.candidates)
        rest = rest[:match.start] + " " + rest[match.end:]
    identifiers: list[str] = []
    phones: list[str] = []
    tokens: list[str] = []
    stripped = rest.strip()
    if stripped and _PHONE_ONLY.match(stripped) and 7 <= len(names.phone_digits(stripped)) <= 15:
        digits = names.phone_digits(stripped)
        phones.append(digits)
        identifiers.append(digits)
        if len(digits) <= 7:
            identifiers.append(names.format_mrn(int(digits)))
        stripped = ""
    for raw in re.split(r"[\s,;]+", stripped):
        if not raw:
            continue
        if any(c.isdigit() for c in raw):
            ident = raw.strip(".").upper()
            identifiers.append(ident)
            if ident.isdigit():
                if len(ident) <= 7:
                    identifiers.append(names.format_mrn(int(ident)))
                if 7 <= len(ident) <= 15:
                    phones.append(ident)
            continue
        for tok in names.tokens(raw):
            ascii_tok = all(ord(c) < 128 for c in tok)
            if (len(tok) >= names.MIN_PREFIX or not ascii_tok) and tok not in tokens:
                tokens.append(tok)
    return ParsedQuery(query, tuple(tokens), tuple(dict.fromkeys(dates)),
                       tuple(dict.fromkeys(identifiers)), tuple(dict.fromkeys(phones)))


SUMMARY_COLUMNS = """
    p.id, p.given_name, p.family_name, p.middle_name, p.birth_date, p.sex, p.phone,
    p.deceased_at IS NOT NULL AS deceased,
    (SELECT i.value FROM patient_identifiers i
      WHERE i.patient_id = p.id AND i.kind = 'MRN' LIMIT 1) AS mrn
"""


def _summary(row: Row[Any], matched_on: str = "") -> PatientSummary:
    m = row._mapping
    return PatientSummary(
        id=m["id"], given_name=m["given_name"], family_name=m["family_name"],
        middle_name=m["middle_name"], birth_date=m["birth_date"], sex=m["sex"],
        mrn=m["mrn"] or "", phone=m["phone"], deceased=m["deceased"], matched_on=matched_on,
    )


def _matched_on(tier: int, previous: bool) -> str:
    parts = []
    if previous:
        parts.append("previous name")
    if tier in TIER_LABELS:
        parts.append(TIER_LABELS[tier])
    return ", ".join(parts)


class PatientSearch:
    """Runs one parsed query in one session. Stateless; the caller owns the session."""

    def __init__(self, session: Session) -> None:
        self.s = session

    # ------------------------------------------------------------------ spelling

    def _expand(self, tokens: tuple[str, ...]) -> list[NameToken]:
        out = [NameToken(t) for t in tokens]
        lookups: dict[str, list[NameToken]] = {}
        for tok in out:
            variants, key = names.query_variants(tok.text)
            for v in [*variants, key]:
                if v:
                    lookups.setdefault(v, []).append(tok)
        if not lookups:
            return out
        rows = self.s.execute(
            text("SELECT variant, term, kind FROM name_variants WHERE variant = ANY(:v)"),
            {"v": list(lookups)},
        ).all()
        for variant, term, kind in rows:
            for tok in lookups[variant]:
                if term == tok.text or term.startswith(tok.text):
                    continue  # already found as the whole term or a prefix
                if kind == names.DELETION:
                    if names.within_one_edit(tok.text, term) and term not in tok.fuzzy:
                        tok.fuzzy.append(term)
                elif term not in tok.phonetic:
                    tok.phonetic.append(term)
        for tok in out:
            tok.phonetic = [t for t in tok.phonetic if t not in tok.fuzzy]
        return out

    # ------------------------------------------------------------------ entry point

    def run(self, q: ParsedQuery, offset: int, limit: int) -> SearchPage:
        if q.empty:
            return SearchPage(q.text, offset, (), False)
        tokens = self._expand(q.tokens)
        ident_ids = self._identifier_hits(q) if (q.identifiers or q.phones) else []
        if ident_ids:
            rows = self._driven(tokens, "ids", ident_ids, offset, limit)
            if rows or not tokens:
                return self._page(q, offset, limit, rows)
        if not tokens:
            if q.dates:
                return self._page(q, offset, limit, self._driven([], "dates", list(q.dates),
                                                                 offset, limit))
            return SearchPage(q.text, offset, (), False)
        if q.dates:
            rows = self._driven(tokens, "dates", list(q.dates), offset, limit)
        elif len(tokens) == 1:
            rows = self._single(tokens[0], offset, limit)
        else:
            rows = self._driven(tokens, "token", [], offset, limit)
        return self._page(q, offset, limit, rows)

    def _page(self, q: ParsedQuery, offset: int, limit: int,
              rows: list[tuple[Row[Any], str]]) -> SearchPage:
        items = tuple(_summary(r, m) for r, m in rows[:limit])
        return SearchPage(q.text, offset, items, len(rows) > limit)

    # ------------------------------------------------------------------ identifiers

    def _identifier_hits(self, q: ParsedQuery) -> list[int]:
        rows = self.s.execute(text("""
            SELECT patient_id, 0 AS rank FROM patient_identifiers WHERE value = ANY(:ids)
            UNION ALL
            SELECT id, 1 FROM patients WHERE phone_digits = ANY(:phones) AND phone_digits <> ''
            ORDER BY rank LIMIT 200
        """), {"ids": list(q.identifiers), "phones": list(q.phones)}).all()
        return list(dict.fromkeys(int(r[0]) for r in rows))

    # ------------------------------------------------------------------ one token

    def _single(self, tok: NameToken, offset: int, limit: int) -> list[tuple[Row[Any], str]]:
        n = offset + limit + 1
        params: dict[str, Any] = {"e": tok.text, "hi": tok.upper, "fz": tok.fuzzy,
                                  "ph": tok.phonetic, "n": n + 5, "off": offset,
                                  "lim": limit + 1}
        parts = ["""(SELECT patient_id, 4 AS tier, source, ''::text COLLATE "C" AS k0, sort_name
                     FROM patient_name_terms WHERE term = :e
                     ORDER BY sort_name, patient_id LIMIT :n)"""]
        if len(tok.text) >= names.MIN_PREFIX or not tok.text.isascii():
            parts.append("""(SELECT patient_id, 3, source, term, sort_name
                     FROM patient_name_terms WHERE term > :e AND term < :hi
                     ORDER BY term, sort_name, patient_id LIMIT :n)""")
        if tok.fuzzy:
            parts.append("""(SELECT patient_id, 2, source, '', sort_name
                     FROM patient_name_terms WHERE term = ANY(:fz)
                     ORDER BY sort_name, patient_id LIMIT :n)""")
        if tok.phonetic:
            parts.append("""(SELECT patient_id, 1, source, '', sort_name
                     FROM patient_name_terms WHERE term = ANY(:ph)
                     ORDER BY sort_name, patient_id LIMIT :n)""")
        sql = f"""
            WITH hits AS ({" UNION ALL ".join(parts)}),
            best AS (
                SELECT DISTINCT ON (patient_id) patient_id, tier, source, k0, sort_name
                FROM hits ORDER BY patient_id, tier DESC, source
            ),
            page AS (
                SELECT * FROM best ORDER BY tier DESC, k0, sort_name, patient_id
                OFFSET :off LIMIT :lim
            )
            SELECT {SUMMARY_COLUMNS}, page.tier, page.source
            FROM page JOIN patients p ON p.id = page.patient_id
            ORDER BY page.tier DESC, page.k0, page.sort_name, page.patient_id
        """
        rows = self.s.execute(text(sql), params).all()
        return [(r, _matched_on(r.tier, r.source in (names.PREVIOUS_FAMILY,
                                                      names.PREVIOUS_GIVEN))) for r in rows]

    # ------------------------------------------------------------------ several tokens

    @staticmethod
    def _token_sql(i: int, alias: str) -> tuple[str, str]:
        """(best-tier expression, match condition) for token ``i`` over ``alias``."""
        best = (f"CASE WHEN {alias}.term = :e{i} THEN 4 "
                f"WHEN {alias}.term > :e{i} AND {alias}.term < :hi{i} THEN 3 "
                f"WHEN {alias}.term = ANY(:fz{i}) THEN 2 ELSE 1 END")
        cond = (f"(({alias}.term >= :e{i} AND {alias}.term < :hi{i}) "
                f"OR {alias}.term = ANY(:fp{i}))")
        return best, cond

    def _driven(self, tokens: list[NameToken], driver: str, values: list[Any],
                offset: int, limit: int) -> list[tuple[Row[Any], str]]:
        """Patients matching every token, joined to a driver set: the longest token, the
        dates of birth, or identifier hits."""
        params: dict[str, Any] = {"off": offset, "lim": limit + 1}
        for i, tok in enumerate(tokens):
            params.update({f"e{i}": tok.text, f"hi{i}": tok.upper, f"fz{i}": tok.fuzzy,
                           f"fp{i}": tok.fuzzy + tok.phonetic})
        ctes: list[str] = []
        others = list(range(len(tokens)))
        if driver == "token":
            d = max(others, key=lambda i: (len(tokens[i].text), -i))
            others.remove(d)
            best, cond = self._token_sql(d, "t")
            ctes.append(f"""d AS (
                SELECT t.patient_id, max({best}) AS best,
                       bool_or(t.source IN (5, 6)) AS prev
                FROM patient_name_terms t WHERE {cond} GROUP BY t.patient_id)""")
        elif driver == "dates":
            params["dates"] = values
            ctes.append("""d AS (SELECT id AS patient_id, 0 AS best, false AS prev
                               FROM patients WHERE birth_date = ANY(:dates))""")
        else:
            params["ids"] = values
            ctes.append("""d AS (SELECT id AS patient_id, 0 AS best, false AS prev
                               FROM patients WHERE id = ANY(:ids))""")
        joins, score, worst, prev = [], ["d.best"], [], ["d.prev"]
        if driver == "token":
            worst.append("d.best")
        for i in others:
            best, cond = self._token_sql(i, "t")
            ctes.append(f"""m{i} AS (
                SELECT t.patient_id, max({best}) AS best,
                       bool_or(t.source IN (5, 6)) AS prev
                FROM patient_name_terms t JOIN d ON d.patient_id = t.patient_id
                WHERE {cond} GROUP BY t.patient_id)""")
            joins.append(f"JOIN m{i} ON m{i}.patient_id = d.patient_id")
            score.append(f"m{i}.best")
            worst.append(f"m{i}.best")
            prev.append(f"m{i}.prev")
        worst_sql = f"LEAST({', '.join(worst)})" if worst else "4"
        sql = f"""
            WITH {", ".join(ctes)},
            page AS (
                SELECT d.patient_id, {" + ".join(score)} AS score, {worst_sql} AS worst,
                       ({" OR ".join(prev)}) AS prev, p.sort_name
                FROM d {" ".join(joins)} JOIN patients p ON p.id = d.patient_id
                ORDER BY score DESC, p.sort_name, d.patient_id
                OFFSET :off LIMIT :lim
            )
            SELECT {SUMMARY_COLUMNS}, page.worst, page.prev
            FROM page JOIN patients p ON p.id = page.patient_id
            ORDER BY page.score DESC, page.sort_name, page.patient_id
        """
        rows = self.s.execute(text(sql), params).all()
        return [(r, _matched_on(r.worst, r.prev)) for r in rows]

    # ------------------------------------------------------------------ by id

    def summaries(self, ids: list[int]) -> list[PatientSummary]:
        rows = self.s.execute(text(f"""
            SELECT {SUMMARY_COLUMNS} FROM patients p WHERE p.id = ANY(:ids)
            ORDER BY p.sort_name, p.id"""), {"ids": ids}).all()
        return [_summary(r) for r in rows]
