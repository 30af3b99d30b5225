"""Presence: who is signed in at which workstation, and whether they are with a patient.

Each workstation's signed-in person has one Redis key, ``dra:presence:<user_id>:<ws>``,
refreshed by a heartbeat (``beat``) and kept for ``ttl_seconds`` (about three
heartbeats), so a workstation that crashes or loses the network drops out on its own.
``dra:presence:index`` (a sorted set, member ``<user_id>:<ws>``, score the Redis time the
key expires) lists the keys, so ``present()`` never scans the keyspace.

Nothing about a patient goes into Redis: "with_patient" is a state, not a patient.
When someone's state changes, a ``ChangeEvent(kind="presence")`` tells every desk to
refresh its list. Times (``since``) are Redis's ``TIME``, never this machine's clock.

Presence is advisory. The heartbeat writes only the signed-in person's own key, but
anyone holding the workstation's Redis login can write any presence key; so presence
decides nothing (no permission, no booking rule rests on it). Names and provider ids in
the list come from PostgreSQL (read as the signed-in session) when an engine is given,
and entries for users PostgreSQL does not know are dropped.
"""

from __future__ import annotations

import json
import logging
import threading
from datetime import UTC, datetime
from typing import Any, Protocol

from redis import Redis
from sqlalchemy import Connection, Engine, select

from backend_client.accounts.sentences import NOT_SIGNED_IN
from backend_client.dto import PRESENCE_STATES, Actor, PresenceInfo
from backend_client.errors import PermissionDenied, ValidationError
from backend_client.stores.postgres.models import Provider, User
from backend_client.stores.redis.client import redis_calls
from backend_client.sync.events import ChangeEvent, ChangePublisher, RedisChangePublisher
from backend_client.uow import unit_of_work

log = logging.getLogger(__name__)

PREFIX = "dra:presence:"
INDEX = "dra:presence:index"
BEAT_STATES = ("available", "with_patient", "away")
HEARTBEAT_SECONDS = 20
TTL_SECONDS = 3 * HEARTBEAT_SECONDS


class PresenceApi(Protocol):
    def beat(self, state: str) -> None:
        """This workstation's person is here, in ``state`` ("available", "with_patient"
        or "away"). Raises ``PermissionDenied`` when nobody is signed in."""
        ...

    def leave(self) -> None:
        """This workstation's person is gone (signed out, quit): the entry this service
        last wrote goes (so it works after the session has been ended, and removes the
        previous person's entry when someone else signs in here)."""
        ...

    def present(self) -> tuple[PresenceInfo, ...]:
        """Everyone signed in anywhere, by name then workstation."""
        ...


class SignedInActor(Protocol):
    @property
    def actor(self) -> Actor | None: ...


