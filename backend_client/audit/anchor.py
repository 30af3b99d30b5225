"""The audit chain's head, kept outside PostgreSQL, so that cutting the newest events off
or rewriting history (and recomputing every hash after it) shows in ``audit verify``.

A hash chain alone proves only that the events that are there follow each other: whoever can
write the table can delete its tail, or rewrite it from some event on and compute new hashes,
and the chain is intact again. So every app instance, once a minute when the trail has grown,
and ``audit verify`` after every successful check, write an *anchor* - the newest event's id
and hash, and when - to two places PostgreSQL's owner does not control:

- the object store (``audit/anchors/<chain>/<id>.json``, versioned; on S3 give the bucket a
  default Object Lock retention and the anchors cannot be deleted even by the app's keys);
- this machine's data folder (``audit-anchors/<chain>/``, read-only files).

``<chain>`` is the database's own random chain id, so that two databases (a test one, a
training one) never read each other's anchors.

``verify`` then checks that the event each anchor names is still there with the same hash.
Events newer than the last anchor are protected by the chain alone (at most a minute's worth
on a running clinic).
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, text

from backend_client.errors import DraError, NotFound
from backend_client.stores.objects.base import ObjectStore

log = logging.getLogger(__name__)

PREFIX = "audit/anchors/"


@dataclass(frozen=True)
class Anchor:
    last_id: int
    head_hash: bytes
    written_at: datetime
    where: str = ""  # "object store" | "data folder"
    chain_id: str = ""

    def to_json(self) -> bytes:
        return json.dumps({"last_id": self.last_id, "head_hash": self.head_hash.hex(),
                           "written_at": self.written_at.isoformat()}).encode()

    @classmethod
    def from_json(cls, raw: bytes, where: str) -> Anchor:
        data = json.loads(raw)
        return cls(int(data["last_id"]), bytes.fromhex(data["head_hash"]),
                   datetime.fromisoformat(data["written_at"]), where)


@dataclass(frozen=True)
class AnchorCheck:
    ok: bool
    message: str
    anchor: Anchor | None = None


class AuditAnchors:
    """Args:
        engine: the app's login (the head comes from ``dra_audit_head()``, which shows
            only an id and a hash) or the owner's.
        objects: the object store.
        local_dir: this machine's copy (the data folder's ``audit-anchors``).
    """

    def __init__(self, engine: Engine | Connection, objects: ObjectStore,
                 local_dir: Path | None) -> None:
        self.engine = engine
        self.objects = objects
        self.local_dir = local_dir
        self._last_written: int | None = None

    # ------------------------------------------------------------ writing

    def _head_row(self) -> Any:
        sql = text("SELECT chain_id, last_id, head_hash, written_at FROM dra_audit_head()")
        if isinstance(self.engine, Connection):
            return self.engine.execute(sql).one()
        with self.engine.connect() as conn:
            return conn.execute(sql).one()

    def head(self) -> Anchor | None:
        row = self._head_row()
        if row.last_id is None:
            return None
        return Anchor(int(row.last_id), bytes(row.head_hash), row.written_at,
                      chain_id=str(row.chain_id))

    def chain_id(self) -> str:
        return str(self._head_row().chain_id)

    def write(self) -> Anchor | None:
        """Anchor the current head (if the trail has grown since this instance last did).
        Returns what was written."""
        anchor = self.head()
        if anchor is None or anchor.last_id == self._last_written:
            return None
        key = f"{PREFIX}{anchor.chain_id}/{anchor.last_id:015d}.json"
        self.objects.put(key, anchor.to_json(), content_type="application/json")
        if self.local_dir is not None:
            self._write_local(anchor)
        self._last_written = anchor.last_id
        return anchor

    def _write_local(self, anchor: Anchor) -> None:
        assert self.local_dir is not None
        folder = self.local_dir / anchor.chain_id
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{anchor.last_id:015d}.json"
        if path.exists():
            return
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(anchor.to_json())
        tmp.chmod(0o400)
        os.replace(tmp, path)

    # ------------------------------------------------------------ reading

    def anchors(self) -> list[Anchor]:
        """Every anchor of this database's chain, newest first (both places)."""
        chain = self.chain_id()
        found: dict[tuple[int, str], Anchor] = {}
        for info in self.objects.list(f"{PREFIX}{chain}/"):
            try:
                a = Anchor.from_json(self.objects.get(info.key), "object store")
            except (NotFound, ValueError, KeyError):
                continue
            found[(a.last_id, a.where)] = a
        if self.local_dir is not None and (self.local_dir / chain).is_dir():
            for path in (self.local_dir / chain).glob("*.json"):
                try:
                    a = Anchor.from_json(path.read_bytes(), "data folder")
                except (OSError, ValueError, KeyError):
                    continue
                found[(a.last_id, a.where)] = a
        return sorted(found.values(), key=lambda a: a.last_id, reverse=True)

    def check(self, hashes: dict[int, bytes] | None = None, *,
              anchors: Iterable[Anchor] | None = None) -> AnchorCheck:
        """Does the trail still hold every anchored event, with the anchored hash?

        ``hashes``: id -> stored hash of the events named by the anchors (read by the
        caller, who reads the trail as the owner); None reads them here.
        """
        known = list(self.anchors() if anchors is None else anchors)
        if not known:
            return AnchorCheck(True, "no anchor written yet: the chain is checked on its own")
        if hashes is None:
            hashes = self._hashes([a.last_id for a in known])
        for a in known:
            stored = hashes.get(a.last_id)
            when = a.written_at.strftime("%Y-%m-%d %H:%M:%S %Z")
            if stored is None:
                return AnchorCheck(False, (
                    f"event {a.last_id} is missing: it was the newest event when the "
                    f"{a.where} anchor was written ({when}), so events were removed from "
                    "the end of the trail"), a)
            if stored != a.head_hash:
                return AnchorCheck(False, (
                    f"event {a.last_id} no longer has the hash anchored in the {a.where} "
                    f"({when}): the trail was rewritten up to it"), a)
        newest = known[0]
        return AnchorCheck(True, f"matches {len(known)} anchor"
                                 f"{'s' if len(known) != 1 else ''} (newest: event "
                                 f"{newest.last_id})", newest)

    def _hashes(self, ids: list[int]) -> dict[int, bytes]:
        sql = text("SELECT id, hash FROM audit_events WHERE id = ANY(:ids)")
        if isinstance(self.engine, Connection):
            rows: Any = self.engine.execute(sql, {"ids": ids}).all()
        else:
            with self.engine.connect() as conn:
                rows = conn.execute(sql, {"ids": ids}).all()
        return {int(r.id): bytes(r.hash) for r in rows if r.hash is not None}


def write_quietly(anchors: AuditAnchors) -> None:
    """For a timer: a failure (a store away) is logged and tried again next time."""
    try:
        anchors.write()
    except (DraError, OSError) as exc:
        log.warning("anchoring the audit trail failed: %s", type(exc).__name__)
