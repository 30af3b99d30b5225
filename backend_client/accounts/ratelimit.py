"""Rate limits on failed sign-ins, per account and per workstation, in Redis.

Every check and every attempt is one Lua script, and an attempt is counted before its
password is verified, so workstations hammering the same account in parallel cannot slip
between a check and a count. After ``free_failures`` failures in a row a
key is locked for ``first_cooldown`` seconds; every further failure doubles the cooldown, up
to ``max_cooldown``. A success clears the account's counter (the workstation's decays on its
own after ``forget_after`` seconds without failures). Cooldowns are judged by Redis's own
clock and the script returns how many seconds are left, so every workstation refuses for
the same time whatever its own clock says (``backend_client.stores.redis.clock``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from redis import Redis

from backend_client.stores.redis.client import redis_calls
from backend_client.stores.redis.clock import NOW_LUA, TimeShift, no_shift

PREFIX = "dra:signin:fail"

# KEYS: account key, workstation key.
# ARGV: time shift (0; tests move it), mode, free failures for account and workstation,
#       first cooldown, max cooldown, forget after (seconds).
# mode: "check"   is either key cooling down? (changes nothing)
#       "attempt" refuse if cooling down (counting nothing); otherwise count this attempt
#                 now, before the password is verified, so parallel attempts cannot all
#                 slip past the check; an attempt past the free ones starts the cooldown
#       "fail"    the same count, reporting the cooldown it started
#       "success" the attempt was right: forget the account's failures and refund the
#                 workstation's count
#       "refund"  the attempt could not be judged (a store was down): give it back to both
# Returns how many seconds sign-in is still refused for (as text), or "0".
_SCRIPT = NOW_LUA + """
local mode = ARGV[2]
local free = {tonumber(ARGV[3]), tonumber(ARGV[4])}
local first, cap, forget = tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7])
if mode == 'success' or mode == 'refund' then
  if mode == 'success' then redis.call('DEL', KEYS[1]) end
  for i, key in ipairs(KEYS) do
    local n = tonumber(redis.call('HGET', key, 'n') or '0')
    if n > 0 then
      n = redis.call('HINCRBY', key, 'n', -1)
      if n <= free[i] then redis.call('HDEL', key, 'until') end
    end
  end
  return '0'
end
local until_ = 0
for i, key in ipairs(KEYS) do
  local locked = tonumber(redis.call('HGET', key, 'until') or '0')
  if locked > until_ then until_ = locked end
end
if until_ > now then return tostring(until_ - now) end
if mode == 'check' then return '0' end
until_ = 0
for i, key in ipairs(KEYS) do
  local n = redis.call('HINCRBY', key, 'n', 1)
  local locked = 0
  if n > free[i] then
    locked = now + math.min(cap, first * 2 ^ (n - free[i] - 1))
    redis.call('HSET', key, 'until', tostring(locked))
  end
  redis.call('EXPIRE', key, math.ceil(math.max(forget, locked - now + forget)))
  if mode == 'fail' and locked > until_ then until_ = locked end
end
if until_ > now then return tostring(until_ - now) end
return '0'
"""


@dataclass(frozen=True)
class Refusal:
    """Sign-in is refused for ``seconds_left``; ``until`` is when that is by this
    workstation's clock (what the person at it reads on the screen)."""

    until: datetime
    seconds_left: int

    def sentence(self) -> str:
        if self.seconds_left < 60:
            wait = f"{self.seconds_left} second{'s' if self.seconds_left != 1 else ''}"
        else:
            minutes = math.ceil(self.seconds_left / 60)
            wait = f"{minutes} minute{'s' if minutes != 1 else ''}"
        return (f"Too many failed sign-ins. Try again in {wait} "
                f"(at {self.until.astimezone().strftime('%H:%M:%S')}).")


class SignInRateLimiter:
    def __init__(self, redis: Redis, *, time_shift: TimeShift = no_shift,
                 account_free_failures: int = 5, workstation_free_failures: int = 20,
                 first_cooldown: int = 30, max_cooldown: int = 900,
                 forget_after: int = 3600) -> None:
        self._redis = redis
        self._shift = time_shift
        self._script: Any = redis.register_script(_SCRIPT)
        self._args = [account_free_failures, workstation_free_failures, first_cooldown,
                      max_cooldown, forget_after]

    @staticmethod
    def _keys(username: str, workstation: str) -> list[str]:
        return [f"{PREFIX}:user:{username.strip().lower()}", f"{PREFIX}:ws:{workstation}"]

    def _run(self, mode: str, username: str, workstation: str) -> Refusal | None:
        with redis_calls():
            raw = self._script(keys=self._keys(username, workstation),
                               args=[self._shift(), mode, *self._args])
        left = float(raw.decode() if isinstance(raw, bytes) else raw)
        if left <= 0:
            return None
        # Rounded first: (now + 30) - now in floating point may come back as 30.0000002.
        seconds = math.ceil(round(left, 3))
        return Refusal(datetime.now(UTC) + timedelta(seconds=seconds), seconds)

    def check(self, username: str, workstation: str) -> Refusal | None:
        """Before verifying a password: is this account or workstation cooling down?"""
        return self._run("check", username, workstation)

    def begin_attempt(self, username: str, workstation: str) -> Refusal | None:
        """Before verifying a password: the refusal if cooling down (nothing counted);
        otherwise the attempt is counted as a failure until ``record_success`` says it
        was not one. One script call, so concurrent attempts cannot overtake the limit."""
        return self._run("attempt", username, workstation)

    def record_failure(self, username: str, workstation: str) -> Refusal | None:
        """Count a failure that did not go through ``begin_attempt``; returns the refusal
        it started, if any."""
        return self._run("fail", username, workstation)

    def refund(self, username: str, workstation: str) -> None:
        """The attempt begun could not be judged (the database was down, say): it does
        not count against the account or the workstation."""
        self._run("refund", username, workstation)

    def record_success(self, username: str, workstation: str) -> None:
        """The attempt begun was right: the account's failures are forgotten and the
        workstation's count gets this attempt back."""
        self._run("success", username, workstation)
