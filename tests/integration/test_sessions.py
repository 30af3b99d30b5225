"""Sign-in, sessions, locking and handing over a workstation, decided by the database
(real PostgreSQL and MongoDB), with time passing for the test's sessions by the schema
owner moving their times back (tests/clock.py)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, text

from backend_client.accounts.service import AccountService
from backend_client.accounts.sessions import SessionStore
from backend_client.accounts.signin import WRONG, SessionServices, build_session_services
from backend_client.backend import Backend
from backend_client.drafts.store import DraftStore
from backend_client.dto import DraftToKeep, SessionInfo
from backend_client.errors import PermissionDenied, SessionEnded, SignInFailed, WorkstationLocked
from tests.clock import DatabaseTime
from tests.integration.conftest import FAST

PASSWORD = "correct horse battery staple"


@dataclass
class Desk:
    """One workstation with its own session services, and the accounts of a clinic."""

    clock: DatabaseTime
    services: SessionServices
    users: dict[str, str]  # role -> username
    owner: Engine
    backend: Backend
    workstation: str

    def other_desk(self, workstation: str, **kw: Any) -> SessionServices:
        return build_session_services(self.backend.engine, self.backend.mongo_db,
                                      workstation=workstation, **kw)

    def audit(self, since_id: int = 0) -> list[tuple[str, int | None, str]]:
        with self.owner.connect() as conn:
            return [(r.action, r.user_id, r.workstation) for r in conn.execute(text(
                "SELECT action, user_id, workstation FROM audit_events WHERE id > :i "
                "AND workstation IN (:w, 'desk-2') ORDER BY id"),
                {"i": since_id, "w": self.workstation})]

    def user_id(self, role: str) -> int:
        with self.owner.connect() as conn:
            return int(conn.execute(text("SELECT id FROM users WHERE username = :u"),
                                    {"u": self.users[role]}).scalar_one())

    def info(self, session_id: str) -> SessionInfo | None:
        """The session as the operator's tools see it."""
        return SessionStore(self.owner).get(None, session_id)


@pytest.fixture
def desk(backend: Backend) -> Iterator[Desk]:
    tag = uuid.uuid4().hex[:8]
    accounts = AccountService(backend.owner_engine, hashing=FAST)
    users = {}
    ids = []
    for role in ("doctor", "nurse", "receptionist", "admin"):
        name = f"{role[:5]}{tag}"
        ids.append(accounts.add_user(name, f"{role.title()} {tag}", PASSWORD, [role]).id)
        users[role] = name
    clock = DatabaseTime(backend.owner_engine, ids)
    ws = f"desk-{tag}"
    yield Desk(clock, build_session_services(backend.engine, backend.mongo_db, workstation=ws),
               users, backend.owner_engine, backend, ws)
    backend.mongo_db["drafts"].delete_many({"user_id": {"$in": ids}})
    with backend.owner_engine.begin() as conn:
        conn.execute(text("DELETE FROM app_sessions WHERE user_id = ANY(:u)"), {"u": ids})
        conn.execute(text("UPDATE users SET is_active = false WHERE id = ANY(:u)"), {"u": ids})


def test_signing_in_starts_a_session_with_roles_and_is_audited(desk: Desk) -> None:
    handover = desk.services.signin.sign_in(desk.users["doctor"].upper(), PASSWORD)
    actor = handover.actor
    # Hex: an id never starts with "-", so `session revoke ID` can always be typed.
    assert all(c in "0123456789abcdef" for c in actor.session_id)
    assert len(actor.session_id) == 40
    assert actor.roles == ("doctor",) and actor.can("note.sign")
    assert not actor.can("user.manage")
    assert actor.workstation == desk.workstation
    assert actor.expires_at - actor.started_at == timedelta(hours=12)
    assert desk.services.access.require("patient.search") == actor
    info = desk.info(actor.session_id)
    assert info is not None and info.state == "active" and info.roles == ("doctor",)
    assert desk.audit()[-1] == ("signin", actor.user_id, desk.workstation)


@pytest.mark.parametrize("how", ["wrong password", "unknown user", "disabled account",
                                 "empty password"])
