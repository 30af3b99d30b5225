"""Signing in, locking, unlocking, handing over and signing out at one workstation.

Every outcome is audited (``signin``, ``signin.failed``, ``signin.refused``,
``session.lock``, ``session.unlock``, ``session.unlock_failed``, ``signout``,
``session.revoke``). A failed sign-in says only "Wrong user name or password." (or, once
the rate limit is reached, when to try again), whatever was wrong.

The methods block (argon2 verification, Redis, PostgreSQL): call them on a pool thread.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from pymongo.database import Database
from redis import Redis
from sqlalchemy import Connection, Engine

from backend_client.accounts.access import SessionAccess
from backend_client.accounts.passwords import PasswordHashing
from backend_client.accounts.permissions import Authorizer
from backend_client.accounts.ratelimit import SignInRateLimiter
from backend_client.accounts.sentences import ENDED
from backend_client.accounts.service import AccountService, UserSummary, normalise_username
from backend_client.accounts.sessions import SessionStore
from backend_client.audit.service import AuditService
from backend_client.drafts.store import DraftStore
from backend_client.dto import Actor, DraftToKeep, SessionInfo
from backend_client.errors import NotFound, PermissionDenied, SessionEnded, SignInFailed
from backend_client.stores.redis.clock import TimeShift, no_shift

log = logging.getLogger(__name__)

WRONG = "Wrong user name or password."
KEPT_REASON = {"user": "Kept when you signed out.",
               "quit": "Kept when Dr. Assistant was closed with the form open."}
NO_ROLE = ("Your account has no role yet, so there is nothing you may do here. Ask an "
           "administrator to give it one.")


@dataclass(frozen=True)
class Handover:
    """The outcome of signing in at a workstation where someone else was signed in."""

    actor: Actor
    previous: Actor | None = None
    drafts_kept: int = 0
    reasons: tuple[str, ...] = field(default=())


class SignInService:
    def __init__(self, accounts: AccountService, limiter: SignInRateLimiter,
                 sessions: SessionStore, authorizer: Authorizer, access: SessionAccess,
                 drafts: DraftStore) -> None:
        self.accounts = accounts
        self.limiter = limiter
        self.sessions = sessions
        self.authorizer = authorizer
        self.access = access
        self.drafts = drafts
        self.audit = AuditService(accounts.engine)

    @property
    def workstation(self) -> str:
        return self.access.workstation

    # ------------------------------------------------------------ credentials

    def _verify(self, username: str, password: str, *, failure_action: str,
                actor: Actor | None = None) -> UserSummary:
        """The account, or SignInFailed after counting the failure."""
        name = normalise_username(username)
        ws = self.workstation
        refusal = self.limiter.begin_attempt(name, ws)
        if refusal is not None:
            self.audit.record("signin.refused", user_id=self._known_id(name),
                              workstation=ws, object_type="account")
            raise SignInFailed(refusal.sentence())
        try:
            user = self.accounts.authenticate(name, password)
        except Exception:
            # Not a wrong password: a store failed. The attempt does not count.
            self.limiter.refund(name, ws)
            raise
        if user is None:
            # The attempt was counted when it began; this says whether it started a
            # cooldown.
            refusal = self.limiter.check(name, ws)
            # The attempted name is recorded only when it is a real account: people type
            # their password into the user name field.
            self.audit.record(failure_action, user_id=self._known_id(name), workstation=ws,
                              object_type="account",
                              details={"session": actor.session_id} if actor else None)
            raise SignInFailed(refusal.sentence() if refusal else WRONG)
        self.limiter.record_success(name, ws)
        return user

    def _known_id(self, name: str) -> int | None:
        try:
            return self.accounts.get(name).id
        except NotFound:
            return None

    def _start(self, user: UserSummary) -> Actor:
        permissions = self.authorizer.permissions(user.id)
        actor = self.sessions.create(user_id=user.id, username=user.username,
                                     display_name=user.display_name, roles=user.roles,
                                     permissions=permissions, workstation=self.workstation)
        self.audit.record("signin", user_id=user.id, workstation=self.workstation,
                          object_type="session", object_id=actor.session_id)
        self.access.set_actor(actor)
        log.info("signed in user id=%s", user.id)
        return actor

    # ------------------------------------------------------------ the flows

    def sign_in(self, username: str, password: str,
                drafts: Sequence[DraftToKeep] = ()) -> Handover:
        """Sign in. If someone is signed in here already (the lock screen's "sign in as
        someone else", or the same person after their session ended), the previous
        person's ``drafts`` are kept for them and their session is ended first; nothing
        changes if the new credentials are wrong."""
        user = self._verify(username, password, failure_action="signin.failed")
        if not user.roles:
            # Refused before anything changes: whoever is signed in here stays so.
            raise SignInFailed(NO_ROLE)
        previous = self.access.actor
        kept = 0
        if previous is not None:
            if previous.user_id != user.id and previous.user_id is not None:
                for d in drafts:
                    self.drafts.save(previous.user_id, kind=d.kind, title=d.title,
                                     payload=d.payload, key=d.key,
                                     reason=f"Kept when {user.display_name} signed in at "
                                            f"{self.workstation}.")
                    kept += 1
            self._end(previous, "replaced" if previous.user_id != user.id else "renewed")
        actor = self._start(user)
        return Handover(actor=actor, previous=previous, drafts_kept=kept)

    def lock(self, reason: str = "idle", actor: Actor | None = None) -> str:
        """Lock ``actor``'s session (the workstation's current one by default): the idle
        timer or the user's own Lock. A workstation passes the actor it meant, so a lock
        that runs after someone else signed in never locks them."""
        actor = actor or self.access.actor
        if actor is None:
            return "ended"
        state = self.sessions.lock(actor.session_id)
        if state == "locked":
            self.audit.record("session.lock", user_id=actor.user_id,
                              workstation=actor.workstation, object_type="session",
                              object_id=actor.session_id, details={"reason": reason})
        return state

    def unlock(self, password: str) -> Actor:
        """The signed-in person's password again. SessionEnded when the session was revoked
        or expired meanwhile (then they sign in again, keeping everything on screen)."""
        actor = self.access.actor
        if actor is None:
            raise PermissionDenied("Nobody is signed in at this workstation.")
        self._verify(actor.username, password, failure_action="session.unlock_failed",
                     actor=actor)
        state = self.sessions.unlock(actor.session_id)
        if state != "active":
            raise SessionEnded(ENDED.get(state, ENDED["ended"]), state=state)
        self.audit.record("session.unlock", user_id=actor.user_id,
                          workstation=actor.workstation, object_type="session",
                          object_id=actor.session_id)
        return actor

    def sign_out(self, drafts: Sequence[DraftToKeep] = (), reason: str = "user") -> int:
        """End the current session, keeping the person's open forms as drafts. Returns how
        many drafts were kept."""
        actor = self.access.actor
        if actor is None:
            return 0
        kept = 0
        if actor.user_id is not None:
            for d in drafts:
                self.drafts.save(actor.user_id, kind=d.kind, title=d.title, payload=d.payload,
                                 key=d.key, reason=KEPT_REASON.get(reason, KEPT_REASON["user"]))
                kept += 1
        self._end(actor, reason)
        return kept

    def _end(self, actor: Actor, reason: str) -> None:
        self.sessions.end(actor.session_id)
        self.access.set_actor(None)
        self.audit.record("signout", user_id=actor.user_id, workstation=actor.workstation,
                          object_type="session", object_id=actor.session_id,
                          details={"reason": reason})

    def heartbeat(self) -> str:
        """The user did something since the last heartbeat; returns the session's state."""
        actor = self.access.actor
        return "ended" if actor is None else self.sessions.touch(actor.session_id)

    def state(self) -> str:
        actor = self.access.actor
        return "ended" if actor is None else self.sessions.state(actor.session_id)


