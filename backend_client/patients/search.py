"""Patient search from one box, on vanilla PostgreSQL (no pg_trgm, no unaccent).

What is typed is split into name tokens, dates of birth, and identifier or phone numbers
(``query.py``). Each name token matches the patient_name_terms index in five tiers, best
first:

    5  the whole term        ("smith" → smith; "vandam" → van Dam, "李娜" → 李 娜, "mcleod"
                             → MacLeod: the index holds those forms, see names.patient_terms)
    4  another spelling      ("mohamed" → muhammad), the curated name_equivalents.txt
    3  a prefix of a term    ("smi"   → smith, smithers), from 2 letters; a one-letter word
                             typed with a name is an initial ("smith j"), a prefix too
    2  one edit away         ("smiht" → smith), through the name_variants dictionary
    1  sounds alike          ("smyth" → smith), Metaphone keys in the same dictionary

Corrections (tiers 2 and 1) are ranked by how close they are to what was typed, never by
how common the corrected word is. A year typed with a name ("anna 1984") keeps only the
patients born that year; a phone number matches by its last 7+ digits, in any format.

A patient must match every token (in any order, any name part, current or previous
names). One token is answered by ordered index range scans that stop at the page size;
several tokens are joined to the most selective one (a date of birth or an identifier if
given, else the longest token), so the work is bounded by that token's matches.

Plans: each statement is prepared on its connection the first time it runs, and planned
once, without its values (a generic plan: the search's transaction asks for them,
``UnitOfWork(generic_plans=True)``; it commits, see ``PatientService.search``). Planning a
band statement with the values took as long as running it. So a statement's text depends
on the query's shape only (how many words, which band leads), never on the words: tokens
are numbered by role, every arm of a score is always written, and an empty list matches
nothing; a few dozen texts serve every search. Two places need what a generic plan cannot
know: the day's bookings (the day's bounds are written into the text, ``DeskDay.inline``)
and the booked patients beyond a later band group's limit (that one statement asks for a
plan made with its values).

Equally good matches (the same score) are ordered by who is at the desk: an appointment
today first, then seen recently, then by name and patient id (``desk.py`` says exactly how).
Each strategy below therefore also fetches the patients with an appointment today that
match, wherever their name falls, and returns candidates; ``_page`` ranks them and cuts
the page.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable
from datetime import date, datetime
from functools import lru_cache, partial
from typing import Any

from sqlalchemy import Row, TextClause, text
from sqlalchemy.orm import Session

from backend_client.dto import PatientSummary, SearchPage
from backend_client.patients import desk, names
from backend_client.patients.desk import DeskDay, Hit
from backend_client.patients.query import ParsedQuery
from backend_client.patients.query import parse_query as parse_query  # the service's import
from backend_client.patients.tiers import (
    EXACT,
    FUZZY,
    PHONETIC,
    PREFIX,
    VARIANT,
    NameToken,
    closeness,
    matched_on,
    tier_name,
)

PENALTY_SQL = f"CASE WHEN {{a}}.source IN {tuple(names.PRIMARY_SOURCES)} THEN 0 ELSE 1 END"
PREVIOUS_SQL = f"{{a}}.source IN {tuple(names.PREVIOUS_SOURCES)}"
MAX_PHONETIC_EDITS = 2
MAX_CORRECTIONS = 8   # per token and kind, the closest first
# Bands per statement, best first; 0: all that are left. The best band alone fills the page
# for a common name ("john smith") and the search stops there; a precise name never fills
# it, and then one statement for the rest costs less than two (at 1,000,000 patients,
# interleaved per query: 6 % less time at the median on the hard mix's several-word
# classes, p95 16.7 against 19.7 ms). All bands in one statement was faster still for
# precise names but twice as slow for common ones ("maria garcia", "anna m").
BAND_GROUPS = (1, 0)
ALL_TIERS = (EXACT, PREFIX, FUZZY)   # a band side's three ways (_available_tiers)


SUMMARY_COLUMNS = """
    p.id, p.given_name, p.family_name, p.middle_name, p.birth_date, p.sex, p.phone,
    p.deceased_at IS NOT NULL AS deceased,
    (SELECT i.value FROM patient_identifiers i
      WHERE i.patient_id = p.id AND i.kind = 'MRN' LIMIT 1) AS mrn
