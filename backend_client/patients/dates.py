"""Dates as people write them: 1980-03-12, 12/03/1980, 12.3.80, 12 Mar 1980, March 12, 1980,
19800312. Used for the date-of-birth field and for date-of-birth search.

Whether 12.03.1984 is 12 March or 3 December is the clinic's setting (``day_first``, see
``backend_client/clinic.py``), the same for the register form and for search (issue 13).
When the clinic's reading is no date (13/03/1984 in a month-first clinic) the other one,
the only date it can be, is taken; the form shows it in words as it is typed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

MONTHS = {
    name: i + 1
    for i, names in enumerate([
        ("january", "jan", "januar", "janvier", "enero"),
        ("february", "feb", "februar", "fevrier", "febrero"),
        ("march", "mar", "marz", "maerz", "mars", "marzo"),
        ("april", "apr", "avril", "abril"),
        ("may", "mai", "mayo"),
        ("june", "jun", "juni", "juin", "junio"),
        ("july", "jul", "juli", "juillet", "julio"),
        ("august", "aug", "aout", "agosto"),
        ("september", "sep", "sept", "septembre", "septiembre"),
        ("october", "oct", "okt", "oktober", "octobre", "octubre"),
        ("november", "nov", "novembre", "noviembre"),
        ("december", "dec", "dez", "dezember", "decembre", "diciembre"),
    ])
    for name in names
}
_MONTH_RE = "|".join(sorted(MONTHS, key=len, reverse=True))
_SEP = r"[./\-]"

PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("ymd", re.compile(rf"\b(\d{{4}}){_SEP}(\d{{1,2}}){_SEP}(\d{{1,2}})\b")),
    ("xxy", re.compile(rf"\b(\d{{1,2}}){_SEP}(\d{{1,2}}){_SEP}(\d{{4}}|\d{{2}})\b")),
    ("dmy_name", re.compile(
        rf"\b(\d{{1,2}})(?:st|nd|rd|th)?[\s\-.]*({_MONTH_RE})\.?[\s\-.,]*(\d{{4}})\b",
        re.IGNORECASE)),
    ("mdy_name", re.compile(
        rf"\b({_MONTH_RE})\.?[\s\-.]*(\d{{1,2}})(?:st|nd|rd|th)?,?[\s\-.]*(\d{{4}})\b",
        re.IGNORECASE)),
    ("compact", re.compile(r"\b(\d{8})\b")),
]


@dataclass(frozen=True)
class DateMatch:
    start: int
    end: int
    candidates: tuple[date, ...]   # every valid reading, most likely first
    problem: str = ""              # why none is valid ("31 February does not exist")


MONTH_NAMES = ["January", "February", "March", "April", "May", "June", "July", "August",
               "September", "October", "November", "December"]


def _make(y: int, m: int, d: int) -> date | str:
    if not 1 <= m <= 12:
        return f"there is no month {m}"
    try:
        return date(y, m, d)
    except ValueError:
        return f"{d} {MONTH_NAMES[m - 1]} {y} does not exist"


def _year(text: str, today: date) -> int:
    y = int(text)
    if len(text) == 2:  # 80 → 1980, 05 → 2005: the most recent year not in the future
        y += 2000
        if y > today.year:
            y -= 100
    return y


def find_dates(text: str, today: date, *, day_first: bool | None = None) -> list[DateMatch]:
    """Every date-like span in ``text`` with its valid readings.

    ``day_first``: the clinic's order for numbers like 12.03.1984 (and the second reading
    of eight digits, ddmmyyyy or mmddyyyy); ``None`` keeps both readings, day first."""
    found: list[DateMatch] = []
    taken: list[tuple[int, int]] = []
    for kind, pattern in PATTERNS:
        for m in pattern.finditer(text):
            if any(m.start() < e and s < m.end() for s, e in taken):
                continue
            readings: list[date | str] = []
            g = m.groups()
            if kind == "ymd":
                readings = [_make(int(g[0]), int(g[1]), int(g[2]))]
            elif kind == "xxy":
                y = _year(g[2], today)
                a, b = int(g[0]), int(g[1])
                day_reading, month_reading = _make(y, b, a), _make(y, a, b)
                readings = [day_reading, month_reading]  # day-first, then month-first
                if day_first is not None:
                    ours = day_reading if day_first else month_reading
                    # The clinic's reading when it is a date; else the other, the only one.
                    if isinstance(ours, date):
                        readings = [ours]
            elif kind == "dmy_name":
                readings = [_make(int(g[2]), MONTHS[g[1].lower()], int(g[0]))]
            elif kind == "mdy_name":
                readings = [_make(int(g[2]), MONTHS[g[0].lower()], int(g[1]))]
            else:  # compact: yyyymmdd or ddmmyyyy
                s = g[0]
                dm = (int(s[2:4]), int(s[:2])) if day_first is not False else \
                    (int(s[:2]), int(s[2:4]))
                readings = [_make(int(s[:4]), int(s[4:6]), int(s[6:])),
                            _make(int(s[4:]), *dm)]
            valid = tuple(dict.fromkeys(r for r in readings if isinstance(r, date)))
            problems = [r for r in readings if isinstance(r, str)]
            # "30 February does not exist" says more than "there is no month 30".
            problems.sort(key=lambda p: p.startswith("there is no month"))
            problem = "" if valid else problems[0]
            if kind == "compact" and not valid:
                continue  # eight digits that are no date are an MRN or a phone number
            found.append(DateMatch(m.start(), m.end(), valid, problem))
            taken.append((m.start(), m.end()))
    return sorted(found, key=lambda d: d.start)


class DateProblem(ValueError):
    pass


def parse_birth_date(text: str, today: date, *, day_first: bool | None = None) -> date:
    """One unambiguous date, or ``DateProblem`` with a sentence a receptionist understands.
    ``day_first``: the clinic's reading of 12.03.1984; ``None``: such a date is refused as
    ambiguous."""
    text = text.strip()
    if not text:
        raise DateProblem("is required")
    matches = find_dates(text, today, day_first=day_first)
    if len(matches) != 1 or matches[0].end - matches[0].start < len(text.strip(" ,.")):
        raise DateProblem(f"'{text}' is not a date; write it like 1980-03-12 or 12 Mar 1980")
    match = matches[0]
    if match.problem:
        raise DateProblem(match.problem)
    if len(match.candidates) > 1:
        a, b = match.candidates[:2]
        raise DateProblem(
            f"'{text}' could be {a.day} {MONTH_NAMES[a.month - 1]} or {b.day} "
            f"{MONTH_NAMES[b.month - 1]}; write it like {a.isoformat()} or "
            f"{a.day} {MONTH_NAMES[a.month - 1][:3]} {a.year}")
    return match.candidates[0]
