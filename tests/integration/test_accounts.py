"""Accounts against real PostgreSQL: add, list, passwords, disable, sign-in, and the CLI."""

from __future__ import annotations

import argparse
import io
import sys
import uuid
from collections.abc import Iterator

import pytest
from argon2 import PasswordHasher
from sqlalchemy import Connection, Engine, delete, select

from backend_client.accounts.passwords import PasswordHashing
from backend_client.accounts.service import (
    DEMO_ACCOUNTS,
    AccountService,
    UserSummary,
    ensure_demo_accounts,
)
from backend_client.accounts.sessions import SessionStore
from backend_client.admin.users_cmd import add_user_parser, run_user_command
from backend_client.backend import Backend
from backend_client.config import Settings
from backend_client.dto import Actor
from backend_client.errors import NotFound, ValidationError
from backend_client.stores.postgres.models import User

PW = "amber tulips near the quay"
PW2 = "seven herons over the marsh"


@pytest.fixture
def accounts(db: Connection) -> AccountService:
    return AccountService(db)


def stored_hash(db: Connection, username: str) -> str:
    """What the database keeps of the password: argon2 parameters and the stored key."""
    row = db.execute(select(User.auth_params, User.auth_salt, User.auth_key)
                     .where(User.username == username)).one()
    assert row.auth_key is not None
    return f"{row.auth_params}${bytes(row.auth_salt).hex()}${bytes(row.auth_key).hex()}"


def authenticate(bind: Engine | Connection, username: str, password: str) -> Actor | None:
    """A real sign-in through the database (the session is ended again)."""
    store = SessionStore(bind)
    outcome = store.sign_in(username, store.keys_for(username, password), "ws-accounts")
    if outcome.actor is None:
        return None
    store.end(outcome.actor.token, "test")
    return outcome.actor


def test_add_then_list_shows_the_account_with_its_roles(accounts: AccountService,
                                                        db: Connection) -> None:
    added = accounts.add_user("JSmith", "Dr Jane Smith", PW, ["doctor", "admin"],
                              email="jane@clinic.example")
    assert added == UserSummary(added.id, "jsmith", "Dr Jane Smith", "jane@clinic.example",
                                ("admin", "doctor"), True)
    assert added in accounts.list_users()
    assert stored_hash(db, "jsmith").startswith("argon2id$v=19$")
    assert PW not in stored_hash(db, "jsmith") and PW.encode().hex() not in stored_hash(
        db, "jsmith")


def test_authenticate_accepts_the_password_and_nothing_else(accounts: AccountService) -> None:
    accounts.add_user("nurse.joy", "Joy Nurse", PW, ["nurse"])
    ok = authenticate(accounts.engine, "Nurse.Joy", PW)
    assert ok is not None and ok.username == "nurse.joy" and ok.roles == ("nurse",)
    assert authenticate(accounts.engine, "nurse.joy", PW2) is None
    assert authenticate(accounts.engine, "nobody-here", PW) is None
    assert authenticate(accounts.engine, "", "") is None


def test_set_password_replaces_the_old_one(accounts: AccountService, db: Connection) -> None:
    accounts.add_user("rec1", "Front Desk", PW, ["receptionist"])
    before = stored_hash(db, "rec1")
    accounts.set_password("rec1", PW2)
    assert stored_hash(db, "rec1") != before
    assert authenticate(accounts.engine, "rec1", PW) is None
    assert authenticate(accounts.engine, "rec1", PW2) is not None


def test_set_password_applies_the_policy_and_needs_an_existing_account(
        accounts: AccountService) -> None:
    accounts.add_user("rec2", "Front Desk", PW, ["receptionist"])
    with pytest.raises(ValidationError) as err:
        accounts.set_password("rec2", "password1234")
    assert err.value.field == "password"
    with pytest.raises(ValidationError):
        accounts.set_password("rec2", "my rec2 password")  # contains the username
    with pytest.raises(NotFound):
        accounts.set_password("ghost", PW2)


def test_a_disabled_account_cannot_sign_in_until_enabled(accounts: AccountService) -> None:
    accounts.add_user("locum", "Dr Locum", PW, ["doctor"])
    assert accounts.disable("locum").is_active is False
    assert authenticate(accounts.engine, "locum", PW) is None
    assert [u.is_active for u in accounts.list_users() if u.username == "locum"] == [False]
    assert accounts.enable("locum").is_active is True
    assert authenticate(accounts.engine, "locum", PW) is not None
    with pytest.raises(NotFound):
        accounts.disable("ghost")


def test_unknown_role_is_a_validation_error_on_roles(accounts: AccountService) -> None:
    with pytest.raises(ValidationError) as err:
        accounts.add_user("someone", "Some One", PW, ["surgeon"])
    assert "roles" in err.value.errors
    assert "surgeon" in err.value.errors["roles"]
    with pytest.raises(ValidationError) as err:
        accounts.add_user("someone", "Some One", PW, [])
    assert "roles" in err.value.errors
    assert "someone" not in {u.username for u in accounts.list_users()}


