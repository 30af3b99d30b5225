"""Sessions in PostgreSQL: who is signed in where, since when, and whether they may act now.

The database decides (migration 0007, ``dra_*`` functions): it checks the password (the
workstation sends only a client key derived from it), counts failures, starts the session
and hands the workstation a random bearer token of which it keeps only the hash. Every
transaction the app opens names that token, and row-level security, grants and triggers
let it do only what the session's person may. Idle lock, absolute limit and revocation are
judged on the database's clock, so a workstation's wrong clock changes nothing, and a
stolen copy of the app's database password alone opens nothing.

States:
    active   the person may act.
    locked   idle too long, or locked by hand: the password is needed again. The
             workstation locks itself after ``idle_lock`` without input; the database also
             treats a session as locked once it has not been touched for ``idle_lock`` plus
             a grace period, so a workstation whose timer failed still cannot act.
    revoked  an administrator ended it: the workstation locks within one poll and the
             person must sign in again. Kept for a day so the workstation learns why.
    expired  past its absolute limit (12 hours by default): sign in again.
    ended    signed out, or unknown.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import Connection, Engine, text

from backend_client.accounts.passwords import DerivedKeys, derive_keys
from backend_client.dto import Actor, SessionInfo
from backend_client.uow import unit_of_work

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SignInOutcome:
    """What ``dra_sign_in`` answered.

    Attributes:
        status: "ok", "wrong" (user name or password), "refused" (cooling down after
            failures) or "norole" (right password, but the account has no role).
        seconds_left: how long sign-in stays refused, when it is.
        actor: the new session's person (with its token and draft key), when "ok".
    """

    status: str
    seconds_left: float = 0.0
    actor: Actor | None = None


class SessionStore:
    """Args:
        engine: the app's login (or, for the operator's tools, the schema owner's engine;
            in tests a Connection inside an outer transaction).
        idle_lock: this workstation's idle limit; the database adds its grace to it.
        max_age: the absolute limit of one session (the database keeps it within 1-24 h).
    """

    def __init__(self, engine: Engine | Connection, *,
                 idle_lock: timedelta = timedelta(minutes=10),
                 max_age: timedelta = timedelta(hours=12)) -> None:
        self.engine = engine
        self.idle_lock = idle_lock
        self.max_age = max_age

    def _one(self, sql: str, params: dict[str, Any]) -> Any:
        with unit_of_work(self.engine) as uow:
            row = uow.session.execute(text(sql), params).one()
            uow.commit()
            return row

    def _all(self, sql: str, params: dict[str, Any]) -> list[Any]:
        with unit_of_work(self.engine) as uow:
            rows = list(uow.session.execute(text(sql), params).all())
            uow.commit()
            return rows

    # ------------------------------------------------------------ signing in

    def keys_for(self, username: str, password: str) -> DerivedKeys:
        """The keys this password gives for this account (argon2id with the account's own
        salt and costs: a few hundred milliseconds of CPU, on this workstation)."""
        salt, params = self._one("SELECT salt, params FROM dra_auth_params(:u)",
                                 {"u": username})
        try:
            return derive_keys(password, bytes(salt), str(params))
        except ValueError:
            # Parameters this version cannot use: the password cannot match.
            log.warning("an account's password parameters are not usable here")
            return DerivedKeys(b"\0" * 32, b"\0" * 32)

    def sign_in(self, username: str, keys: DerivedKeys, workstation: str) -> SignInOutcome:
        row = self._one(
            "SELECT * FROM dra_sign_in(:u, :k, :w, :idle, :age)",
            {"u": username, "k": keys.client_key, "w": workstation,
             "idle": int(self.idle_lock.total_seconds()),
             "age": int(self.max_age.total_seconds())})
        if row.status != "ok":
            return SignInOutcome(row.status, float(row.seconds_left or 0))
        actor = Actor(user_id=int(row.user_id), username=row.username,
                      display_name=row.display_name, roles=tuple(row.roles),
                      permissions=frozenset(row.permissions), session_id=row.session_id,
                      workstation=workstation[:100], started_at=row.started_at,
                      expires_at=row.expires_at, token=row.token,
                      draft_key=keys.draft_key)
        return SignInOutcome("ok", 0.0, actor)

    # ------------------------------------------------------------ one session

    def state(self, token: str) -> str:
        """The session's state now (a silent session past the idle limit becomes locked,
        and that lock is audited by the database)."""
        return str(self._one("SELECT dra_session(:t, 'peek') AS s", {"t": token}).s)

    def touch(self, token: str) -> str:
        """The person did something: keep an active session from going idle."""
        return str(self._one("SELECT dra_session(:t, 'touch') AS s", {"t": token}).s)

    def lock(self, token: str, reason: str = "") -> str:
        return str(self._one("SELECT dra_session(:t, 'lock', :r) AS s",
                             {"t": token, "r": reason}).s)

    def unlock(self, token: str, keys: DerivedKeys) -> tuple[str, float]:
        """("active" | "wrong" | "refused" | "revoked" | "expired" | "ended", seconds a
        refusal lasts)."""
        row = self._one("SELECT status, seconds_left FROM dra_unlock(:t, :k)",
                        {"t": token, "k": keys.client_key})
        return str(row.status), float(row.seconds_left or 0)

    def end(self, token: str, reason: str) -> bool:
        """Sign out: the session is gone (audited with ``reason``)."""
        return bool(self._one("SELECT dra_sign_out(:t, :r) AS ok",
                              {"t": token, "r": reason}).ok)

    # ------------------------------------------------------------ administrators

    def list_sessions(self, token: str | None) -> list[SessionInfo]:
        """Every session still known, newest first, as the database judges it now.
        ``token``: the administrator's session (None: the operator's own tools, on the
        owner's engine). A session without ``session.revoke`` gets nothing (audited)."""
        rows = self._all("SELECT * FROM dra_list_sessions(:t)", {"t": token})
        return [SessionInfo(session_id=r.session_id, user_id=int(r.user_id),
                            username=r.username, display_name=r.display_name,
                            roles=tuple(r.roles), workstation=r.workstation,
                            started_at=r.started_at, last_seen_at=r.last_seen,
                            expires_at=r.expires_at, state=r.state) for r in rows]

    def get(self, token: str | None, session_id: str) -> SessionInfo | None:
        return next((s for s in self.list_sessions(token) if s.session_id == session_id),
                    None)

    def revoke(self, token: str | None, session_id: str) -> str:
        """"revoked", "unknown" or "denied"."""
        return str(self._one("SELECT dra_revoke_session(:t, :s) AS r",
                             {"t": token, "s": session_id}).r)