def test_every_failure_says_only_wrong_user_name_or_password(desk: Desk, how: str) -> None:
    user, password = desk.users["nurse"], PASSWORD
    if how == "wrong password":
        password = "correct horse battery stapler"
    elif how == "unknown user":
        user = "nobody" + uuid.uuid4().hex[:6]
    elif how == "disabled account":
        AccountService(desk.owner, hashing=FAST).disable(user)
    else:
        password = ""
    with pytest.raises(SignInFailed) as info:
        desk.services.signin.sign_in(user, password)
    assert info.value.message == WRONG == "Wrong user name or password."
    assert desk.services.access.actor is None
    action, user_id, _ = desk.audit()[-1]
    assert action == "signin.failed"
    # The attempted name is kept only when it is a real account.
    assert (user_id is None) == (how == "unknown user")


def test_repeated_failures_are_refused_for_a_while_even_with_the_right_password(
        desk: Desk) -> None:
    signin, user = desk.services.signin, desk.users["receptionist"]
    for _ in range(5):
        with pytest.raises(SignInFailed, match="Wrong user name or password"):
            signin.sign_in(user, "not the password at all")
    with pytest.raises(SignInFailed) as info:
        signin.sign_in(user, "still not the password")
    assert "Too many failed sign-ins. Try again in 30 seconds" in info.value.message
    with pytest.raises(SignInFailed, match="Too many failed sign-ins"):
        signin.sign_in(user, PASSWORD)
    assert desk.audit()[-1][0] == "signin.refused"
    desk.clock.advance(seconds=31)
    assert signin.sign_in(user, PASSWORD).actor.username == user


def test_idle_session_locks_and_the_password_unlocks_it(desk: Desk) -> None:
    services = desk.services
    actor = services.signin.sign_in(desk.users["doctor"], PASSWORD).actor
    desk.clock.advance(minutes=9)
    assert services.signin.heartbeat() == "active"  # the user typed something
    desk.clock.advance(minutes=9)
    assert services.signin.state() == "active"
    # The workstation's own timer locks it at 10 idle minutes.
    assert services.signin.lock("idle") == "locked"
    with pytest.raises(WorkstationLocked):
        services.access.require("patient.search")
    with pytest.raises(SignInFailed, match="Wrong user name or password"):
        services.signin.unlock("not it at all, sorry")
    assert services.signin.unlock(PASSWORD) == actor
    assert services.access.require("patient.search") == actor
    actions = [a for a, _, _ in desk.audit()]
    assert [a for a in actions if a.startswith("session.")] == [
        "session.lock", "session.unlock_failed", "session.unlock"]


def test_a_silent_workstation_is_locked_by_the_server_too(desk: Desk) -> None:
    services = desk.services
    services.signin.sign_in(desk.users["nurse"], PASSWORD)
    desk.clock.advance(minutes=10, seconds=59)  # idle limit + grace not yet reached
    assert services.access.require("chart.open").username == desk.users["nurse"]
    desk.clock.advance(seconds=2)
    with pytest.raises(WorkstationLocked):
        services.access.require("chart.open")
    assert services.signin.heartbeat() == "locked"  # a late heartbeat does not unlock


def test_sessions_end_at_the_absolute_limit_and_signing_in_again_renews(desk: Desk) -> None:
    services = desk.services
    first = services.signin.sign_in(desk.users["doctor"], PASSWORD).actor
    for _ in range(12 * 12 - 1):  # an active user: a heartbeat every five minutes
        desk.clock.advance(minutes=5)
        assert services.signin.heartbeat() == "active"
    desk.clock.advance(minutes=5)
    with pytest.raises(SessionEnded) as info:
        services.access.require("patient.search")
    assert info.value.state == "expired" and "time limit" in info.value.message
    with pytest.raises(SessionEnded):
        services.signin.unlock(PASSWORD)
    again = services.signin.sign_in(desk.users["doctor"], PASSWORD)
    assert again.actor.session_id != first.session_id and again.drafts_kept == 0
    assert services.access.require("patient.search") == again.actor
    assert desk.info(first.session_id) is None


