"""Who is acting, and may they: the check every service makes before it reads or writes.

``SessionAccess`` is the workstation's: it holds the signed-in person's ``Actor`` and, on
every check, asks the database whether that session is still active (one function call),
so that a window that failed to notice a lock says so in a sentence. The database enforces
the same on every statement anyway (row-level security on the session's token).
``SystemAccess`` is for administrator tools run by the operator (seed, benchmarks) on the
schema owner's engine: every permission, no user, said so in the audit trail.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Protocol

from sqlalchemy import Connection, Engine

from backend_client.accounts.permissions import MATRIX
from backend_client.accounts.sentences import ENDED, LOCKED, NOT_SIGNED_IN
from backend_client.accounts.sessions import SessionStore
from backend_client.audit.service import AuditService
from backend_client.dto import Actor
from backend_client.errors import PermissionDenied, SessionEnded, WorkstationLocked
from backend_client.uow import UnitOfWork, unit_of_work

if TYPE_CHECKING:
    from backend_client.sync.events import ChangePublisher


def denial_sentence(permission: str) -> str:
    return (f"Your role does not allow you to {MATRIX[permission][0]}. If you need to, ask "
            "an administrator.")


class Access(Protocol):
    def require(self, permission: str, *, patient_id: int | None = None) -> Actor:
        """The actor, when allowed; else raises (and audits a denial)."""
        ...

    def audit_denial(self, actor: Actor, permission: str, patient_id: int | None) -> None:
        ...

    def checked_work(self, bind: Engine | Connection, permission: str, *,
                     publisher: ChangePublisher | None = None, generic_plans: bool = False
                     ) -> AbstractContextManager[tuple[Actor, UnitOfWork]]:
        """``require`` and the actor's unit of work in one transaction: the session's state
        is read by the statement that names the session (for a read that needs one
        transaction anyway). Raises as ``require`` does. ``generic_plans``: as
        ``UnitOfWork``'s."""
        ...


class SessionAccess:
    """The signed-in person at this workstation (thread-safe: pool threads read it)."""

    def __init__(self, sessions: SessionStore, audit_engine: Engine | Connection,
                 workstation: str) -> None:
        self.sessions = sessions
        self._audit = AuditService(audit_engine)
        self.workstation = workstation
        self._lock = threading.Lock()
        self._actor: Actor | None = None

    @property
    def actor(self) -> Actor | None:
        with self._lock:
            return self._actor

    def set_actor(self, actor: Actor | None) -> None:
        with self._lock:
            self._actor = actor

    def current(self) -> Actor:
        """The actor whose session is active now, or raise why not."""
        actor = self._claimed()
        _refuse_unless_active(self.sessions.state(actor.token))
        return actor

    def _claimed(self) -> Actor:
        actor = self.actor
        if actor is None:
            raise PermissionDenied(NOT_SIGNED_IN)
        return actor

    def require(self, permission: str, *, patient_id: int | None = None) -> Actor:
        if permission not in MATRIX:
            raise ValueError(f"unknown permission {permission!r}")
        actor = self.current()
        self._allow(actor, permission, patient_id)
        return actor

    def _allow(self, actor: Actor, permission: str, patient_id: int | None) -> None:
        if not actor.can(permission):
            self.audit_denial(actor, permission, patient_id)
            raise PermissionDenied(denial_sentence(permission))

    @contextmanager
    def checked_work(self, bind: Engine | Connection, permission: str, *,
                     publisher: ChangePublisher | None = None, generic_plans: bool = False
                     ) -> Iterator[tuple[Actor, UnitOfWork]]:
        """As ``require``, then ``unit_of_work`` for the actor, in one transaction.

        The session's state is read by the statement that names the session in the unit's
        transaction, instead of in a transaction of its own (a search's tenth). When it is
        not active, the unit is left and the state asked again on its own, so that a lock
        the database decides just now is kept and audited (``require`` does the same), and
        the reason raised."""
        if permission not in MATRIX:
            raise ValueError(f"unknown permission {permission!r}")
        actor = self._claimed()
        if not actor.can(permission):
            # The session's state first, then the refusal, audited in a transaction of
            # its own (one inside the unit would be rolled back with it).
            actor = self.require(permission)
        with unit_of_work(bind, token=actor.token or None, publisher=publisher,
                          peek=True, generic_plans=generic_plans) as uow:
            state = uow.session_state() or "ended"
            if state == "active":
                yield actor, uow
        if state != "active":
            self.current()  # raises why (a lock decided now is kept), unless active since
            _refuse_unless_active(state)

    def audit_denial(self, actor: Actor, permission: str, patient_id: int | None) -> None:
        self._audit.record("access.denied", user_id=actor.user_id,
                           workstation=actor.workstation, patient_id=patient_id,
                           object_type="permission", object_id=permission,
                           token=actor.token)


def _refuse_unless_active(state: str) -> None:
    if state == "locked":
        raise WorkstationLocked(LOCKED)
    if state != "active":
        raise SessionEnded(ENDED.get(state, ENDED["ended"]), state=state)


class SystemAccess:
    """For the operator's own tools (seed, benchmarks, admin CLI): all permissions, no
    user id; audit events it causes carry the workstation name it is given."""

    def __init__(self, workstation: str = "admin-cli") -> None:
        now = datetime.now(UTC)
        self._actor = Actor(user_id=None, username="system", display_name="System",
                            roles=(), permissions=frozenset(MATRIX), session_id="",
                            workstation=workstation, started_at=now, expires_at=now)

    def require(self, permission: str, *, patient_id: int | None = None) -> Actor:
        if permission not in MATRIX:
            raise ValueError(f"unknown permission {permission!r}")
        return self._actor

    def audit_denial(self, actor: Actor, permission: str, patient_id: int | None) -> None:
        """The system actor is never denied."""

    @contextmanager
    def checked_work(self, bind: Engine | Connection, permission: str, *,
                     publisher: ChangePublisher | None = None, generic_plans: bool = False
                     ) -> Iterator[tuple[Actor, UnitOfWork]]:
        actor = self.require(permission)
        with unit_of_work(bind, publisher=publisher, generic_plans=generic_plans) as uow:
            yield actor, uow
