"""Sessions in Redis: who is signed in where, since when, and whether they may act now.

One hash per session (``dra:session:<id>``) holds the user, roles, workstation and times;
a sorted set (``dra:sessions``) lists them for administrators. Every state change and
every check is one Lua script, so a revocation can never be undone by a heartbeat racing
it. Times come from the caller's clock (tests control them); Redis only stores them.

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
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from redis import Redis

from backend_client.audit.service import AuditService
from backend_client.dto import Actor, SessionInfo
from backend_client.logsafe import log_exception
from backend_client.stores.redis.client import redis_calls

log = logging.getLogger(__name__)

PREFIX = "dra:session:"
INDEX = "dra:sessions"
REVOKED_KEPT_SECONDS = 86_400

# KEYS[1]: the session hash. ARGV: now, mode, seconds a revoked session is kept.
# mode: view | peek | touch | lock | unlock | revoke.   Returns the state after the change.
# The idle limit is the session's own (stored at sign-in by its workstation), so whoever
# reads the session (an administrator's list, another workstation) judges it alike; and
# "view" (listing) never changes anything.
_SCRIPT = """
local key = KEYS[1]
local now = tonumber(ARGV[1])
local mode = ARGV[2]
if redis.call('EXISTS', key) == 0 then return 'ended' end
local idle = tonumber(redis.call('HGET', key, 'idle') or '660')
local state = redis.call('HGET', key, 'state')
if state == 'revoked' then return 'revoked' end
if mode == 'revoke' then
  redis.call('HSET', key, 'state', 'revoked', 'changed_at', ARGV[1])
  redis.call('EXPIRE', key, tonumber(ARGV[3]))
  return 'revoked'
end
if now >= tonumber(redis.call('HGET', key, 'expires_at')) then return 'expired' end
local last = tonumber(redis.call('HGET', key, 'last_seen'))
if state == 'active' and now - last >= idle then
  if mode == 'view' then return 'locked' end
  redis.call('HSET', key, 'state', 'locked', 'changed_at', ARGV[1], 'locked_by', 'server',
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
  redis.call('HSET', key, 'last_seen', ARGV[1])
elseif mode == 'lock' and state == 'active' then
  state = 'locked'
  redis.call('HSET', key, 'state', 'locked', 'changed_at', ARGV[1])
elseif mode == 'unlock' and state == 'locked' then
  state = 'active'
  redis.call('HSET', key, 'state', 'active', 'last_seen', ARGV[1], 'changed_at', ARGV[1])
  redis.call('HDEL', key, 'lock_audit')
end
return state
"""


def utc_now() -> datetime:
    return datetime.now(UTC)


class SessionStore:
    """Args:
        redis: the shared client.
        clock: now, as an aware datetime (tests pass a controllable one).
        idle_lock: the workstation's idle limit; the server adds ``grace`` to it.
        max_age: the absolute limit of one session.
        grace: how much later than the workstation the server treats a silent session
            as locked (it must exceed the workstation's heartbeat interval).
    """

    def __init__(self, redis: Redis, *, clock: Callable[[], datetime] = utc_now,
                 idle_lock: timedelta = timedelta(minutes=10),
                 max_age: timedelta = timedelta(hours=12),
                 grace: timedelta = timedelta(seconds=60),
                 audit: AuditService | None = None) -> None:
        self._redis = redis
        self._audit = audit
        self._clock = clock
        self.idle_lock = idle_lock
        self.max_age = max_age
        self.grace = grace
        self._script: Any = redis.register_script(_SCRIPT)

    def now(self) -> datetime:
        return self._clock()

    # ------------------------------------------------------------ lifecycle

    def create(self, *, user_id: int, username: str, display_name: str,
               roles: Iterable[str], permissions: Iterable[str], workstation: str) -> Actor:
        # Hex, not URL-safe base64: an id starting with "-" would read as an option in
        # "dr-assistant-admin session revoke ID".
        sid = secrets.token_hex(20)
        now = self.now()
        expires = now + self.max_age
        roles_t = tuple(sorted(roles))
        perms = frozenset(permissions)
        key = PREFIX + sid
        with redis_calls():
            self._write_new(key, sid, now, expires, user_id=user_id, username=username,
                            display_name=display_name, roles=roles_t, permissions=perms,
                            workstation=workstation)
        return Actor(user_id=user_id, username=username, display_name=display_name,
                     roles=roles_t, permissions=perms, session_id=sid,
                     workstation=workstation, started_at=now, expires_at=expires)

    def _write_new(self, key: str, sid: str, now: datetime, expires: datetime, *,
                   user_id: int, username: str, display_name: str, roles: tuple[str, ...],
                   permissions: frozenset[str], workstation: str) -> None:
        roles_t, perms = roles, permissions
        pipe = self._redis.pipeline(transaction=True)
        pipe.hset(key, mapping={
            "user_id": user_id, "username": username, "display_name": display_name,
            "roles": ",".join(roles_t), "permissions": ",".join(sorted(perms)),
            "workstation": workstation, "started_at": now.timestamp(),
            "last_seen": now.timestamp(), "changed_at": now.timestamp(),
            "expires_at": expires.timestamp(), "state": "active",
            "idle": (self.idle_lock + self.grace).total_seconds(),
        })
        # The key outlives the absolute limit by a day so an expired session still says
        # why; nothing else keeps it.
        pipe.expireat(key, int(expires.timestamp()) + REVOKED_KEPT_SECONDS)
        pipe.zadd(INDEX, {sid: now.timestamp()})
        pipe.execute()

    def _run(self, sid: str, mode: str) -> str:
        now = self.now().timestamp()
        with redis_calls():
            raw = self._script(keys=[PREFIX + sid], args=[now, mode, REVOKED_KEPT_SECONDS])
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
