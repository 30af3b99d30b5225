"""Fake clocks for tests that start at the real now.

The stores judge time themselves (Redis's ``TIME`` for sessions and cooldowns, PostgreSQL's
``now()`` for the record), so a test that needs "twelve hours later" moves the stores'
clock forward from where it really is, never to a calendar date of its own.
"""

from __future__ import annotations

from datetime import timedelta


class StoreTime:
    """Seconds added to Redis's clock: 0 (the store's real now) until a test advances it.

    Pass it as ``time_shift`` to the session store and the sign-in rate limiter.
    """

    def __init__(self) -> None:
        self.shift = 0.0

    def __call__(self) -> float:
        return self.shift

    def advance(self, **kw: float) -> None:
        step = timedelta(**kw).total_seconds()
        if step < 0:
            raise ValueError("a store's clock only moves forward")
        self.shift += step