"""


def _summary(row: Row[Any], label: str = "",
             appointment_today: datetime | None = None, hit: Hit | None = None,
             shown: Callable[[str], str] | None = None) -> PatientSummary:
    m = row._mapping
    return PatientSummary(
        id=m["id"], given_name=m["given_name"], family_name=m["family_name"],
        middle_name=m["middle_name"], birth_date=m["birth_date"], sex=m["sex"],
        mrn=m["mrn"] or "", phone=shown(m["phone"]) if shown else m["phone"],
        deceased=m["deceased"], matched_on=label,
        appointment_today=appointment_today,
        score=hit.score if hit else 0, tier=hit.tier if hit else "",
    )


@lru_cache(maxsize=1024)
def _sql(statement: str, day: DeskDay | None = None) -> TextClause:
    """The statement as SQLAlchemy text, made once per statement text (and ``day``, whose
    bounds it writes in: ``DeskDay.inline``), marked to be prepared ("Plans" above).

    Making a ``text()`` finds its bind parameters with a regular expression, about 2 ms
    for a several-word search's statements (hundreds of ``:e0``); the texts are built
    from the query's shape only (how many words, which tiers), never from what was typed,
    so a few hundred of them cover every search.

    Runs of white space become one space (the statements hold no string literal with
    any): psycopg remembers how it converted a statement only when it is under 4 kB, and
    converting a search's largest took 0.15 ms each time."""
    statement = " ".join(statement.split())
    return text(day.inline(statement) if day else statement).execution_options(prepare=True)


_CUSTOM_PLAN = text("SET LOCAL plan_cache_mode = force_custom_plan")


@lru_cache(maxsize=8)
def _desk_day(day: date) -> DeskDay:
    """The desk's day (three local midnights, each a time-zone lookup: about 0.4 ms of
    CPU), worked out once per date; a DeskDay is frozen."""
    return DeskDay.of(day)


