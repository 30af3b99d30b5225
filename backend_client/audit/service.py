"""AuditService: append audit events, verify the hash chain, list who accessed a patient.

The database computes each event's hash in a trigger (migration 0003), so ``record`` is a
plain INSERT and no client can skip or forge the chain. ``verify`` recomputes it here from
the same canonical bytes (mirrored in ``canonical_bytes``) and names the first event where
it breaks.

Writing an event takes a transaction-scoped lock shared by all writers until the
transaction ends: record an event in a short transaction (``record`` with the Engine does
exactly that), or as the last statement of a longer one, never before slow work.

Nothing here logs patient data; the report returns it to its caller only.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from sqlalchemy import Connection, Engine, Row, Text, cast, func, insert, select, text
from sqlalchemy.orm import Session

from backend_client.dto import BreakGlassEntry
from backend_client.stores.postgres.models import AuditEvent, Patient, PatientIdentifier, User
from backend_client.uow import name_session, named_session, unit_of_work

GENESIS = bytes(32)
TAG = "dra-audit-v1"
BATCH = 5000

Problem = Literal["altered", "removed", "reordered"]


@dataclass(frozen=True)
class AuditEntry:
    """One line of an access report."""

    event_id: int
    occurred_at: datetime
    user_id: int | None
    user_name: str
    workstation: str
    action: str
    object_type: str
    object_id: str


@dataclass(frozen=True)
class VerifyReport:
    """The outcome of walking the chain.

    Attributes:
        checked: events whose hash and link were found good.
        problem: None when the chain is intact, else what broke at ``event_id``.
        event_id: the first event where the chain breaks.
        previous_id: the last good event before it (None when it breaks at the start).
        other_id: for a reorder, the event that should have come after ``previous_id``.
        last_id, head_hash: the last event and its hash when intact (note the head hash
            somewhere else to detect removal of the newest events, which a chain alone
            cannot show).
    """

    checked: int
    problem: Problem | None = None
    event_id: int | None = None
    previous_id: int | None = None
    other_id: int | None = None
    last_id: int | None = None
    head_hash: bytes | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None

    @property
    def message(self) -> str:
        if self.problem is None:
            return f"audit chain intact: {self.checked} events"
        if self.problem == "altered":
            return (f"audit chain broken at event {self.event_id}: the event was altered "
                    f"(its contents or hashes no longer match)")
        if self.problem == "reordered":
            after = (f"event {self.previous_id}" if self.previous_id is not None
                     else "the start")
            return (f"audit chain broken at event {self.event_id}: events were reordered "
                    f"(the event that should follow {after} is event {self.other_id})")
        if self.previous_id is None:
            return (f"audit chain broken at event {self.event_id}: events were removed "
                    f"before it (it is the first event left)")
        return (f"audit chain broken at event {self.event_id}: events were removed "
                f"between event {self.previous_id} and event {self.event_id}")


# ---------------------------------------------------------------- canonical form


def _netstring(text_: str) -> bytes:
    data = text_.encode("utf-8")
    return str(len(data)).encode("ascii") + b":" + data + b","


def _utc_iso(moment: datetime) -> str:
    # Mirrors to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"').
    u = moment.astimezone(UTC)
    return (f"{u.year:04d}-{u.month:02d}-{u.day:02d}T{u.hour:02d}:{u.minute:02d}:"
            f"{u.second:02d}.{u.microsecond:06d}Z")


def canonical_bytes(*, id: int, occurred_at: datetime, user_id: int | None,
                    workstation: str, patient_id: int | None, action: str,
                    object_type: str, object_id: str, details_text: str) -> bytes:
    """The bytes the database hashes for one event (``audit_event_canonical`` in 0003).

    ``details_text`` is ``details::text`` as PostgreSQL prints the jsonb value.
    """
    fields = (TAG, str(id), _utc_iso(occurred_at),
              "" if user_id is None else str(user_id), workstation,
              "" if patient_id is None else str(patient_id), action, object_type,
              object_id, details_text)
    return b"".join(_netstring(f) for f in fields)


def event_hash(prev_hash: bytes, canonical: bytes) -> bytes:
    return hashlib.sha256(prev_hash + canonical).digest()


# ---------------------------------------------------------------- the service

_VERIFY_COLUMNS = (AuditEvent.id, AuditEvent.occurred_at, AuditEvent.user_id,
                   AuditEvent.workstation, AuditEvent.patient_id, AuditEvent.action,
                   AuditEvent.object_type, AuditEvent.object_id,
                   cast(AuditEvent.details, Text).label("details_text"),
                   AuditEvent.prev_hash, AuditEvent.hash)


def _row_canonical(r: Row[Any]) -> bytes:
    return canonical_bytes(id=r.id, occurred_at=r.occurred_at, user_id=r.user_id,
                           workstation=r.workstation, patient_id=r.patient_id,
                           action=r.action, object_type=r.object_type,
                           object_id=r.object_id, details_text=r.details_text)


def _bytes(value: Any) -> bytes | None:
    return None if value is None else bytes(value)


# The id this session's last append got (the chain trigger may renumber it, with nextval
# again). Not RETURNING: row security lets the app append events it may not read back.
_LAST_ID = text("SELECT currval(pg_get_serial_sequence('audit_events', 'id'))")


class AuditService:
    """Args:
        engine: the Engine; or, in tests, a Connection inside an outer transaction.
    """

    def __init__(self, engine: Engine | Connection) -> None:
        self.engine = engine

    # ------------------------------------------------------------ writes

    def record(self, action: str, *, user_id: int | None = None, workstation: str = "",
               patient_id: int | None = None, object_type: str = "", object_id: str = "",
               details: Mapping[str, Any] | None = None, token: str | None = None) -> int:
        """Append one event in its own transaction (one INSERT round trip) and return its id.

        ``token``: the session writing it, when the engine is the app's login (which may
        append only within a live session; the database then names the session's person
        and workstation whatever ``user_id`` and ``workstation`` say). With a Connection
        already in a transaction, the event joins that transaction.
        """
        stmt = self._insert(action, user_id=user_id, workstation=workstation,
                            patient_id=patient_id, object_type=object_type,
                            object_id=object_id, details=details)
        if token:
            with unit_of_work(self.engine, token=token) as uow:
                uow.session.execute(stmt)
                event_id = int(uow.session.execute(_LAST_ID).scalar_one())
                uow.commit()
                return event_id
        if isinstance(self.engine, Connection):
            conn = self.engine
            joined = conn.in_transaction()
            conn.execute(stmt)
            event_id = int(conn.execute(_LAST_ID).scalar_one())
            if not joined:
                conn.commit()
            return event_id
        # Autocommit: the INSERT is its own transaction, with no BEGIN/COMMIT round trips,
        # and the chain lock is released the moment it returns.
        with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(stmt)
            return int(conn.execute(_LAST_ID).scalar_one())

    @staticmethod
    def record_in(executor: Session | Connection, action: str, *,
                  user_id: int | None = None, workstation: str = "",
                  patient_id: int | None = None, object_type: str = "",
                  object_id: str = "", details: Mapping[str, Any] | None = None) -> int:
        """Append one event inside the caller's transaction (committed or rolled back with
        it). Call it last in the transaction: the chain lock is held until it ends."""
        stmt = AuditService._insert(action, user_id=user_id, workstation=workstation,
                                    patient_id=patient_id, object_type=object_type,
                                    object_id=object_id, details=details)
        executor.execute(stmt)
        return int(executor.execute(_LAST_ID).scalar_one())

    @staticmethod
    def _insert(action: str, *, user_id: int | None, workstation: str,
                patient_id: int | None, object_type: str, object_id: str,
                details: Mapping[str, Any] | None) -> Any:
        return insert(AuditEvent).values(
            action=action, user_id=user_id, workstation=workstation, patient_id=patient_id,
            object_type=object_type, object_id=object_id, details=dict(details or {}),
        )

    # ------------------------------------------------------------ reads

    def verify(self) -> VerifyReport:
        """Walk the whole chain in id order, streaming in batches, and report the first
        event where it breaks (or how many events were checked)."""
        with self._connection() as conn:
            return self._verify(conn)

    def report_for_patient(self, patient_id: int) -> list[AuditEntry]:
        """Every event about this patient, oldest first: who, when, where, what."""
        stmt = (select(AuditEvent.id, AuditEvent.occurred_at, AuditEvent.user_id,
                       User.display_name, User.username, AuditEvent.workstation,
                       AuditEvent.action, AuditEvent.object_type, AuditEvent.object_id)
                .outerjoin(User, User.id == AuditEvent.user_id)
                .where(AuditEvent.patient_id == patient_id)
                .order_by(AuditEvent.occurred_at, AuditEvent.id))
        with self._connection() as conn:
            rows = conn.execute(stmt).all()
        return [AuditEntry(event_id=r.id, occurred_at=r.occurred_at, user_id=r.user_id,
                           user_name=r.display_name or r.username or "",
                           workstation=r.workstation, action=r.action,
                           object_type=r.object_type, object_id=r.object_id)
                for r in rows]

    def break_glass_report(self, days: float | None = None, *,
                           token: str | None = None) -> list[BreakGlassEntry]:
        """Every chart opened by breaking the glass (in the last ``days`` by the database's
        clock), newest first, with the reason given: what an administrator reviews.

        Each entry names the patient (name and MRN) only if the reader may read that
        patient's demographics: with ``token`` the join runs under the reader's session,
        so row-level security leaves a patient the reader may not see out of it and the
        entry says only the record number."""
        mrn = (select(PatientIdentifier.value)
               .where(PatientIdentifier.patient_id == AuditEvent.patient_id,
                      PatientIdentifier.kind == "MRN")
               .order_by(PatientIdentifier.id).limit(1).scalar_subquery())
        stmt = (select(AuditEvent.id, AuditEvent.occurred_at, AuditEvent.user_id,
                       User.display_name, User.username, AuditEvent.workstation,
                       AuditEvent.patient_id, AuditEvent.details["reason"].astext,
                       Patient.family_name, Patient.given_name, mrn)
                .outerjoin(User, User.id == AuditEvent.user_id)
                .outerjoin(Patient, Patient.id == AuditEvent.patient_id)
                .where(AuditEvent.action == "chart.break_glass")
                .order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc()))
        if days is not None:
            stmt = stmt.where(AuditEvent.occurred_at >= func.now() - timedelta(days=days))
        with self._connection(token) as conn:
            rows = conn.execute(stmt).all()
        return [BreakGlassEntry(event_id=r[0], occurred_at=r[1], user_id=r[2],
                                user_name=r[3] or r[4] or "", workstation=r[5],
                                patient_id=r[6], reason=r[7] or "",
                                patient_name=None if r[8] is None else f"{r[8]}, {r[9]}",
                                patient_mrn=None if r[8] is None else (r[10] or ""))
                for r in rows]

    # ------------------------------------------------------------ internals

    def _connection(self, token: str | None = None) -> _Borrowed:
        return _Borrowed(self.engine, token)

    def _rows(self, conn: Connection) -> Iterator[Any]:
        last = -(2**63)
        while True:
            batch: Sequence[Any] = conn.execute(
                select(*_VERIFY_COLUMNS).where(AuditEvent.id > last)
                .order_by(AuditEvent.id).limit(BATCH)).all()
            yield from batch
            if len(batch) < BATCH:
                return
            last = batch[-1].id

    def _verify(self, conn: Connection) -> VerifyReport:
        expected = GENESIS
        previous_id: int | None = None
        checked = 0
        for r in self._rows(conn):
            prev_hash, stored = _bytes(r.prev_hash), _bytes(r.hash)
            canonical = _row_canonical(r)
            if prev_hash == expected:
                if event_hash(expected, canonical) != stored:
                    return VerifyReport(checked, "altered", r.id, previous_id)
            elif event_hash(expected, canonical) == stored:
                # Only its prev_hash column was changed.
                return VerifyReport(checked, "altered", r.id, previous_id)
            else:
                successor = conn.execute(
                    select(AuditEvent.id).where(AuditEvent.prev_hash == expected,
                                                AuditEvent.id != r.id)
                    .order_by(AuditEvent.id).limit(1)).scalar_one_or_none()
                if successor is not None:
                    return VerifyReport(checked, "reordered", r.id, previous_id, successor)
                if prev_hash is None or event_hash(prev_hash, canonical) != stored:
                    return VerifyReport(checked, "altered", r.id, previous_id)
                return VerifyReport(checked, "removed", r.id, previous_id)
            assert stored is not None
            expected, previous_id = stored, r.id
            checked += 1
        return VerifyReport(checked, last_id=previous_id,
                            head_hash=None if previous_id is None else expected)


class _Borrowed:
    """A Connection for one read: the given one as is, or one checked out of the Engine;
    naming ``token``'s session first when the app's login reads (row-level security)."""

    def __init__(self, bind: Engine | Connection, token: str | None = None) -> None:
        self._bind = bind
        self._token = token
        self._owned: Connection | None = None
        self._restore: str | None = None

    def __enter__(self) -> Connection:
        if isinstance(self._bind, Connection):
            conn = self._bind
            if self._token is not None:
                self._restore = named_session(conn)
        else:
            conn = self._owned = self._bind.connect()
        if self._token is not None:
            name_session(conn, self._token)
        return conn

    def __exit__(self, *exc: object) -> None:
        if self._owned is not None:
            self._owned.close()
        elif self._restore is not None and isinstance(self._bind, Connection):
            name_session(self._bind, self._restore)


class AuditReports:
    """The audit trail as an administrator reads it in the app: every read needs
    ``audit.report`` and is itself audited."""

    def __init__(self, engine: Engine | Connection, access: Any) -> None:
        self._service = AuditService(engine)
        self._access = access

    def break_glass(self, days: int = 30) -> list[BreakGlassEntry]:
        actor = self._access.require("audit.report")
        entries = self._service.break_glass_report(max(1, min(days, 36500)),
                                                   token=actor.token or None)
        self._service.record("audit.read", user_id=actor.user_id,
                             workstation=actor.workstation, object_type="report",
                             object_id="break_glass", details={"days": days},
                             token=actor.token or None)
        return entries
