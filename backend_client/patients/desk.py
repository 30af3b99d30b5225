"""Who is at the desk: how patient search breaks ties between equally good matches.

A receptionist who types "Müller" while Anna Müller stands at the desk should not scroll
through 58 Müllers. Search (``search.py``) scores how well each patient matches; among
patients with the *same* score the order is, deliberately:

1. an appointment today at this clinic (any status but cancelled or no-show) first;
2. then seen recently: a completed appointment, or an encounter, that started within the
   last ``SEEN_DAYS`` days (up to the end of today), the most recent first;
3. then the match's own order: for another spelling or a correction, a family name
   first, then the closest spelling first (search.py); the name (``sort_name``: family
   then given name, in byte order), and last the patient id, i.e. the order of
   registration. Nothing is left to the order rows happen
   to come back in, so the same query gives the same page on every run.

A better match always beats a worse one with an appointment: the desk only breaks ties.

"Today" is the workstation's local day, [local midnight, next local midnight), taken from
the date the service holds (tests pin it) and turned into aware datetimes here. The clinic
is the database: a deployment serves one clinic. Which of today's appointments a row shows
is judged on the database's clock (``now()``, the record's clock): the next one still to
come, or, when all have begun, the last one.

Today's appointments are found among *all* matches: when a scan stopped at its limit
(some matches were not fetched), the day's bookings are joined to the token's matches
(``TODAY_CTE``); the cost grows with the smaller of the two, not with the number of
patients or the appointment history. Recency is judged on
the candidates search has fetched for the page (each tier's first matches in name order,
roughly twice the page): it reorders a tie as large as a page or two completely (58 Müllers
on a page of 50), but a recently seen patient far down a tie of thousands is not pulled up.

Row security decides what counts: the app's login reads appointments with
``appointment.manage`` or ``chart.open`` (every role that searches has one), encounters only
with ``chart.open`` — so for reception, "seen recently" means a completed appointment.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

# Three months: a patient seen this quarter is likely the one calling back about results or
# coming for a follow-up; older visits say little about who is at the desk today.
SEEN_DAYS = 90

LIVE = "status NOT IN ('cancelled', 'no_show')"

# Who is booked today: a CTE for search to join its matches to (``IN (SELECT patient_id
# FROM today)``); computed only if a query reaches it. No index leads with starts_at; the
# day sheet's (provider_id, starts_at) index answers a day per provider with a short range
# scan, so the few providers drive it (OFFSET 0 keeps the planner from flattening that into
# a scan of the whole appointment history). Materialised, it tells the planner it is a
# day's bookings (hundreds of rows), so the join may hash them against the token's matches
# or probe each booked patient's names, whichever is cheaper.
TODAY_CTE = f"""today AS MATERIALIZED (
    SELECT a.patient_id FROM providers pr CROSS JOIN LATERAL (
        SELECT a.patient_id FROM appointments a
        WHERE a.provider_id = pr.id AND a.starts_at >= :desk_starts
          AND a.starts_at < :desk_ends AND a.{LIVE} OFFSET 0) a)"""

# Per candidate patient ``p``: the appointment time the row shows, and when they were last
# seen; each a probe of a (patient_id, starts_at/started_at) index.
COLUMNS = f"""
    (SELECT coalesce(min(a.starts_at) FILTER (WHERE a.starts_at >= now()), max(a.starts_at))
       FROM appointments a WHERE a.patient_id = p.id AND a.{LIVE}
        AND a.starts_at >= :desk_starts AND a.starts_at < :desk_ends) AS desk_booked_at,
    GREATEST(
        (SELECT max(a.starts_at) FROM appointments a
          WHERE a.patient_id = p.id AND a.status = 'completed'
            AND a.starts_at >= :desk_since AND a.starts_at < :desk_ends),
        (SELECT max(e.started_at) FROM encounters e
          WHERE e.patient_id = p.id AND e.status <> 'cancelled'
            AND e.started_at >= :desk_since AND e.started_at < :desk_ends)) AS desk_seen_at
"""


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

    @property
    def params(self) -> dict[str, Any]:
        """The names ``TODAY_CTE`` and ``COLUMNS`` give the day's bounds, with their
        values (``inline`` writes them in)."""
        return {"desk_starts": self.starts, "desk_ends": self.ends,
                "desk_since": self.seen_since}

    def inline(self, statement: str) -> str:
        """``statement`` with this day's bounds written in as constants, not parameters.

        A generic plan (search.py, "Plans") knows nothing of a parameter's value: it took
        the day's bookings for one per provider (40, where there are 833) and probed each
        booked patient's names instead of hashing them (5.7 ms against 1.8). With the day
        written in, the plan is made for that day, and each day's statements are planned
        once. The values are this object's own datetimes, never typed text."""
        for name, value in self.params.items():
            statement = statement.replace(f":{name}", f"TIMESTAMPTZ '{value.isoformat()}'")
        return statement


@dataclass(frozen=True)
class Hit:
    """One patient's best match: ``score`` from search.py's tiers; ``k0`` orders matches
    of one score the way the tier does (a correction's rank, a prefix's word)."""

    patient_id: int
    score: int
    sort_name: str
    label: str = ""
    k0: str = ""
    # The patient's row (search.py's summary columns and ``COLUMNS``) when the query that
    # found them read it too; otherwise it is read for the page's contenders.
    row: Any = field(default=None, compare=False)
    tier: str = ""   # the weakest word's tier, named (tiers.py ``tier_name``)


def contenders(hits: Iterable[Hit], offset: int, limit: int) -> list[Hit]:
    """The hits that can reach the page ``[offset, offset + limit]`` (one more says there
    is more): the desk only reorders ties, so whoever scores below the score at the
    page's end cannot, and is not looked up."""
    ranked = sorted(hits, key=lambda h: -h.score)
    if not ranked:
        return []
    floor = ranked[min(offset + limit + 1, len(ranked)) - 1].score
    return [h for h in ranked if h.score >= floor]


def rank(hits: Iterable[tuple[Hit, datetime | None, datetime | None]]
         ) -> list[tuple[Hit, datetime | None, datetime | None]]:
    """(hit, booked today at, last seen at), in the order the module docstring gives."""
    def key(item: tuple[Hit, datetime | None, datetime | None]) -> tuple[Any, ...]:
        hit, booked, seen = item
        return (-hit.score, booked is None, seen is None, -seen.timestamp() if seen else 0.0,
                hit.k0, hit.sort_name, hit.patient_id)
    return sorted(hits, key=key)
