"""Change events: what a committed write tells every workstation.

An event says "look again", never what the new values are: PostgreSQL and MongoDB stay the
record, and a view that hears of a change refetches through the services (row security
and audit as for any read). So an event carries ids and versions only, never PHI, and a
forged or lost one costs a refetch or some freshness, never data. Who changed something
and when is shown from the refetched row (``updated_by``/``updated_at``), not from the
event.

Publishing happens after the commit (``UnitOfWork.announce`` collects, ``commit()``
publishes); a Redis that is down makes ``publish`` log and return, since the write itself
has succeeded.
"""

from __future__ import annotations

import json
import logging
import os
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

log = logging.getLogger(__name__)

CHANNEL = "dra:events"

# What changed: "patient", "appointment", "waitlist", "directory" (providers, working
# hours, appointment types), "presence", "encounter", later "note", "recording", ...
KINDS = ("patient", "appointment", "waitlist", "directory", "presence", "encounter",
         # a patient's chart (id = patient id; action = the section), a task (id = task
         # id; notify_user_id = its assignee), a note (id = patient id)
         "chart", "task", "note")

# This process, so that a view can tell its own writes from another workstation's.
ORIGIN = uuid.uuid4().hex[:16]

# A real event is a few hundred bytes; anything far larger on the channel is not one of
# ours, and parsing it would only cost the subscriber's thread time.
MAX_EVENT_BYTES = 64 * 1024


@dataclass(frozen=True)
class ChangeEvent:
    """Attributes:
        kind: one of KINDS.
        id: the changed row's id (0 when the change is not about one row).
        version: its version after the change (0 when it has none).
        action: what happened, e.g. "created", "updated", "checked_in", "cancelled".
        user_id: who did it (the signed-in person), None for the system.
        workstation: where it was done.
        origin: the process that did it (``ORIGIN``).
        notify_user_id: someone who should be told at once (a check-in tells the
            provider's person), None for nobody in particular.
        scopes: cache scopes the change touched (``cache_versions`` rows), so a view can
            tell whether its data is affected without a round trip.
    """

    kind: str
    id: int = 0
    version: int = 0
    action: str = "updated"
    user_id: int | None = None
    workstation: str = ""
    origin: str = field(default=ORIGIN)
    notify_user_id: int | None = None
    scopes: tuple[str, ...] = ()

    def to_json(self) -> str:
        data = asdict(self)
        data["scopes"] = list(self.scopes)
        return json.dumps(data, separators=(",", ":"))

    @classmethod
    def from_json(cls, raw: str | bytes) -> ChangeEvent | None:
        """The event, or None for anything that is not one (a stray or forged message
        is ignored, never raised)."""
        if len(raw) > MAX_EVENT_BYTES:
            return None
        try:
            data = json.loads(raw)
            return cls(kind=str(data["kind"])[:40], id=int(data.get("id", 0)),
                       version=int(data.get("version", 0)),
                       action=str(data.get("action", "updated"))[:40],
                       user_id=_int_or_none(data.get("user_id")),
                       workstation=str(data.get("workstation", ""))[:100],
                       origin=str(data.get("origin", ""))[:40],
                       notify_user_id=_int_or_none(data.get("notify_user_id")),
                       scopes=tuple(str(s) for s in _list(data.get("scopes")))[:500])
        except (ValueError, TypeError, KeyError, AttributeError, OverflowError,
                RecursionError):
            return None

    @property
    def mine(self) -> bool:
        """Published by this process."""
        return self.origin == ORIGIN


def _int_or_none(value: Any) -> int | None:
    return None if value is None else int(value)


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


class ChangePublisher(Protocol):
    def publish(self, events: Sequence[ChangeEvent]) -> None:
        """Tell every workstation; never raises (a write that committed has succeeded)."""
        ...


class NullPublisher:
    """For operator tools and tests that need no live updates."""

    def publish(self, events: Sequence[ChangeEvent]) -> None:
        return None


class RedisChangePublisher:
    """Publishes on ``dra:events`` through the one Redis pool. One PUBLISH per event in
    a pipeline; a Redis that is down is logged (once per outage) and skipped."""

    def __init__(self, redis: Any, channel: str = CHANNEL) -> None:
        self.redis = redis
        self.channel = channel
        self._failing = False

    def publish(self, events: Sequence[ChangeEvent]) -> None:
        if not events:
            return
        try:
            pipe = self.redis.pipeline(transaction=False)
            for event in events:
                pipe.publish(self.channel, event.to_json())
            pipe.execute()
            if self._failing:
                log.info("change events are published again")
            self._failing = False
        except Exception as exc:  # noqa: BLE001 - the write committed; freshness only
            if not self._failing:
                log.warning("change events cannot be published (%s); other workstations "
                            "see changes when they next refetch", type(exc).__name__)
            self._failing = True


def events_for(kind: str, ids: Iterable[int], **common: Any) -> list[ChangeEvent]:
    return [ChangeEvent(kind=kind, id=i, **common) for i in ids]


def pid_origin() -> str:  # for logs: which process published
    return f"{os.getpid()}:{ORIGIN}"
