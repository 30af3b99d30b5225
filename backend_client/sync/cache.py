"""A cache of read-mostly views in Redis that is never stale (docs/sync-and-scheduling.md).

How a read goes (``SealedCache.read``):

1. The versions of the scopes the value covers are read from PostgreSQL's
   ``cache_versions`` in one indexed query, in the caller's transaction. Triggers bump them
   in the same transaction as any change (migration 0009), so a change committed before
   this read is always seen: its new version makes another key.
2. The key is a hash of the value's name (what and for which parameters) and those
   versions: ``dra:cache:<name>:<sha256>``.
3. This process opened that key before: the value is taken from memory (a key names the
   versions, so the memo is as fresh as Redis's copy). Otherwise, Redis has it: the value
   is opened (AES-GCM with the database's cache key, the Redis
   key as associated data) and decoded. Anything that does not open (tampered, planted,
   copied from another key, sealed with another database's key) is a miss, never served.
4. A miss loads from PostgreSQL (after the versions were read, so the value is at least
   as new as its key says), seals and stores it with a TTL.

Any Redis error falls back to PostgreSQL and Redis is left alone for ``retry_after``
seconds (a down Redis then costs nothing per read). Without a signed-in session (the
operator's tools) nothing is cached: the sealing key is only given to sessions.

Values are frozen dataclasses (the DTOs), encoded by ``TypedCodec`` as JSON and decoded by
their declared type, never pickled: what Redis hands back is data, not code.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import threading
import time
import types
import typing
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime
from typing import Any, Generic, Protocol, TypeVar

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import bindparam, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

T = TypeVar("T")
PREFIX = "dra:cache:"
DEFAULT_TTL = 900
NONCE = 12

_VERSIONS = text("SELECT scope, version FROM cache_versions WHERE scope IN :scopes"
                 ).bindparams(bindparam("scopes", expanding=True))
_KEY = text("SELECT dra_cache_key()")


class Codec(Protocol[T]):
    def encode(self, value: T) -> bytes: ...

    def decode(self, raw: bytes) -> T: ...


class TypedCodec(Generic[T]):
    """JSON for a value of one declared type made of frozen dataclasses, tuples, dates,
    datetimes and plain values: a dataclass is the list of its fields in order, and
    decoding is directed by the type (no tags in the data, nothing looked up by a name
    that came from Redis). ``TypedCodec(DaySheet)``, ``TypedCodec(tuple[ProviderInfo, ...])``.
    Both directions are compiled once per type: a day sheet of 1,500 appointments is
    encoded and decoded in a few milliseconds.
    """

    def __init__(self, root: Any) -> None:
        self._encode, self._decode = _compile(root)

    def encode(self, value: T) -> bytes:
        return json.dumps(self._encode(value), separators=(",", ":")).encode()

    def decode(self, raw: bytes) -> T:
        value: T = self._decode(json.loads(raw))
        return value


Convert = Callable[[Any], Any] | None   # None: the value is JSON as it is


def _compile(tp: Any) -> tuple[Callable[[Any], Any], Callable[[Any], Any]]:
    enc, dec = _pair(tp)
    return (enc or _same), (dec or _same)


def _same(v: Any) -> Any:
    return v


def _pair(tp: Any) -> tuple[Convert, Convert]:
    """(to JSON, from JSON) for ``tp``. Values come back only from entries that opened
    (AES-GCM): what is checked here is the shape, against our own mistakes."""
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        inner = [a for a in args if a is not type(None)]
        if len(inner) != 1:
            raise TypeError(f"cannot cache {tp}")
        return _optional(_pair(inner[0]))
    if origin in (tuple, frozenset):
        e, d = _pair(args[0])
        kind = tuple if origin is tuple else frozenset
        if e is None or d is None:
            return ((lambda v: list(v)) if e is None else (lambda v: [e(x) for x in v]),
                    (lambda v: kind(_list(v))) if d is None
                    else (lambda v: kind(d(x) for x in _list(v))))
        return (lambda v: [e(x) for x in v]), (lambda v: kind(d(x) for x in _list(v)))
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        hints = typing.get_type_hints(tp)
        names = [f.name for f in dataclasses.fields(tp)]
        pairs = [_pair(hints[n]) for n in names]
        encs = [(n, e) for n, (e, _) in zip(names, pairs, strict=True)]
        decs = [d for _, d in pairs]
        width = len(names)

        def encode(v: Any) -> list[Any]:
            return [getattr(v, n) if e is None else e(getattr(v, n)) for n, e in encs]

        def decode(v: Any) -> Any:
            if not isinstance(v, list) or len(v) != width:
                raise ValueError(f"not a {tp.__name__}")
            return tp(*[x if d is None else d(x) for d, x in zip(decs, v, strict=True)])
        return encode, decode
    if tp in (datetime, date):
        parse = tp.fromisoformat
        return (lambda v: v.isoformat()), (lambda v: parse(v))
    if tp in (str, int, bool, float):
        return None, None
    raise TypeError(f"cannot cache {tp}")


def _optional(pair: tuple[Convert, Convert]) -> tuple[Convert, Convert]:
    def maybe(f: Convert) -> Convert:
        if f is None:
            return None
        one: Callable[[Any], Any] = f
        return lambda v: None if v is None else one(v)
    return maybe(pair[0]), maybe(pair[1])


def _list(v: Any) -> list[Any]:
    if not isinstance(v, list):
        raise ValueError("not a list")
    return v


@dataclasses.dataclass(frozen=True)
class CacheStats:
    hits: int
    misses: int
    rejected: int      # entries that did not open (tampered or foreign): reloaded
    redis_errors: int


class SealedCache:
    """One per process, shared by the services (thread-safe).

    Args:
        redis: the one Redis client (``dra:`` keys only); None: no cache, every read
            goes to PostgreSQL.
        ttl_seconds: how long an entry lives (old versions' entries simply expire).
        retry_after: after a Redis error, read PostgreSQL only for this long.
    """

    def __init__(self, redis: Any | None, *, ttl_seconds: int = DEFAULT_TTL,
                 retry_after: float = 5.0, memo_entries: int = 16,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.redis = redis
        # Values this process already opened, by Redis key: a key names the versions the
        # value was made at, so a memo under it is exactly as fresh as Redis's copy. It
        # saves the round trip, the decryption and the decoding of a sheet re-read.
        self._memo: OrderedDict[str, Any] = OrderedDict()
        self._memo_entries = memo_entries
        self.ttl = ttl_seconds
        self.retry_after = retry_after
        self._clock = clock
        self._lock = threading.Lock()
        self._keys: dict[str, AESGCM] = {}   # sha256(session token) -> its sealing key
        self._down_until = 0.0
        self._counts = {"hits": 0, "misses": 0, "rejected": 0, "redis_errors": 0}

    # ------------------------------------------------------------------ reads

    def read(self, s: Session, token: str | None, name: str, scopes: Iterable[str],
             load: Callable[[], T], codec: Codec[T]) -> tuple[T, str]:
        """The value named ``name`` covering ``scopes``, and its stamp (the hash of the
        versions it was made at; equal stamps, equal values).

        Args:
            s: the caller's session (its transaction names the signed-in session).
            token: that session's token ('' or None: no cache).
            name: what the value is, with its parameters ("daysheet:2026-12-03:Europe/
                Berlin:1,2,3"); no PHI (it is part of the Redis key).
            scopes: the ``cache_versions`` scopes whose change changes the value.
            load: reads the value from PostgreSQL (in ``s``).
        """
        stamp = self.stamp(s, name, scopes)
        aead = self._aead(s, token) if token and self.redis is not None else None
        if aead is None:
            return load(), stamp
        key = f"{PREFIX}{name.split(':', 1)[0]}:{stamp}"
        with self._lock:
            if key in self._memo:
                self._memo.move_to_end(key)
                self._counts["hits"] += 1
                memo: T = self._memo[key]
                return memo, stamp
        raw = None if self._down() else self._get(key)
        if raw is None and self._down():
            fresh = load()  # Redis is down (or just failed): PostgreSQL answers
            self._remember(key, fresh)
            return fresh, stamp
        if raw is not None:
            opened = self._open(aead, key, raw, codec)
            if opened is not None:
                self._count("hits")
                self._remember(key, opened)
                return opened, stamp
        self._count("misses")
        value = load()
        nonce = os.urandom(NONCE)
        self._set(key, nonce + aead.encrypt(nonce, codec.encode(value), key.encode()))
        self._remember(key, value)
        return value, stamp

    def _remember(self, key: str, value: Any) -> None:
        if self._memo_entries <= 0:
            return
        with self._lock:
            self._memo[key] = value
            self._memo.move_to_end(key)
            while len(self._memo) > self._memo_entries:
                self._memo.popitem(last=False)

    @staticmethod
    def stamp(s: Session, name: str, scopes: Iterable[str]) -> str:
        """The hash of ``name`` and the scopes' current versions (one query)."""
        wanted = sorted(set(scopes))
        versions: dict[str, int] = {}
        if wanted:
            versions = {str(r[0]): int(r[1]) for r in s.execute(_VERSIONS,
                                                                 {"scopes": wanted})}
        h = hashlib.sha256(name.encode())
        for scope in wanted:
            h.update(f"\n{scope}={versions.get(scope, 0)}".encode())
        return h.hexdigest()

    def stats(self) -> CacheStats:
        with self._lock:
            return CacheStats(**self._counts)

    def forget_keys(self) -> None:
        """Drop the sealing keys and the opened values held in memory (sign-out)."""
        with self._lock:
            self._keys.clear()
            self._memo.clear()

    # ------------------------------------------------------------------ internals

    def _aead(self, s: Session, token: str) -> AESGCM | None:
        ident = hashlib.sha256(token.encode()).hexdigest()
        with self._lock:
            known = self._keys.get(ident)
        if known is not None:
            return known
        try:
            with s.begin_nested():
                raw = s.execute(_KEY).scalar_one()
        except DBAPIError:
            # Not a session that may have it (locked, ended, no schedule rights): no
            # cache, and the database's own refusal follows on the real read.
            return None
        if raw is None:
            return None
        aead = AESGCM(bytes(raw)[:32])
        with self._lock:
            self._keys[ident] = aead
        return aead

    def _open(self, aead: AESGCM, key: str, raw: bytes, codec: Codec[T]) -> T | None:
        try:
            plain = aead.decrypt(raw[:NONCE], raw[NONCE:], key.encode())
            return codec.decode(plain)
        except (InvalidTag, ValueError, KeyError, TypeError, IndexError, AttributeError):
            # Not sealed by a session of this database for this key: reload, and say
            # so once per entry (no PHI: the key is a hash).
            self._count("rejected")
            log.warning("a cached value did not open and was reloaded (%s)", key[-12:])
            return None

    def _down(self) -> bool:
        with self._lock:
            return self._clock() < self._down_until

    def _failed(self, exc: Exception) -> None:
        with self._lock:
            first = self._clock() >= self._down_until
            self._down_until = self._clock() + self.retry_after
            self._counts["redis_errors"] += 1
        if first:
            log.warning("the cache (Redis) cannot be used (%s); reading PostgreSQL",
                        type(exc).__name__)

    def _get(self, key: str) -> bytes | None:
        assert self.redis is not None
        try:
            raw = self.redis.get(key)
        except Exception as exc:  # noqa: BLE001 - any Redis failure: PostgreSQL answers
            self._failed(exc)
            return None
        return bytes(raw) if raw is not None else None

    def _set(self, key: str, blob: bytes) -> None:
        assert self.redis is not None
        try:
            self.redis.set(key, blob, ex=self.ttl)
        except Exception as exc:  # noqa: BLE001
            self._failed(exc)

    def _count(self, what: str) -> None:
        with self._lock:
            self._counts[what] += 1


def scopes_of(prefix: str, ids: Sequence[int], days: Sequence[date]) -> list[str]:
    """``<prefix>:<id>:<YYYY-MM-DD>`` for every id and day."""
    return [f"{prefix}:{i}:{d.isoformat()}" for i in ids for d in days]
