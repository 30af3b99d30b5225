"""Sessions in Redis: who is signed in where, since when, and whether they may act now.

One hash per session (``dra:session:<id>``) holds the user, roles, workstation and times;
a sorted set (``dra:sessions``) lists them for administrators. Every state change and
every check is one Lua script, so a revocation can never be undone by a heartbeat racing
it. Every time in a session is Redis's own (``TIME`` inside the script), and the key's life
is relative (``EXPIRE``): two workstations whose clocks disagree judge a session alike, and
a workstation's wrong clock can neither end a session early nor keep it alive late
(``backend_client.stores.redis.clock``).

States:
    active   the user may act.
    locked   idle too long, or locked by hand: the password is needed again. The
             workstation locks itself after ``idle_lock`` without input; the server also
             treats a session as locked once no heartbeat arrived for ``idle_lock`` plus
             a grace period, so a workstation whose timer failed still cannot act.
    revoked  an administrator ended it: the workstation locks within one poll and the
             user must sign in again. Kept for a day so the workstation learns why.
    expired  past its absolute limit (12 hours by default): sign in again.
    ended    signed out, or unknown.

Redis holds nothing that must survive: losing a session costs a sign-in, never data.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from redis import Redis

from backend_client.audit.service import AuditService
from backend_client.dto import Actor, SessionInfo
from backend_client.logsafe import log_exception
from backend_client.stores.redis.client import redis_calls
from backend_client.stores.redis.clock import NOW_LUA, TimeShift, no_shift

log = logging.getLogger(__name__)

PREFIX = "dra:session:"
INDEX = "dra:sessions"
REVOKED_KEPT_SECONDS = 86_400

# KEYS[1]: the session hash. ARGV: time shift (0; tests move it), mode, seconds a revoked
# session is kept. mode: view | peek | touch | lock | unlock | revoke.
# Returns the state after the change.
# The idle limit is the session's own (stored at sign-in by its workstation), so whoever
# reads the session (an administrator's list, another workstation) judges it alike; and
# "view" (listing) never changes anything.
_SCRIPT = NOW_LUA + """
local key = KEYS[1]
local mode = ARGV[2]
local stamp = tostring(now)
if redis.call('EXISTS', key) == 0 then return 'ended' end
local idle = tonumber(redis.call('HGET', key, 'idle') or '660')
local state = redis.call('HGET', key, 'state')
if state == 'revoked' then return 'revoked' end
if mode == 'revoke' then
  redis.call('HSET', key, 'state', 'revoked', 'changed_at', stamp)
  redis.call('EXPIRE', key, tonumber(ARGV[3]))
  return 'revoked'
end
if now >= tonumber(redis.call('HGET', key, 'expires_at')) then return 'expired' end
local last = tonumber(redis.call('HGET', key, 'last_seen'))
if state == 'active' and now - last >= idle then
  if mode == 'view' then return 'locked' end
  redis.call('HSET', key, 'state', 'locked', 'changed_at', stamp, 'locked_by', 'server',
             'lock_audit', 'claimed')
  -- Told apart so that one caller (whoever noticed) audits the server's lock; if that
  -- caller could not write the event it sets 'pending' and the next caller tries.
  return 'locked:idle'
end
if state == 'locked' and mode ~= 'view' and mode ~= 'unlock'
   and redis.call('HGET', key, 'lock_audit') == 'pending' then
  redis.call('HSET', key, 'lock_audit', 'claimed')
  return 'locked:idle'
end
if mode == 'touch' and state == 'active' then
  redis.call('HSET', key, 'last_seen', stamp)
elseif mode == 'lock' and state == 'active' then
  state = 'locked'
  redis.call('HSET', key, 'state', 'locked', 'changed_at', stamp)
elseif mode == 'unlock' and state == 'locked' then
  state = 'active'
  redis.call('HSET', key, 'state', 'active', 'last_seen', stamp, 'changed_at', stamp)
  redis.call('HDEL', key, 'lock_audit')
end
return state
"""

# KEYS[1]: the new session's hash, KEYS[2]: the index. ARGV: time shift, session id,
# absolute limit (s), how long the key outlives it (s), then field/value pairs.
# Returns the start time (Redis's clock) as text: Lua numbers would be cut to integers.
_CREATE = NOW_LUA + """
local stamp = tostring(now)
local max_age = tonumber(ARGV[3])
for i = 5, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
redis.call('HSET', KEYS[1], 'started_at', stamp, 'last_seen', stamp, 'changed_at', stamp,
           'expires_at', tostring(now + max_age), 'state', 'active')