class PatientSearch:
    """Runs one parsed query in one session. Stateless; the caller owns the session.

    ``shown`` turns a stored phone number into what the rows show (the service's
    ``phones.display`` for the clinic's country), as each row is made: copying every
    row afterwards to change one field cost more than making it."""

    def __init__(self, session: Session, shown: Callable[[str], str] | None = None) -> None:
        self.s = session
        self.shown = shown

    # ------------------------------------------------------------------ spelling

    def _expand(self, tokens: tuple[str, ...], *, tiers: bool = False) -> list[NameToken]:
        """The typed words with their other spellings and corrections; with ``tiers``, also
        whether each is a word or a prefix in the index (for ``_bands``), in the same
        round trip."""
        out = [NameToken(t, alts=list(names.equivalents(t))) for t in tokens]
        lookups: dict[str, list[NameToken]] = {}
        for tok in out:
            if len(tok.text) < names.MIN_PREFIX:
                continue  # an initial: a prefix, nothing to correct
            variants, key = names.query_variants(tok.text)
            for v in [*variants, key]:
                if v:
                    lookups.setdefault(v, []).append(tok)
        if not lookups and not tiers:
            return out
        looked = out if tiers else []
        # The words are checked by one subquery each for the word and for a prefix, over
        # a list of them: every table a statement names costs a permission check under
        # row-level security, so two names for any number of words, not two per word.
        found = self.s.execute(_sql("""
            SELECT ARRAY(SELECT ARRAY[variant, term, kind::text] FROM name_variants
                          WHERE variant = ANY(:v)),
                   ARRAY(SELECT ARRAY[
                            EXISTS (SELECT 1 FROM patient_name_terms t WHERE t.term = w.e),
                            EXISTS (SELECT 1 FROM patient_name_terms t
                                     WHERE t.term > w.e AND t.term < w.hi)]
                         FROM unnest(CAST(:es AS text[]), CAST(:his AS text[]))
                              WITH ORDINALITY AS w(e, hi, n) ORDER BY w.n)"""),
            {"v": list(lookups), "es": [t.text for t in looked],
             "his": [t.upper for t in looked]}).one()
        for tok, (whole, starts) in zip(looked, found[1], strict=True):
            tok.whole, tok.starts = whole, starts
        for variant, term, kind_text in found[0]:
            kind = int(kind_text)
            for tok in lookups[variant]:
                if term == tok.text or term.startswith(tok.text) or term in tok.alts:
                    continue  # already found as the whole term, a prefix or a spelling
                if kind == names.DELETION:
                    if names.within_one_edit(tok.text, term) and term not in tok.fuzzy:
                        tok.fuzzy.append(term)
                elif term not in tok.phonetic and names.within_edits(
                        tok.text, term, MAX_PHONETIC_EDITS):
                    # Metaphone keys are coarse ("meyr" ~ "mary", "moore"); keep the
                    # sound-alikes that are also spelt alike.
                    tok.phonetic.append(term)
        for tok in out:
            tok.fuzzy = [t for t in tok.fuzzy if t not in tok.alts]
            tok.phonetic = [t for t in tok.phonetic if t not in tok.fuzzy and t not in tok.alts]
            # Closest first ("smiht": smith, a transposition, before smit): the rank orders
            # one word's corrections; several words are ranked by what they match together.
            for attr in ("fuzzy", "phonetic"):
                ranked = sorted(getattr(tok, attr), key=partial(closeness, tok.text))
                setattr(tok, attr, ranked[:MAX_CORRECTIONS] if len(out) == 1 else ranked)
        return out

    # ------------------------------------------------------------------ entry point

    def run(self, q: ParsedQuery, offset: int, limit: int) -> SearchPage:
        if q.empty:
            return SearchPage(q.text, offset, (), False)
        day = _desk_day(q.today or datetime.now().date())
        tokens = self._expand(q.tokens,
                              tiers=len(q.tokens) > 1 and not (q.dates or q.years))
        ident = self._identifier_hits(q) if (q.identifiers or q.phones) else {}
        if ident:
            hits = self._driven(tokens, "ids", list(ident), day, ident)
            if hits or not tokens:
                return self._page(q, offset, limit, day, hits)
        if not tokens:
            if q.dates:
                return self._page(q, offset, limit, day,
                                  self._driven([], "dates", list(q.dates), day))
            return SearchPage(q.text, offset, (), False)
        if q.dates:
            hits = self._driven(tokens, "dates", list(q.dates), day)
        elif q.years:
            hits = self._driven(tokens, "years", list(q.years), day,
                                offset=offset, limit=limit)
        elif len(tokens) == 1:
            hits = self._single(tokens[0], offset, limit, day)
        else:
            hits = self._bands(tokens, offset, limit, day)
        return self._page(q, offset, limit, day, hits)

    def _page(self, q: ParsedQuery, offset: int, limit: int, day: DeskDay,
              hits: list[Hit]) -> SearchPage:
        """Rank the hits that can reach the page (desk.py) and make its rows."""
        near = {h.patient_id: h for h in desk.contenders(hits, offset, limit)}
        rows = {pid: h.row for pid, h in near.items() if h.row is not None}
        if missing := [pid for pid in near if pid not in rows]:
            rows.update((int(r.id), r) for r in self.s.execute(_sql(
                f"SELECT {SUMMARY_COLUMNS}, {desk.COLUMNS} FROM patients p "
                "WHERE p.id = ANY(:ids)", day), {"ids": missing}).all())
        ranked = desk.rank((near[pid], r.desk_booked_at, r.desk_seen_at)
                           for pid, r in rows.items())[offset:offset + limit + 1]
        items = tuple(_summary(rows[h.patient_id], h.label, booked, h, self.shown)
                      for h, booked, _ in ranked[:limit])
        return SearchPage(q.text, offset, items, len(ranked) > limit)

    # ------------------------------------------------------------------ identifiers

    def _identifier_hits(self, q: ParsedQuery) -> dict[int, str]:
        """Patients an identifier or a phone number names: {patient id: "identifier" or
        "phone"}, identifiers first.

        A phone number matches by its last 7+ digits, whatever the format either side was
        written in: the stored digits and the typed ones agree on their last seven
        (``patients.phone_tail``, indexed), and once leading zeros (a trunk or an
        international prefix) are dropped, one is the end of the other: "+1 917 206 5843",
        "1-917-206-5843", "206-5843" and "2065843" all find (917) 206-5843, and "020 7946
        0958" finds +44 20 7946 0958."""
        rows = self.s.execute(_sql("""
            SELECT patient_id, 0 AS rank FROM patient_identifiers WHERE value = ANY(:ids)
            UNION ALL
            SELECT p.id, 1 FROM patients p
             WHERE p.phone_tail = ANY(:tails) AND p.phone_tail <> ''
               AND EXISTS (SELECT 1 FROM unnest(CAST(:phones AS text[])) AS q(d)
                            WHERE ltrim(p.phone_digits, '0') LIKE '%' || ltrim(q.d, '0')
                               OR ltrim(q.d, '0') LIKE '%' || ltrim(p.phone_digits, '0'))
            ORDER BY rank LIMIT 200
        """), {"ids": list(q.identifiers), "phones": list(q.phones),
               # A plain array, not a join to the typed numbers: under row-level security
               # the planner then still takes the tail index instead of a scan.
               "tails": [d[-7:] for d in q.phones]}).all()
        out: dict[int, str] = {}
        for pid, rank in rows:
            out.setdefault(int(pid), "identifier" if rank == 0 else "phone")
        return out

    # ------------------------------------------------------------------ one token

    def _single(self, tok: NameToken, offset: int, limit: int, day: DeskDay) -> list[Hit]:
        """One token: ordered index range scans per tier, each stopping at the page end,
        and the patients booked today wherever their names fall."""
        # A patient can match in several rows (two words with the prefix, several tiers);
        # twice the page end leaves room for that before distinct patients are counted.
        n = 2 * (offset + limit + 1) + 10
        params: dict[str, Any] = {"e": tok.text, "hi": tok.upper, "fz": tok.fuzzy,
                                  "ph": tok.phonetic, "va": tok.alts, "n": n}
        primary = tuple(names.PRIMARY_SOURCES)
        parts = [f"""(SELECT patient_id, {EXACT} AS score, source, ''::text COLLATE "C" AS k0,
                        sort_name FROM patient_name_terms
                     WHERE term = :e AND source IN {primary}
                     ORDER BY sort_name, patient_id LIMIT :n)""",
                 f"""(SELECT patient_id, {EXACT - 1}, source, '', sort_name
                     FROM patient_name_terms WHERE term = :e AND source NOT IN {primary}
                     ORDER BY sort_name, patient_id LIMIT :n)"""]
        if len(tok.text) >= names.MIN_PREFIX or not tok.text.isascii():
            parts.append(f"""(SELECT patient_id, {PREFIX}, source, term, sort_name
                     FROM patient_name_terms WHERE term > :e AND term < :hi
                     ORDER BY term, sort_name, patient_id LIMIT :n)""")
        # Other spellings and corrections: family names first (a word typed alone is most
        # often the family name: a misspelt surname must not drown among the given names one
        # edit away), then the closest first, each in name order (k0); a whole given or
        # family name before a part, middle or previous name.
        for tier, kind, terms in ((VARIANT, "va", tok.alts), (FUZZY, "fz", tok.fuzzy),
                                  (PHONETIC, "ph", tok.phonetic)):
            for rank, term in enumerate(terms):
                params[f"{kind}{rank}"] = term
                for score, where in ((tier, f"source IN {primary}"),
                                     (tier - 1, f"source NOT IN {primary}")):
                    parts.append(f"""(SELECT patient_id, {score}, source,
                                (CASE WHEN source = {names.FAMILY} THEN '0' ELSE '1' END
                                 || '{rank:02d}')::text COLLATE "C", sort_name
                         FROM patient_name_terms WHERE term = :{kind}{rank} AND {where}
                         ORDER BY sort_name, patient_id LIMIT :n)""")
        # Every patient's best match; the page is cut after the desk's tie-break. When no
        # scan stopped at its limit (fewer hits than one limit), every match is a hit
        # already, booked today or not, and the desk's lookup is skipped (a one-time filter).
        # Only those scoring at least the page's last score can reach the page (desk.py);
        # their rows are read in the same statement.
        params["want"] = offset + limit + 1
        sql = f"""
            WITH hits AS MATERIALIZED ({" UNION ALL ".join(parts)}),
            {desk.TODAY_CTE},
            every AS (SELECT * FROM hits UNION ALL {self._single_today(tok, params)}),
            best AS MATERIALIZED (
                SELECT DISTINCT ON (patient_id) patient_id, score, source, k0, sort_name
                FROM every ORDER BY patient_id, score DESC, k0, sort_name, source
            )
            SELECT b.score, b.source, b.k0, b.sort_name, {SUMMARY_COLUMNS}, {desk.COLUMNS}
            FROM best b JOIN patients p ON p.id = b.patient_id
            WHERE b.score >= coalesce((SELECT score FROM best ORDER BY score DESC
                                       OFFSET :want - 1 LIMIT 1), 0)
        """
        return [Hit(r.id, r.score, r.sort_name,
                    matched_on(r.score, r.source in names.PREVIOUS_SOURCES), r.k0, r,
                    tier=tier_name(r.score))
                for r in self.s.execute(_sql(sql, day), params).all()]

    @staticmethod
    def _single_today(tok: NameToken, params: dict[str, Any]) -> str:
        """The patients booked today whose names match ``tok`` in any tier, scored as the
        tier scans above score them. Each tier is a plain condition on the term index, so
        the planner may hash the day's bookings against the token's matches or probe each
        booked patient's names, whichever is cheaper (the name is read from the patient
        row, so either way only matches leave the index); it runs only when some scan above
        stopped at its limit (a one-time filter)."""
        params.update(fza=tok.fuzzy, pha=tok.phonetic, vaa=tok.alts)
        penalty = PENALTY_SQL.format(a="t")
        prefix = len(tok.text) >= names.MIN_PREFIX or not tok.text.isascii()
        whole = f"CASE WHEN t.term = :e THEN {EXACT} - {penalty} ELSE {PREFIX} END"
        word = "CASE WHEN t.term = :e THEN '' ELSE t.term END"
        tiers = [(whole, word, "t.term >= :e AND t.term < :hi" if prefix else "t.term = :e")]
        for tier, name, terms in ((VARIANT, "vaa", tok.alts), (FUZZY, "fza", tok.fuzzy),
                                  (PHONETIC, "pha", tok.phonetic)):
            if terms:  # the correction's rank orders its matches, as k0 does above
                rank = (f"CASE WHEN t.source = {names.FAMILY} THEN '0' ELSE '1' END || "
                        f"lpad((array_position(CAST(:{name} AS text[]), t.term::text) - 1)"
                        f"::text, 2, '0')")
                tiers.append((f"{tier} - {penalty}", rank,
                              f"t.term = ANY(CAST(:{name} AS text[]))"))
        return " UNION ALL ".join(
            f"""(SELECT t.patient_id, {score}, t.source, ({k0}) COLLATE "C", p.sort_name
                FROM patient_name_terms t JOIN patients p ON p.id = t.patient_id
                WHERE {where} AND (SELECT count(*) FROM hits) >= :n
                  AND t.patient_id IN (SELECT patient_id FROM today))"""
            for score, k0, where in tiers)

    # ------------------------------------------------------------------ several tokens

    @staticmethod
    def _score_sql(i: int, a: str) -> str:
        """Score of one term row ``a`` for token ``i``."""
        return (f"(CASE WHEN {a}.term = :e{i} THEN {EXACT} "
                f"WHEN {a}.term = ANY(:va{i}) THEN {VARIANT} "
                f"WHEN {a}.term > :e{i} AND {a}.term < :hi{i} THEN {PREFIX} "
                f"WHEN {a}.term = ANY(:fz{i}) THEN {FUZZY} ELSE {PHONETIC} END"
                f" - {PENALTY_SQL.format(a=a)})")

    @staticmethod
    def _match_sql(i: int, a: str) -> str:
        return f"(({a}.term >= :e{i} AND {a}.term < :hi{i}) OR {a}.term = ANY(:fp{i}))"

    def _lateral_sql(self, i: int, patient: str) -> str:
        """``m{i}``: token ``i``'s best match among one patient's terms (covering index)."""
        return f""" CROSS JOIN LATERAL (
                    SELECT max({self._score_sql(i, "t")}) AS best,
                           bool_or({PREVIOUS_SQL.format(a="t")}) AS prev
                    FROM patient_name_terms t
                    WHERE t.patient_id = {patient} AND {self._match_sql(i, "t")}) m{i}"""

    @staticmethod
    def _available_tiers(tokens: list[NameToken]) -> list[list[int]]:
        """For each token, the tiers that match anything at all (``_expand`` looked)."""
        out = []
        for tok in tokens:
            tiers = []
            if tok.whole is not False or tok.alts:
                tiers.append(EXACT)     # the word itself or another spelling
            if tok.starts is not False:  # from 2 letters, or an initial (query.py)
                tiers.append(PREFIX)
            if tok.fuzzy or tok.phonetic:
                tiers.append(FUZZY)     # a correction, one edit away or sounding alike
            out.append(tiers)
        return out

    @staticmethod
    def _pair_sql(column: str, i: int, tier: int) -> str:
        """The condition of a band's side: a finite set of words, or a prefix range."""
        return {EXACT: f"x.{column} = ANY(:ex{i})",
                PREFIX: f"x.{column} > :e{i} AND x.{column} < :hi{i}",
                FUZZY: f"x.{column} = ANY(:lo{i})"}[tier]

    def _bands(self, tokens: list[NameToken], offset: int, limit: int,
               day: DeskDay) -> list[Hit]:
        """Several tokens, best matches first, without scanning what cannot reach the page.

        For a band, each token's tiers are taken three ways: a finite set of words at its
        best (the word itself or another spelling), a prefix, a finite set of corrections;
        a *band* gives each of the two longest tokens one of the three (both whole words;
        one a prefix; ...), at most nine bands. A band is a range scan of the word-pair
        index; further tokens are checked per patient on the term index. Bands run in
        descending order of their best possible score, in groups (``BAND_GROUPS``, one
        statement each), and the search stops as soon as the page is full of rows that no
        later band could outscore. A group that stopped at its limit also brings the
        patients booked today that it matches, wherever their names fall.
        """
        want = offset + limit + 1
        params: dict[str, Any] = {"want": want}
        # Tokens by role, the two longest first (they lead the pair index), so that a
        # statement's text depends on the query's shape only, not on where each word was
        # typed: the connection plans each text once ("Plans", module docstring).
        tokens = sorted(tokens, key=lambda tok: -len(tok.text))
        for i, tok in enumerate(tokens):
            params.update({f"e{i}": tok.text, f"hi{i}": tok.upper, f"fz{i}": tok.fuzzy,
                           f"ph{i}": tok.phonetic, f"va{i}": tok.alts,
                           f"fp{i}": tok.alts + tok.fuzzy + tok.phonetic,
                           f"ex{i}": [tok.text, *tok.alts], f"lo{i}": tok.fuzzy + tok.phonetic})
        i, j, rest = 0, 1, list(range(2, len(tokens)))
        tiers = self._available_tiers(tokens)
        bands = sorted(itertools.product(tiers[i], tiers[j]), key=lambda band: -sum(band))
        if any(not tiers[k] for k in rest):
            return []
        # The later group's statement names every band but the first, matching or not (one
        # that cannot match finds nothing at its first index page): nine texts, not one
        # per set of tiers the words happen to have.
        every = sorted(itertools.product(ALL_TIERS, ALL_TIERS), key=lambda band: -sum(band))
        rest_max = EXACT * len(rest)
        best: dict[int, Hit] = {}
        # The best band alone (it fills most pages), then the rest, each group one
        # statement and one scan of the pair index: every table a statement names
        # costs a permission check under row-level security, and planning a statement
        # costs about as much as running it. Each group's statement also reads its
        # patients' rows for the page (a statement of its own for them cost more). The
        # first one, when it stopped at its limit, also brings the patients booked today
        # that it matches, wherever their names fall: when it fills the page, that is the
        # only statement. The later group's booked patients, if it stopped at its limit,
        # are read at the end.
        done = 0
        booked: list[tuple[str, str]] = []  # later groups that stopped at their limit

        def take(rows: Iterable[Row[Any]]) -> int:
            n = 0
            for row in rows:
                n += not getattr(row, "today", False)
                worst = min(row.band, row.worst_rest)
                if row.patient_id not in best or best[row.patient_id].score < row.score:
                    best[row.patient_id] = Hit(
                        row.patient_id, row.score, row.sort_name, matched_on(worst, row.prev),
                        row=row if hasattr(row, "desk_booked_at") else None,
                        tier=tier_name(worst))
            return n

        for size in BAND_GROUPS:
            remaining = bands[done:done + size] if size else bands[done:]
            if not remaining:
                break
            group = remaining if size else [band for band in every
                                             if band not in bands[:done]]
            cte, page, today = self._pair_group(i, j, group, rest, f"pairs{len(booked)}")
            if not done:
                take(self.s.execute(_sql(self._with_rows(cte, page, today), day),
                                    params).all())
            elif take(self.s.execute(_sql(self._rows_of(cte, page), day),
                                     params).all()) >= want:
                booked.append((cte, today))
            done += len(remaining)
            if len(best) >= want and done < len(bands):
                # Only ties are reordered for the desk: the score alone says when no later
                # band can reach the page.
                scores = sorted((h.score for h in best.values()), reverse=True)
                if scores[want - 1] > sum(bands[done]) + rest_max:
                    break
        if booked:
            # As in _single: the patients booked today beyond a group's limit, looked for
            # only in the groups that stopped at it (one statement, driven by the day's few).
            # Whether to hash the day's bookings against the group's matches or to probe
            # each booked patient's names depends on how many match, which only a plan
            # made with the values knows (a generic plan probes: 6 ms against 1.5).
            self.s.execute(_CUSTOM_PLAN)
            take(self.s.execute(_sql(
                f"WITH {desk.TODAY_CTE}, {', '.join(cte for cte, _ in booked)} "
                + " UNION ALL ".join(f"({today})" for _, today in booked), day), params))
        return list(best.values())

    @staticmethod
    def _side_score(column: str, k: int) -> str:
        """Token ``k``'s score for the word in ``x.column``, NULL if it does not match (an
        empty list of spellings or corrections matches nothing)."""
        return (f"(CASE WHEN x.{column} = :e{k} THEN {EXACT} "
                f"WHEN x.{column} = ANY(:va{k}) THEN {VARIANT} "
                f"WHEN x.{column} > :e{k} AND x.{column} < :hi{k} THEN {PREFIX} "
                f"WHEN x.{column} = ANY(:fz{k}) THEN {FUZZY} "
                f"WHEN x.{column} = ANY(:ph{k}) THEN {PHONETIC} END)")

    def _pair_group(self, i: int, j: int, group: list[tuple[int, int]], rest: list[int],
                    name: str) -> tuple[str, str, str]:
        """A group of bands as one scan of the pair index: the CTE ``name`` of its matching
        word pairs, the query of its best ``want`` patients and the query of its matches
        booked today (it needs the ``today`` CTE). Only ids and scores (``_with_rows``
        adds the rows).

        The CTE is NOT MATERIALIZED: each query gets its own copy, planned for it (the
        booked patients' query is driven by the day's few), and the statement's text stays
        under 4 kB, the size up to which psycopg remembers how it converted a statement
        (converting one of 5.5 kB took 0.3 ms at every search)."""
        conditions = []
        for ti, tj in group:
            # The side with a finite set of words leads the index scan; two prefixes lead
            # with the longer one (fewer words start with it).
            a, ta, b, tb = (j, tj, i, ti) if ti == PREFIX and tj != PREFIX else (i, ti, j, tj)
            conditions.append(f"({self._pair_sql('first', a, ta)} AND "
                              f"{self._pair_sql('second', b, tb)})")
        # A row is a pair of the patient's words in either order: its score is the better
        # reading (token i first or token j first).
        sides = (f"SELECT {self._side_score('first', i)} AS fi, "
                 f"{self._side_score('second', j)} AS sj, "
                 f"{self._side_score('first', j)} AS fj, {self._side_score('second', i)} AS si")
        lateral = "".join(self._lateral_sql(k, "x.patient_id") for k in rest)
        where = [f"({' OR '.join(conditions)})", *(f"m{k}.best IS NOT NULL" for k in rest)]
        score = " + ".join(["GREATEST(s.fi + s.sj, s.fj + s.si) - x.penalty",
                            *(f"m{k}.best" for k in rest)])
        prev = " OR ".join(["x.previous", *(f"m{k}.prev" for k in rest)])
        worst_rest = f"LEAST({', '.join(f'm{k}.best' for k in rest)})" if rest else str(EXACT)
        cte = f"""{name} AS NOT MATERIALIZED (
                SELECT x.patient_id, x.sort_name, {score} AS score, {prev} AS prev,
                       {worst_rest} AS worst_rest,
                       GREATEST(LEAST(s.fi, s.sj), LEAST(s.fj, s.si)) AS band
                FROM patient_name_pairs x CROSS JOIN LATERAL ({sides}) s {lateral}
                WHERE {" AND ".join(where)})"""
        # A patient with several matching word pairs (García Gálvez for "ga") is one row.
        select = f"""
                SELECT patient_id, max(score) AS score, bool_or(prev) AS prev,
                       min(worst_rest) AS worst_rest, sort_name, max(band) AS band
                FROM {name}"""
        page = f"""{select}
                GROUP BY patient_id, sort_name
                ORDER BY score DESC, sort_name, patient_id
                LIMIT :want"""
        today = f"""{select} WHERE patient_id IN (SELECT patient_id FROM today)
                GROUP BY patient_id, sort_name"""
        return cte, page, today

    @staticmethod
    def _rows_of(cte: str, page: str) -> str:
        """A later group's statement with its patients' rows (no bookings of the day)."""
        return f"""
            WITH {cte}, pg AS MATERIALIZED ({page})
            SELECT pg.*, {SUMMARY_COLUMNS}, {desk.COLUMNS}
            FROM pg JOIN patients p ON p.id = pg.patient_id"""

    @staticmethod
    def _with_rows(cte: str, page: str, today: str) -> str:
        """A group's statement with its patients' rows for the page, and its matches
        booked today; the day's bookings are read only if the page part stopped at its
        limit (a one-time filter): below it, every match is in the page part already."""
        return f"""
            WITH {desk.TODAY_CTE}, {cte},
            pg AS MATERIALIZED ({page}),
            hits AS (SELECT *, false AS today FROM pg UNION ALL
                     SELECT *, true FROM ({today}) d WHERE (SELECT count(*) FROM pg) >= :want)
            SELECT h.*, {SUMMARY_COLUMNS}, {desk.COLUMNS}
            FROM hits h JOIN patients p ON p.id = h.patient_id"""

    def _driven(self, tokens: list[NameToken], driver: str, values: list[Any],
                day: DeskDay, why: dict[int, str] | None = None, *,
                offset: int = 0, limit: int = 50) -> list[Hit]:
        """Patients from a small starting set — same date of birth ("dates"), identifier
        or phone hits ("ids"), or born in a year ("years") and matching the longest token
        — that match every token, each token checked per patient on the covering
        (patient_id, term) index; scored by the sum of their best matches. ``why``: per
        patient id, what besides the name found them ("phone", "identifier").

        Every match is scored, but only those that can reach the page are read for it (as
        in ``_single``: the best in name order, twice the page and some, and the matches
        booked today): "john 1963" matches some four hundred patients at 1,000,000, and
        reading each one's identifiers and visits cost more than finding them. A date of
        birth or numbers name a few dozen at most: all are read, in a simpler statement.
        ``offset`` and ``limit`` (the page) count only for "years"."""
        params: dict[str, Any] = {"v": values}
        for i, tok in enumerate(tokens):
            params.update({f"e{i}": tok.text, f"hi{i}": tok.upper, f"fz{i}": tok.fuzzy,
                           f"va{i}": tok.alts, f"fp{i}": tok.alts + tok.fuzzy + tok.phonetic})
        ks = range(len(tokens))
        prev = " OR ".join(f"m{i}.prev" for i in ks) or "false"
        score = " + ".join(f"m{i}.best" for i in ks) or "0"
        worst = f"LEAST({', '.join(f'm{i}.best' for i in ks)})" if tokens else str(EXACT)
        also = {"dates": "date of birth", "years": "year of birth"}.get(driver, "")
        if driver in ("dates", "ids"):
            # A date of birth or numbers: a few dozen patients at most, all read.
            where = "p.birth_date = ANY(:v)" if driver == "dates" else "p.id = ANY(:v)"
            source = f"(SELECT * FROM patients p WHERE {where}) p" + "".join(
                self._lateral_sql(i, "p.id") for i in ks)
            if tokens:
                source += " WHERE " + " AND ".join(f"m{i}.best IS NOT NULL" for i in ks)
            sql = f"""
                SELECT {score} AS score, {worst} AS worst, ({prev}) AS prev, p.sort_name,
                       {SUMMARY_COLUMNS}, {desk.COLUMNS}
                FROM {source}"""
        else:
            # Born in one of the years and matching the longest word: the name index by
            # year (0017) holds both, so the word's prefix range within each year, and its
            # other spellings and corrections there, are two narrow scans of that index
            # alone ("john 1963": the few hundred Johns born that year, not the 33,000
            # Johns of every year met with the 12,800 births of 1963). The index carries
            # the name's order and the term's source, so the longest word's best match
            # per patient (``m{lead}``) is scored there too; only the other words are
            # looked up per patient.
            params.update(years=list(values), n=2 * (offset + limit + 1) + 10)
            lead = max(ks, key=lambda i: (len(tokens[i].text), -i))
            found = (f"SELECT t.patient_id, t.sort_name, {self._score_sql(lead, 't')} AS s, "
                     f"{PREVIOUS_SQL.format(a='t')} AS prev FROM patient_name_terms t "
                     f"WHERE t.birth_year = ANY(CAST(:years AS smallint[])) AND ")
            source = f"born m{lead}" + "".join(
                self._lateral_sql(i, f"m{lead}.id") for i in ks if i != lead)
            if len(tokens) > 1:
                source += " WHERE " + " AND ".join(
                    f"m{i}.best IS NOT NULL" for i in ks if i != lead)
            # The matches booked today beyond the first n are looked for only when there
            # are more than n (a one-time filter): otherwise every match is read already.
            sql = f"""
                WITH born AS MATERIALIZED (
                    SELECT w.patient_id AS id, w.sort_name, max(w.s) AS best,
                           bool_or(w.prev) AS prev
                    FROM ({found} t.term >= :e{lead} AND t.term < :hi{lead}
                          UNION ALL {found} t.term = ANY(:fp{lead})) w
                    GROUP BY w.patient_id, w.sort_name),
                {desk.TODAY_CTE},
                scored AS MATERIALIZED (
                    SELECT m{lead}.id AS pid, {score} AS score, {worst} AS worst,
                           ({prev}) AS prev, m{lead}.sort_name AS sname
                    FROM {source}),
                pick AS (
                    (SELECT * FROM scored ORDER BY score DESC, sname, pid LIMIT :n)
                    UNION
                    SELECT * FROM scored WHERE (SELECT count(*) FROM scored) > :n
                       AND pid IN (SELECT patient_id FROM today))
                SELECT k.score, k.worst, k.prev, k.sname AS sort_name,
                       {SUMMARY_COLUMNS}, {desk.COLUMNS}
                FROM pick k JOIN patients p ON p.id = k.pid"""
        return [Hit(r.id, r.score, r.sort_name,
                    matched_on(r.worst, r.prev, (why or {}).get(r.id, also)), row=r,
                    tier=(why or {}).get(r.id, also) if not tokens else tier_name(r.worst))
                for r in self.s.execute(_sql(sql, day), params).all()]

    # ------------------------------------------------------------------ by id

    def summaries(self, ids: list[int]) -> list[PatientSummary]:
        rows = self.s.execute(_sql(f"""
            SELECT {SUMMARY_COLUMNS} FROM patients p WHERE p.id = ANY(:ids)
            ORDER BY p.sort_name, p.id"""), {"ids": ids}).all()
        return [_summary(r) for r in rows]