def test_duplicate_username_is_a_validation_error_on_username(accounts: AccountService) -> None:
    accounts.add_user("twin", "First Twin", PW, ["nurse"])
    with pytest.raises(ValidationError) as err:
        accounts.add_user("TWIN", "Second Twin", PW2, ["nurse"])
    assert err.value.field == "username"


def test_bad_fields_are_reported_together(accounts: AccountService) -> None:
    with pytest.raises(ValidationError) as err:
        accounts.add_user("x", "", "tiny", ["doctor"], email="not-an-address")
    assert set(err.value.errors) == {"username", "display_name", "email", "password"}
    for bad in ("has space", "ünï", "a" * 65, "semi;colon"):
        with pytest.raises(ValidationError) as err:
            accounts.add_user(bad, "Name", PW, ["doctor"])
        assert err.value.field == "username"


def test_each_account_is_checked_with_its_own_argon2_costs(db: Connection) -> None:
    weak = AccountService(db, hashing=PasswordHashing(
        PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1)))
    weak.add_user("oldcosts", "Old Costs", PW, ["doctor"])
    assert stored_hash(db, "oldcosts").startswith("argon2id$v=19$m=8192,t=1,p=1$32$")
    assert authenticate(db, "oldcosts", PW2) is None
    assert authenticate(db, "oldcosts", PW) is not None
    # A new password gets today's costs.
    AccountService(db).set_password("oldcosts", PW2)
    assert stored_hash(db, "oldcosts").startswith("argon2id$v=19$m=65536,t=3,p=4$32$")
    assert authenticate(db, "oldcosts", PW2) is not None


def test_demo_accounts_one_per_role_created_once(accounts: AccountService, db: Connection) -> None:
    created = ensure_demo_accounts(db)
    assert sorted(r for _, r, _ in created) == ["admin", "doctor", "nurse", "receptionist",
                                                "transcriptionist"]
    for username, role, password in created:
        user = authenticate(accounts.engine, username, password)
        assert user is not None and user.roles == (role,)
    assert ensure_demo_accounts(db) == []
    assert len(DEMO_ACCOUNTS) == 5


# ---------------------------------------------------------------------- CLI


@pytest.fixture
def cli(backend: Backend, settings: Settings) -> Iterator[tuple[argparse.ArgumentParser, str]]:
    """The CLI commits for real into the session's database: a fresh username, removed after."""
    parser = argparse.ArgumentParser(prog="dr-assistant-admin")
    add_user_parser(parser.add_subparsers(dest="command", required=True))
    name = f"cli-{uuid.uuid4().hex[:12]}"
    yield parser, name
    with backend.owner_engine.begin() as conn:
        conn.execute(delete(User).where(User.username == name))


def run(parser: argparse.ArgumentParser, settings: Settings, argv: list[str],
        monkeypatch: pytest.MonkeyPatch, stdin: str = "") -> int:
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    return run_user_command(parser.parse_args(argv), settings)


def test_cli_add_passwd_disable_enable_list(cli: tuple[argparse.ArgumentParser, str],
                                            settings: Settings, backend: Backend,
                                            monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    parser, name = cli
    accounts = AccountService(backend.engine)
    assert run(parser, settings, ["user", "add", name, "--name", "Dr CLI", "--role", "doctor",
                                  "--role", "admin", "--password-stdin"],
               monkeypatch, PW + "\n") == 0
    assert authenticate(accounts.engine, name, PW) is not None

    assert run(parser, settings, ["user", "passwd", name, "--password-stdin"],
               monkeypatch, PW2 + "\r\n") == 0
    assert authenticate(accounts.engine, name, PW) is None
    assert authenticate(accounts.engine, name, PW2) is not None

    assert run(parser, settings, ["user", "disable", name], monkeypatch) == 0
    assert authenticate(accounts.engine, name, PW2) is None
    capsys.readouterr()
    assert run(parser, settings, ["user", "list"], monkeypatch) == 0
    out = capsys.readouterr().out
    line = next(ln for ln in out.splitlines() if ln.startswith(name))
    assert "Dr CLI" in line and "admin,doctor" in line and line.endswith("no")
    assert "USERNAME" in out and "argon2" not in out

    assert run(parser, settings, ["user", "enable", name], monkeypatch) == 0
    assert authenticate(accounts.engine, name, PW2) is not None
    out, err = capsys.readouterr()
    assert PW not in out + err and PW2 not in out + err


def test_cli_refuses_a_weak_password_and_an_unknown_account(
        cli: tuple[argparse.ArgumentParser, str], settings: Settings,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    parser, name = cli
    assert run(parser, settings, ["user", "add", name, "--name", "N", "--role", "nurse",
                                  "--password-stdin"], monkeypatch, "password1234\n") == 1
    err = capsys.readouterr().err
    assert "common or breached" in err and "password1234" not in err
    assert run(parser, settings, ["user", "disable", name], monkeypatch) == 1
    assert "no account" in capsys.readouterr().err


def test_cli_prompts_twice_and_stops_when_they_differ(
        cli: tuple[argparse.ArgumentParser, str], settings: Settings,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    parser, name = cli
    answers = iter([PW, PW2])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    assert run_user_command(parser.parse_args(
        ["user", "add", name, "--name", "N", "--role", "nurse"]), settings) == 1
    assert "differ" in capsys.readouterr().err