-- The key outlives the absolute limit by a day so that an expired session still says
-- why; nothing else keeps it.
redis.call('EXPIRE', KEYS[1], math.ceil(max_age + tonumber(ARGV[4])))
redis.call('ZADD', KEYS[2], now, ARGV[2])
return stamp
"""


class SessionStore:
    """Args:
        redis: the shared client.
        time_shift: seconds added to Redis's clock: always 0 in the app; tests move it
            forward (``backend_client.stores.redis.clock``).
        idle_lock: the workstation's idle limit; the server adds ``grace`` to it.
        max_age: the absolute limit of one session.
        grace: how much later than the workstation the server treats a silent session
            as locked (it must exceed the workstation's heartbeat interval).
    """

    def __init__(self, redis: Redis, *, time_shift: TimeShift = no_shift,
                 idle_lock: timedelta = timedelta(minutes=10),
                 max_age: timedelta = timedelta(hours=12),
                 grace: timedelta = timedelta(seconds=60),
                 audit: AuditService | None = None) -> None:
        self._redis = redis
        self._audit = audit
        self._shift = time_shift
        self.idle_lock = idle_lock
        self.max_age = max_age
        self.grace = grace
        self._script: Any = redis.register_script(_SCRIPT)
        self._create: Any = redis.register_script(_CREATE)

    # ------------------------------------------------------------ lifecycle

    def create(self, *, user_id: int, username: str, display_name: str,
               roles: Iterable[str], permissions: Iterable[str], workstation: str) -> Actor:
        # Hex, not URL-safe base64: an id starting with "-" would read as an option in
        # "dr-assistant-admin session revoke ID".
        sid = secrets.token_hex(20)
        roles_t = tuple(sorted(roles))
        perms = frozenset(permissions)
        fields = {
            "user_id": user_id, "username": username, "display_name": display_name,
            "roles": ",".join(roles_t), "permissions": ",".join(sorted(perms)),
            "workstation": workstation,
            "idle": (self.idle_lock + self.grace).total_seconds(),
        }
        with redis_calls():
            raw = self._create(
                keys=[PREFIX + sid, INDEX],
                args=[self._shift(), sid, self.max_age.total_seconds(), REVOKED_KEPT_SECONDS,
                      *(part for pair in fields.items() for part in pair)])
        started = datetime.fromtimestamp(float(_plain(raw)), UTC)
        return Actor(user_id=user_id, username=username, display_name=display_name,
                     roles=roles_t, permissions=perms, session_id=sid,
                     workstation=workstation, started_at=started,
                     expires_at=started + self.max_age)

    def _run(self, sid: str, mode: str) -> str:
        with redis_calls():
            raw = self._script(keys=[PREFIX + sid],
                               args=[self._shift(), mode, REVOKED_KEPT_SECONDS])
        state = raw.decode() if isinstance(raw, bytes) else str(raw)
        if state == "locked:idle":
            # This call found the session silent past its idle limit and locked it.
            self._audit_server_lock(sid)
            state = "locked"
        return state

    def _audit_server_lock(self, sid: str) -> None:
        if self._audit is None:
            return
        try:
            with redis_calls():
                user_id, workstation = self._redis.hmget(PREFIX + sid, "user_id",
                                                         "workstation")
            self._audit.record("session.lock", user_id=int(user_id) if user_id else None,
                               workstation=_plain(workstation), object_type="session",
                               object_id=sid, details={"reason": "server"})
        except Exception as exc:
            # The lock stands either way; the next check writes the event.
            log_exception(log, "auditing a server-side lock failed", exc)
            with contextlib.suppress(Exception):
                self._redis.hset(PREFIX + sid, "lock_audit", "pending")

    def state(self, sid: str) -> str:
        """The session's state now (a silent session past the idle limit becomes locked)."""
        return self._run(sid, "peek")

    def touch(self, sid: str) -> str:
        """The user did something: keep an active session from going idle."""
        return self._run(sid, "touch")

    def lock(self, sid: str) -> str:
        return self._run(sid, "lock")

    def unlock(self, sid: str) -> str:
        """Back to active after the password was checked; a revoked or expired session
        stays what it is."""
        return self._run(sid, "unlock")

    def revoke(self, sid: str) -> str:
        return self._run(sid, "revoke")

    def end(self, sid: str) -> None:
        with redis_calls():
            pipe = self._redis.pipeline(transaction=True)
            pipe.delete(PREFIX + sid)
            pipe.zrem(INDEX, sid)
            pipe.execute()

    # ------------------------------------------------------------ reads

    def get(self, sid: str) -> SessionInfo | None:
        """The session as an administrator sees it (reading it changes nothing)."""
        state = self._run(sid, "view")
        with redis_calls():
            raw = self._redis.hgetall(PREFIX + sid)
        return _info(sid, raw, state) if raw else None

    def list_sessions(self) -> list[SessionInfo]:
        """Every session still known, newest first; ended ones are dropped from the index."""
        with redis_calls():
            listed = self._redis.zrevrange(INDEX, 0, -1)
        sids = [s.decode() if isinstance(s, bytes) else str(s) for s in listed]
        out: list[SessionInfo] = []
        gone: list[str] = []
        for sid in sids:
            info = self.get(sid)
            if info is None:
                gone.append(sid)
            else:
                out.append(info)
        if gone:
            self._redis.zrem(INDEX, *gone)
        return out


def _plain(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value or "")


def _text(raw: dict[Any, Any], key: str) -> str:
    value = raw.get(key.encode(), raw.get(key, b""))
    return value.decode() if isinstance(value, bytes) else str(value)


def _time(raw: dict[Any, Any], key: str) -> datetime:
    return datetime.fromtimestamp(float(_text(raw, key) or 0), UTC)


def _info(sid: str, raw: dict[Any, Any], state: str) -> SessionInfo:
    roles = _text(raw, "roles")
    return SessionInfo(
        session_id=sid, user_id=int(_text(raw, "user_id")), username=_text(raw, "username"),
        display_name=_text(raw, "display_name"),
        roles=tuple(r for r in roles.split(",") if r), workstation=_text(raw, "workstation"),
        started_at=_time(raw, "started_at"), last_seen_at=_time(raw, "last_seen"),
        expires_at=_time(raw, "expires_at"), state=state)
