"""Redis's own clock, for decisions that several workstations must agree on.

Idle locks, absolute session limits and sign-in cooldowns compare times. If each
workstation brought its own "now", a desk whose clock is a day behind would create
sessions that are already over, and one a day ahead would keep a revoked session alive a
day longer. So every script that judges time reads ``TIME`` from Redis itself (one
authority for the whole clinic) and every key's life is a relative ``EXPIRE``; nothing
that Redis keeps depends on a workstation's absolute clock.

Every such script starts with :data:`NOW_LUA`, which takes ``ARGV[1]``: seconds added to
Redis's time. The app always passes 0. Tests pass a :class:`StoreTime` that starts at 0
and moves forward, so "twelve hours later" can be tried against a real server in
milliseconds (a fake clock that starts at the store's real now).
"""

from __future__ import annotations

from collections.abc import Callable

# Redis 5+ replicates a script by its effects, so TIME may precede writes.
NOW_LUA = """
local __t = redis.call('TIME')
local now = tonumber(__t[1]) + tonumber(__t[2]) / 1000000 + tonumber(ARGV[1])
"""

TimeShift = Callable[[], float]


def no_shift() -> float:
    """The app's shift: Redis's clock as it is."""
    return 0.0