def test_an_admin_revokes_a_session_and_it_cannot_act_any_more(desk: Desk) -> None:
    doctor = desk.services.signin.sign_in(desk.users["doctor"], PASSWORD).actor
    admin_desk = desk.other_desk("desk-2")
    admin_desk.signin.sign_in(desk.users["admin"], PASSWORD)
    listed = {s.session_id: s for s in admin_desk.admin.list_sessions()}
    assert listed[doctor.session_id].workstation == desk.workstation
    assert listed[doctor.session_id].display_name.startswith("Doctor")
    revoked = admin_desk.admin.revoke(doctor.session_id)
    assert revoked.state == "revoked"
    # The doctor's workstation polls its state and locks; every service call refuses.
    assert desk.services.signin.state() == "revoked"
    with pytest.raises(SessionEnded) as info:
        desk.services.access.require("patient.search")
    assert "An administrator ended your session" in info.value.message
    # Neither a heartbeat nor the password brings it back.
    assert desk.services.signin.heartbeat() == "revoked"
    with pytest.raises(SessionEnded):
        desk.services.signin.unlock(PASSWORD)
    assert ("session.revoke", desk.user_id("admin"), "desk-2") in desk.audit()


def test_only_admins_list_or_revoke_sessions_and_a_refusal_is_audited(desk: Desk) -> None:
    nurse = desk.services.signin.sign_in(desk.users["nurse"], PASSWORD).actor
    with pytest.raises(PermissionDenied, match="end other people's sessions"):
        desk.services.admin.revoke(nurse.session_id)
    assert desk.audit()[-1] == ("access.denied", nurse.user_id, desk.workstation)
    assert desk.services.signin.state() == "active"


def test_someone_else_signing_in_at_a_locked_desk_keeps_the_first_users_drafts(
        desk: Desk) -> None:
    services = desk.services
    doctor = services.signin.sign_in(desk.users["doctor"], PASSWORD).actor
    services.signin.lock("idle")
    form = DraftToKeep(kind="patient.register", title="New patient",
                       payload={"given_name": "Half", "family_name": "Typed"}, key="form-1")
    # Wrong credentials: nothing changes, nothing is saved.
    with pytest.raises(SignInFailed):
        services.signin.sign_in(desk.users["nurse"], "wrong wrong wrong", drafts=[form])
    assert services.access.actor == doctor
    drafts = DraftStore(desk.backend.mongo_db)
    assert drafts.list_for(desk.user_id("doctor"), doctor.draft_key) == []

    handover = services.signin.sign_in(desk.users["nurse"], PASSWORD, drafts=[form])
    assert handover.previous == doctor and handover.drafts_kept == 1
    assert services.access.require("chart.open").username == desk.users["nurse"]
    assert desk.info(doctor.session_id) is None
    kept = drafts.list_for(desk.user_id("doctor"), doctor.draft_key)
    assert [(d.kind, d.title, d.payload) for d in kept] == [
        ("patient.register", "New patient", {"given_name": "Half", "family_name": "Typed"})]
    assert kept[0].reason.startswith("Kept when Nurse") and desk.workstation in kept[0].reason
    # The nurse cannot see the doctor's drafts (neither with her id nor with her key);
    # the doctor deletes them once restored.
    nurse = handover.actor
    assert drafts.list_for(desk.user_id("nurse"), nurse.draft_key) == []
    assert drafts.list_for(desk.user_id("doctor"), nurse.draft_key) == []
    assert not drafts.delete_key(desk.user_id("nurse"), kept[0].key)
    assert drafts.delete_key(desk.user_id("doctor"), kept[0].key)
    signouts = [a for a in desk.audit() if a[0] == "signout"]
    assert signouts == [("signout", doctor.user_id, desk.workstation)]


def test_signing_out_keeps_open_forms_and_ends_the_session(desk: Desk) -> None:
    services = desk.services
    actor = services.signin.sign_in(desk.users["receptionist"], PASSWORD).actor
    form = DraftToKeep(kind="patient.edit", title="Edit patient M0000001",
                       payload={"phone": "+1 555"}, key="edit-1")
    assert services.signin.sign_out([form, form]) == 2
    assert services.access.actor is None
    with pytest.raises(PermissionDenied, match="Nobody is signed in"):
        services.access.require("patient.search")
    kept = DraftStore(desk.backend.mongo_db).list_for(actor.user_id or 0, actor.draft_key)
    assert len(kept) == 1  # the same form saved twice is one draft
    assert kept[0].reason == "Kept when you signed out."