class SessionAdmin:
    """An administrator's view of every session: list and revoke (``session.revoke``)."""

    def __init__(self, sessions: SessionStore, audit: AuditService, access: Any) -> None:
        self.sessions = sessions
        self.audit = audit
        self.access = access

    def list_sessions(self) -> list[SessionInfo]:
        self.access.require("session.revoke")
        return self.sessions.list_sessions()

    def revoke(self, session_id: str) -> SessionInfo:
        actor = self.access.require("session.revoke")
        info = self.sessions.get(session_id)
        if info is None:
            raise NotFound("There is no such session; it may have ended already.")
        self.sessions.revoke(session_id)
        self.audit.record("session.revoke", user_id=actor.user_id,
                          workstation=actor.workstation, object_type="session",
                          object_id=session_id,
                          details={"user_id": info.user_id, "workstation": info.workstation})
        return self.sessions.get(session_id) or info

    def revoke_user(self, user_id: int) -> int:
        """End every open session of one person (their account was disabled, say);
        returns how many."""
        self.access.require("session.revoke")
        targets = [s for s in self.sessions.list_sessions()
                   if s.user_id == user_id and s.state in ("active", "locked")]
        for s in targets:
            self.revoke(s.session_id)
        return len(targets)


@dataclass
class SessionServices:
    """What one workstation needs for who-is-signed-in, built together."""

    sessions: SessionStore
    access: SessionAccess
    signin: SignInService
    admin: SessionAdmin


def build_session_services(engine: Engine | Connection, redis: Redis,
                           mongo_db: Database[dict[str, Any]], *, workstation: str,
                           idle_lock: timedelta = timedelta(minutes=10),
                           max_age: timedelta = timedelta(hours=12),
                           time_shift: TimeShift = no_shift,
                           hashing: PasswordHashing | None = None) -> SessionServices:
    """``time_shift`` moves Redis's clock for tests (always 0 in the app)."""
    sessions = SessionStore(redis, time_shift=time_shift, idle_lock=idle_lock, max_age=max_age,
                            audit=AuditService(engine))
    access = SessionAccess(sessions, engine, workstation)
    accounts = AccountService(engine, hashing=hashing)
    limiter = SignInRateLimiter(redis, time_shift=time_shift)
    signin = SignInService(accounts, limiter, sessions, Authorizer(engine), access,
                           DraftStore(mongo_db))
    return SessionServices(sessions, access, signin,
                           SessionAdmin(sessions, AuditService(engine), access))
