"""Signing in, locking, unlocking, handing over and signing out at one workstation.

The database checks every password, counts failures and writes every outcome to the audit
trail itself (``signin``, ``signin.failed``, ``signin.refused``, ``session.lock``,
``session.unlock``, ``session.unlock_failed``, ``signout``, ``session.revoke``): see
``sessions.py``. A failed sign-in says only "Wrong user name or password." (or, once the
failures reached the limit, when to try again), whatever was wrong.

The methods block (argon2id on this workstation's CPU, PostgreSQL, MongoDB): call them on a
pool thread.
"""

from __future__ import annotations

import contextlib
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo.database import Database
from sqlalchemy import Connection, Engine

from backend_client.accounts.access import SessionAccess
from backend_client.accounts.sentences import ENDED
from backend_client.accounts.sessions import SessionStore
from backend_client.drafts.store import DraftStore
from backend_client.dto import Actor, DraftToKeep, SessionInfo
from backend_client.errors import NotFound, PermissionDenied, SessionEnded, SignInFailed

log = logging.getLogger(__name__)

WRONG = "Wrong user name or password."
KEPT_REASON = {"user": "Kept when you signed out.",
               "quit": "Kept when Dr. Assistant was closed with the form open."}
NO_ROLE = ("Your account has no role yet, so there is nothing you may do here. Ask an "
           "administrator to give it one.")


@dataclass(frozen=True)
class Refusal:
    """Sign-in is refused for ``seconds_left``; ``until`` is when that is by this
    workstation's clock (what the person at it reads on the screen)."""

    until: datetime
    seconds_left: int

    @classmethod
    def after(cls, seconds: float) -> Refusal:
        # Rounded first: a cooldown of 30 s may come back as 29.99998 s.
        left = max(1, math.ceil(round(seconds, 3)))
        return cls(datetime.now(UTC) + timedelta(seconds=left), left)

    def sentence(self) -> str:
        if self.seconds_left < 60:
            wait = f"{self.seconds_left} second{'s' if self.seconds_left != 1 else ''}"
        else:
            minutes = math.ceil(self.seconds_left / 60)
            wait = f"{minutes} minute{'s' if minutes != 1 else ''}"
        return (f"Too many failed sign-ins. Try again in {wait} "
                f"(at {self.until.astimezone().strftime('%H:%M:%S')}).")


def _refuse_if_not_right(status: str, seconds_left: float) -> None:
    """SignInFailed for a wrong password ("Wrong user name or password.", or when it started
    a cooldown, until when) or a refusal while cooling down."""
    if status == "refused" or (status == "wrong" and seconds_left > 0):
        raise SignInFailed(Refusal.after(seconds_left).sentence())
    if status == "wrong":
        raise SignInFailed(WRONG)


@dataclass(frozen=True)
class Handover:
    """The outcome of signing in at a workstation where someone else was signed in."""

    actor: Actor
    previous: Actor | None = None
    drafts_kept: int = 0
    reasons: tuple[str, ...] = field(default=())


