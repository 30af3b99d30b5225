"""Who is at the desk: how patient search breaks ties between equally good matches.

A receptionist who types "Müller" while Anna Müller stands at the desk should not scroll
through 58 Müllers. Search (``search.py``) scores how well each patient matches; among
patients with the *same* score the order is, deliberately:

1. an appointment today at this clinic (any status but cancelled or no-show) first;
2. then seen recently: a completed appointment, or an encounter, that started within the
   last ``SEEN_DAYS`` days (up to the end of today), the most recent first;
3. then the match's own order: the rank of a spelling correction (more common spellings
   first), the name (``sort_name``: family then given name, in byte order), and last the
   patient id, i.e. the order of registration. Nothing is left to the order rows happen
   to come back in, so the same query gives the same page on every run.

A better match always beats a worse one with an appointment: the desk only breaks ties.

"Today" is the workstation's local day, [local midnight, next local midnight), taken from
the date the service holds (tests pin it) and turned into aware datetimes here. The clinic
is the database: a deployment serves one clinic. Which of today's appointments a row shows
is judged on the database's clock (``now()``, the record's clock): the next one still to
come, or, when all have begun, the last one.

Today's appointments are found among *all* matches (they are few: read per provider on
the ``(provider_id, starts_at)`` index, as the day sheet reads them). Recency is judged on
the candidates search has fetched for the page (each tier's first matches in name order,
roughly twice the page): it reorders a tie as large as a page or two completely (58 Müllers
on a page of 50), but a recently seen patient far down a tie of thousands is not pulled up.

Row security decides what counts: the app's login reads appointments with
``appointment.manage`` or ``chart.open`` (every role that searches has one), encounters only
with ``chart.open`` — so for reception, "seen recently" means a completed appointment.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import text
from sqlalchemy.orm import Session

# Three months: a patient seen this quarter is likely the one calling back about results or
# coming for a follow-up; older visits say little about who is at the desk today.
SEEN_DAYS = 90

# No index leads with starts_at; the day sheet's (provider_id, starts_at) index answers one
# day per provider with a short range scan, so the few providers drive it (a plain range
# condition would scan the whole appointment history).
_TODAY = text("""
    SELECT a.patient_id,
           coalesce(min(a.starts_at) FILTER (WHERE a.starts_at >= now()),
                    max(a.starts_at)) AS shown_at
    FROM providers pr CROSS JOIN LATERAL (
        SELECT a.patient_id, a.starts_at FROM appointments a
        WHERE a.provider_id = pr.id AND a.starts_at >= :starts AND a.starts_at < :ends
          AND a.status NOT IN ('cancelled', 'no_show')) a
    GROUP BY a.patient_id
""")

# Per candidate, two probes of the (patient_id, starts_at/started_at) indexes.
_SEEN = text("""
    SELECT c.id, GREATEST(
        (SELECT max(a.starts_at) FROM appointments a
          WHERE a.patient_id = c.id AND a.status = 'completed'
            AND a.starts_at >= :since AND a.starts_at < :ends),
        (SELECT max(e.started_at) FROM encounters e
          WHERE e.patient_id = c.id AND e.status <> 'cancelled'
            AND e.started_at >= :since AND e.started_at < :ends)) AS seen
    FROM unnest(CAST(:ids AS bigint[])) AS c(id)
""")


def local_midnight(day: date) -> datetime:
    """The start of ``day`` on the workstation, as an aware datetime (daylight saving
    included: ``astimezone`` reads a naive datetime as local time)."""
    return datetime.combine(day, time()).astimezone()


@dataclass(frozen=True)
class DeskDay:
    """The local day the desk works in, and how far back "seen recently" reaches."""

    starts: datetime
    ends: datetime
    seen_since: datetime

    @classmethod
    def of(cls, day: date) -> DeskDay:
        return cls(local_midnight(day), local_midnight(day + timedelta(days=1)),
                   local_midnight(day - timedelta(days=SEEN_DAYS)))


@dataclass(frozen=True)
class Hit:
    """One patient's best match: ``score`` from search.py's tiers; ``k0`` orders matches
    of one score the way the tier does (a correction's rank, a prefix's word)."""

    patient_id: int
    score: int
    sort_name: str
    label: str = ""
    k0: str = ""


class Desk:
    """Today's appointments and recent visits for one search, in the caller's session."""

    def __init__(self, session: Session, day: DeskDay) -> None:
        self.s = session
        self.day = day
        self._today: dict[int, datetime] | None = None

    def today(self) -> dict[int, datetime]:
        """Patient id → the appointment time the row shows (read once per search)."""
        if self._today is None:
            rows = self.s.execute(_TODAY, {"starts": self.day.starts, "ends": self.day.ends})
            self._today = {int(pid): at for pid, at in rows}
        return self._today

    def seen(self, ids: list[int]) -> dict[int, datetime]:
        """Patient id → when they were last seen within ``SEEN_DAYS`` (absent if not)."""
        if not ids:
            return {}
        rows = self.s.execute(_SEEN, {"ids": ids, "since": self.day.seen_since,
                                      "ends": self.day.ends})
        return {int(pid): at for pid, at in rows if at is not None}

    def rank(self, hits: Iterable[Hit], offset: int, limit: int) -> list[Hit]:
        """The page ``[offset, offset + limit]`` (one extra row says there is more).

        Only ties are reordered, so the page's lowest score is known before recency is:
        patients scoring below it cannot reach the page, and only the rest are looked up.
        """
        today = self.today()
        want = offset + limit + 1
        base = sorted(hits, key=lambda h: (-h.score, h.patient_id not in today, h.k0,
                                           h.sort_name, h.patient_id))
        if not base:
            return []
        floor = base[min(want, len(base)) - 1].score
        contenders = [h for h in base if h.score >= floor]
        seen = {pid: at.timestamp() for pid, at in
                self.seen([h.patient_id for h in contenders]).items()}
        contenders.sort(key=lambda h: (-h.score, h.patient_id not in today,
                                       h.patient_id not in seen, -seen.get(h.patient_id, 0.0),
                                       h.k0, h.sort_name, h.patient_id))
        return contenders[offset:want]