class PresenceService:
    """Args:
        redis: the app's Redis client.
        access: the workstation's ``SessionAccess`` (its ``actor`` is whose key is
            written; a locked workstation still beats, as "away").
        engine: PostgreSQL (the app's login), for names and provider ids; None: names as
            the heartbeats wrote them and no provider ids.
        publisher: where presence changes are announced (default: ``dra:events`` on
            ``redis``).
        ttl_seconds: how long an entry outlives its last heartbeat.
    """

    def __init__(self, redis: Redis, access: SignedInActor, *,
                 engine: Engine | Connection | None = None,
                 publisher: ChangePublisher | None = None,
                 ttl_seconds: float = TTL_SECONDS) -> None:
        self.redis = redis
        self.access = access
        self.engine = engine
        self.publisher = publisher or RedisChangePublisher(redis)
        self.ttl_ms = max(1, int(ttl_seconds * 1000))
        # The entry this service last wrote: what leave() removes.
        self._lock = threading.Lock()
        self._written: Actor | None = None

    def _actor(self) -> Actor:
        actor = self.access.actor
        if actor is None or actor.user_id is None:
            raise PermissionDenied(NOT_SIGNED_IN)
        return actor

    def beat(self, state: str) -> None:
        if state not in BEAT_STATES:
            raise ValidationError("state", f"Presence is one of {', '.join(BEAT_STATES)}, "
                                           f"not {state!r}.")
        actor = self._actor()
        member = f"{actor.user_id}:{actor.workstation}"
        key = PREFIX + member
        with redis_calls():
            pipe = self.redis.pipeline(transaction=False)
            pipe.time()
            pipe.get(key)
            (seconds, micros), old = pipe.execute()
            now = seconds + micros / 1e6
            previous = _parse(old)
            changed = previous is None or previous.get("state") != state
            since = now if changed else previous.get("since", now)  # type: ignore[union-attr]
            value = json.dumps({"user_id": actor.user_id, "workstation": actor.workstation,
                                "display_name": actor.display_name, "state": state,
                                "since": since}, separators=(",", ":"))
            pipe = self.redis.pipeline(transaction=True)
            pipe.set(key, value, px=self.ttl_ms)
            pipe.zadd(INDEX, {member: now + self.ttl_ms / 1000})
            pipe.zremrangebyscore(INDEX, "-inf", now)
            pipe.execute()
        with self._lock:
            self._written = actor
        if changed:
            self._announce(actor, state)

    def leave(self) -> None:
        with self._lock:
            actor, self._written = self._written, None
        if actor is None:
            actor = self.access.actor
        if actor is None or actor.user_id is None:
            return
        member = f"{actor.user_id}:{actor.workstation}"
        with redis_calls():
            pipe = self.redis.pipeline(transaction=True)
            pipe.delete(PREFIX + member)
            pipe.zrem(INDEX, member)
            removed, _ = pipe.execute()
        if removed:
            self._announce(actor, "signed_out")

    def present(self) -> tuple[PresenceInfo, ...]:
        with redis_calls():
            seconds, micros = self.redis.time()
            now = seconds + micros / 1e6
            members = self.redis.zrangebyscore(INDEX, now, "+inf")
            raw = self.redis.mget([PREFIX + _text(m) for m in members]) if members else []
        entries = [entry for entry in (_entry(v) for v in raw) if entry is not None]
        if self.engine is not None and entries:
            entries = self._from_directory(entries)
        return tuple(sorted(entries, key=lambda p: (p.display_name.casefold(),
                                                    p.workstation, p.user_id)))

    def _from_directory(self, entries: list[PresenceInfo]) -> list[PresenceInfo]:
        """Names and provider ids as PostgreSQL has them; unknown users dropped."""
        assert self.engine is not None
        actor = self.access.actor
        ids = sorted({e.user_id for e in entries})
        stmt = (select(User.id, User.display_name, Provider.id)
                .outerjoin(Provider, Provider.user_id == User.id)
                .where(User.id.in_(ids)))
        with unit_of_work(self.engine, token=actor.token if actor else None) as uow:
            known = {uid: (name, pid) for uid, name, pid in uow.session.execute(stmt)}
        return [PresenceInfo(user_id=e.user_id, display_name=known[e.user_id][0],
                             workstation=e.workstation, state=e.state, since=e.since,
                             provider_id=known[e.user_id][1])
                for e in entries if e.user_id in known]

    def _announce(self, actor: Actor, state: str) -> None:
        self.publisher.publish([ChangeEvent(kind="presence", id=actor.user_id or 0,
                                            action=state, user_id=actor.user_id,
                                            workstation=actor.workstation)])


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _parse(raw: Any) -> dict[str, Any] | None:
    if raw is None:
        return None
    try:
        data = json.loads(raw)
    except (ValueError, TypeError, RecursionError):
        return None
    return data if isinstance(data, dict) else None


def _entry(raw: Any) -> PresenceInfo | None:
    """One heartbeat's value, or None for a missing or malformed one."""
    data = _parse(raw)
    if data is None:
        return None
    try:
        state = str(data["state"])
        if state not in PRESENCE_STATES:
            return None
        since = data.get("since")
        return PresenceInfo(
            user_id=int(data["user_id"]), display_name=str(data.get("display_name", ""))[:200],
            workstation=str(data.get("workstation", ""))[:100], state=state,
            since=datetime.fromtimestamp(float(since), UTC) if since is not None else None)
    except (KeyError, ValueError, TypeError, OverflowError, OSError):
        return None