class SignInService:
    def __init__(self, sessions: SessionStore, access: SessionAccess,
                 drafts: DraftStore) -> None:
        self.sessions = sessions
        self.access = access
        self.drafts = drafts

    @property
    def workstation(self) -> str:
        return self.access.workstation

    # ------------------------------------------------------------ the flows

    def sign_in(self, username: str, password: str,
                drafts: Sequence[DraftToKeep] = ()) -> Handover:
        """Sign in. If someone is signed in here already (the lock screen's "sign in as
        someone else", or the same person after their session ended), the previous
        person's ``drafts`` are kept for them and their session is ended; nothing changes
        if the new credentials are wrong or the forms cannot be kept."""
        keys = self.sessions.keys_for(username, password)
        outcome = self.sessions.sign_in(username, keys, self.workstation)
        _refuse_if_not_right(outcome.status, outcome.seconds_left)
        if outcome.status == "norole":
            # Refused before anything changes: whoever is signed in here stays so.
            raise SignInFailed(NO_ROLE)
        actor = outcome.actor
        assert actor is not None
        previous = self.access.actor
        kept = 0
        if previous is not None:
            try:
                if previous.user_id != actor.user_id and previous.user_id is not None:
                    for d in drafts:
                        self.drafts.save(previous.user_id, kind=d.kind, title=d.title,
                                         payload=d.payload, key=d.key,
                                         draft_key=previous.draft_key,
                                         reason=f"Kept when {actor.display_name} signed in "
                                                f"at {self.workstation}.")
                        kept += 1
            except Exception:
                # The forms could not be kept: the hand-over does not happen.
                with contextlib.suppress(Exception):
                    self.sessions.end(actor.token, "aborted")
                raise
            self.sessions.end(previous.token,
                              "replaced" if previous.user_id != actor.user_id else "renewed")
        self.access.set_actor(actor)
        log.info("signed in user id=%s", actor.user_id)
        return Handover(actor=actor, previous=previous, drafts_kept=kept)

    def lock(self, reason: str = "idle", actor: Actor | None = None) -> str:
        """Lock ``actor``'s session (the workstation's current one by default): the idle
        timer or the user's own Lock. A workstation passes the actor it meant, so a lock
        that runs after someone else signed in never locks them."""
        actor = actor or self.access.actor
        if actor is None:
            return "ended"
        return self.sessions.lock(actor.token, reason)

    def unlock(self, password: str) -> Actor:
        """The signed-in person's password again. SessionEnded when the session was revoked
        or expired meanwhile (then they sign in again, keeping everything on screen)."""
        actor = self.access.actor
        if actor is None:
            raise PermissionDenied("Nobody is signed in at this workstation.")
        keys = self.sessions.keys_for(actor.username, password)
        state, seconds = self.sessions.unlock(actor.token, keys)
        _refuse_if_not_right(state, seconds)
        if state != "active":
            raise SessionEnded(ENDED.get(state, ENDED["ended"]), state=state)
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
                                 key=d.key, draft_key=actor.draft_key,
                                 reason=KEPT_REASON.get(reason, KEPT_REASON["user"]))
                kept += 1
        self.sessions.end(actor.token, reason)
        self.access.set_actor(None)
        return kept

    def heartbeat(self) -> str:
        """The user did something since the last heartbeat; returns the session's state."""
        actor = self.access.actor
        return "ended" if actor is None else self.sessions.touch(actor.token)

    def state(self) -> str:
        actor = self.access.actor
        return "ended" if actor is None else self.sessions.state(actor.token)


class SessionAdmin:
    """An administrator's view of every session: list and revoke (``session.revoke``).

    ``access`` is the workstation's ``SessionAccess`` (the database checks the signed-in
    administrator's session again) or, for ``dr-assistant-admin``, ``SystemAccess`` with a
    store on the schema owner's engine.
    """

    def __init__(self, sessions: SessionStore, access: Any) -> None:
        self.sessions = sessions
        self.access = access

    def _token(self) -> str | None:
        actor = self.access.require("session.revoke")
        return actor.token or None

    def list_sessions(self) -> list[SessionInfo]:
        return self.sessions.list_sessions(self._token())

    def revoke(self, session_id: str) -> SessionInfo:
        token = self._token()
        info = self.sessions.get(token, session_id)
        outcome = self.sessions.revoke(token, session_id)
        if info is None or outcome == "unknown":
            raise NotFound("There is no such session; it may have ended already.")
        if outcome == "denied":
            raise PermissionDenied("Your session may not end other people's sessions.")
        return replace(info, state="revoked")

    def revoke_user(self, user_id: int) -> int:
        """End every open session of one person (their account was disabled, say);
        returns how many."""
        targets = [s for s in self.list_sessions()
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


def build_session_services(engine: Engine | Connection, mongo_db: Database[dict[str, Any]], *,
                           workstation: str, idle_lock: timedelta = timedelta(minutes=10),
                           max_age: timedelta = timedelta(hours=12)) -> SessionServices:
    sessions = SessionStore(engine, idle_lock=idle_lock, max_age=max_age)
    access = SessionAccess(sessions, engine, workstation)
    signin = SignInService(sessions, access, DraftStore(mongo_db))
    return SessionServices(sessions, access, signin, SessionAdmin(sessions, access))