def test_each_session_keeps_its_own_idle_limit_and_listing_changes_nothing(
        desk: Desk) -> None:
    relaxed = desk.other_desk("desk-2", idle_lock=timedelta(minutes=30))
    nurse = relaxed.signin.sign_in(desk.users["nurse"], PASSWORD).actor
    desk.services.signin.sign_in(desk.users["admin"], PASSWORD)
    for _ in range(2):  # the admin is active; the nurse reads a chart for 12 minutes
        desk.clock.advance(minutes=6)
        assert desk.services.signin.heartbeat() == "active"
    # An administrator whose own workstation locks after 10 minutes sees the nurse's
    # session by the nurse's workstation's limit (30 minutes).
    listed = {s.session_id: s for s in desk.services.admin.list_sessions()}
    assert listed[nurse.session_id].state == "active"
    assert relaxed.access.require("chart.open") == nurse
    # Past her limit the list says locked, but listing never locks anyone itself.
    for _ in range(2):
        desk.clock.advance(minutes=10)
        assert desk.services.signin.heartbeat() == "active"
    listed = {s.session_id: s for s in desk.services.admin.list_sessions()}
    assert listed[nurse.session_id].state == "locked"
    with desk.owner.connect() as conn:
        raw = conn.execute(text("SELECT state FROM app_sessions WHERE id = :s"),
                           {"s": nurse.session_id}).scalar_one()
    assert raw == "active"


def test_a_lock_the_server_decides_is_audited_once(desk: Desk) -> None:
    services = desk.services
    actor = services.signin.sign_in(desk.users["doctor"], PASSWORD).actor
    desk.clock.advance(minutes=11, seconds=1)
    for _ in range(3):
        with pytest.raises(WorkstationLocked):
            services.access.require("patient.search")
    with desk.owner.connect() as conn:
        locks = conn.execute(text(
            "SELECT user_id, workstation, details->>'reason' FROM audit_events "
            "WHERE action = 'session.lock' AND object_id = :s"), {"s": actor.session_id}).all()
    assert [tuple(r) for r in locks] == [(actor.user_id, desk.workstation, "server")]


def test_an_account_without_a_role_is_refused_and_changes_nothing(desk: Desk) -> None:
    services = desk.services
    doctor = services.signin.sign_in(desk.users["doctor"], PASSWORD).actor
    services.signin.lock("idle")
    AccountService(desk.owner, hashing=FAST).add_user("noroles" + desk.workstation[-6:],
                                                      "No Role", PASSWORD, ["nurse"])
    with desk.owner.begin() as conn:
        conn.execute(text("DELETE FROM user_roles WHERE user_id = (SELECT id FROM users "
                          "WHERE username = :u)"), {"u": "noroles" + desk.workstation[-6:]})
    with pytest.raises(SignInFailed, match="no role"):
        services.signin.sign_in("noroles" + desk.workstation[-6:], PASSWORD)
    assert services.access.actor == doctor
    assert services.signin.unlock(PASSWORD) == doctor


def _unreachable_engine() -> Any:
    from backend_client.local_stack.process import free_port
    from backend_client.stores.postgres.engine import build_engine

    return build_engine(f"postgresql+psycopg://nobody:x@127.0.0.1:{free_port()}/none",
                        timeout_seconds=0.5)


def test_attempts_while_the_database_is_down_do_not_count_as_failures(desk: Desk) -> None:
    from backend_client.errors import Unavailable

    down = build_session_services(_unreachable_engine(), desk.backend.mongo_db,
                                  workstation=desk.workstation)
    for _ in range(8):
        with pytest.raises(Unavailable):
            down.signin.sign_in(desk.users["doctor"], PASSWORD)
    # Once the database is back the right password works at once.
    assert desk.services.signin.sign_in(desk.users["doctor"], PASSWORD).actor.username == \
        desk.users["doctor"]
