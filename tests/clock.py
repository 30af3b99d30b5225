"""Time passing, for tests, against the real database.

The database judges time itself (idle locks, session limits, sign-in cooldowns: migration
0007) on its own clock, and nobody may tell it otherwise. So a test that needs "twelve hours
later" makes twelve hours pass for the rows concerned: the schema owner moves their times
back by that much. Everything starts at the database's real now; no calendar date is made
up.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from sqlalchemy import Engine, text


class DatabaseTime:
    """Moves time forward for the sessions of ``user_ids`` (or only ``session_ids``) and
    for every sign-in counter.

    Args:
        owner: the schema owner's engine (the app's login may not touch these tables).
        user_ids: whose sessions age; more can be added with :meth:`watch`.
        session_ids: these sessions age (for one workstation among several of one person).
    """

    def __init__(self, owner: Engine, user_ids: Iterable[int] = (),
                 session_ids: Iterable[str] = ()) -> None:
        self.owner = owner
        self.user_ids = set(user_ids)
        self.session_ids = set(session_ids)

    def watch(self, *user_ids: int) -> None:
        self.user_ids.update(user_ids)

    def advance(self, **kw: float) -> None:
        step = timedelta(**kw)
        if step < timedelta(0):
            raise ValueError("time only moves forward")
        with self.owner.begin() as conn:
            conn.execute(text(
                "UPDATE app_sessions SET started_at = started_at - :d, "
                "last_seen = last_seen - :d, changed_at = changed_at - :d, "
                "expires_at = expires_at - :d WHERE user_id = ANY(:u) OR id = ANY(:s)"),
                {"d": step, "u": sorted(self.user_ids), "s": sorted(self.session_ids)})
            conn.execute(text(
                "UPDATE signin_failures SET until = until - :d, last_at = last_at - :d"),
                {"d": step})
