"""An administrator at a terminal: list sessions, end one or all of a person's, disable an
account (its sessions end too), and review charts opened by breaking the glass."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import date

import pytest

from backend_client.accounts.service import AccountService
from backend_client.accounts.signin import SessionServices, build_session_services
from backend_client.admin.cli import main as admin
from backend_client.backend import Backend
from backend_client.config import Settings
from backend_client.dto import PatientDraft
from backend_client.patients.service import PatientService
from tests.integration.conftest import FAST

PASSWORD = "amber window seventeen"


@pytest.fixture
def cli_env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    for key in ("postgres_url", "postgres_admin_url", "mongo_url", "mongo_admin_url",
                "mongo_database", "redis_url", "s3_endpoint_url", "s3_bucket",
                "s3_access_key_id", "s3_region"):
        value = getattr(settings, key)
        if value is not None:
            monkeypatch.setenv(f"DRA_{key.upper()}", str(value))
    secret = settings.s3_secret_access_key
    if secret is not None:
        monkeypatch.setenv("DRA_S3_SECRET_ACCESS_KEY", secret.get_secret_value())


@pytest.fixture
def doctor(backend: Backend) -> Iterator[tuple[str, SessionServices]]:
    name = f"dr{uuid.uuid4().hex[:8]}"
    AccountService(backend.owner_engine, hashing=FAST).add_user(name, "Dr Cli Test", PASSWORD,
                                                                ["doctor"])
    desk = build_session_services(backend.engine, backend.mongo_db, workstation=f"WS-{name}")
    desk.signin.sign_in(name, PASSWORD)
    yield name, desk


def test_session_list_and_revoke(cli_env: None, doctor: tuple[str, SessionServices],
                                 capsys: pytest.CaptureFixture[str]) -> None:
    name, desk = doctor
    actor = desk.access.actor
    assert actor is not None
    assert admin(["session", "list"]) == 0
    out = capsys.readouterr().out
    line = next(li for li in out.splitlines() if li.startswith(actor.session_id))
    assert name in line and f"WS-{name}" in line and line.endswith("active")
    assert PASSWORD not in out

    assert admin(["session", "revoke", actor.session_id]) == 0
    assert f"ended the session of {name} on WS-{name}" in capsys.readouterr().out
    assert desk.signin.state() == "revoked"
    assert admin(["session", "revoke", "no-such-session"]) == 1
    assert "There is no such session" in capsys.readouterr().out


def test_disabling_an_account_ends_its_sessions(cli_env: None,
                                               doctor: tuple[str, SessionServices],
                                               capsys: pytest.CaptureFixture[str]) -> None:
    name, desk = doctor
    assert admin(["user", "disable", name]) == 0
    assert capsys.readouterr().out.strip() == f"disabled {name}; ended 1 open session"
    assert desk.signin.state() == "revoked"


def test_break_glass_report_lists_who_why_and_which_patient(
        cli_env: None, doctor: tuple[str, SessionServices], backend: Backend,
        capsys: pytest.CaptureFixture[str]) -> None:
    from backend_client.accounts.access import SystemAccess

    _, desk = doctor
    system = PatientService(backend.owner_engine, SystemAccess("ws-admin"))
    rec = system.register(PatientDraft(given_name="Glass", family_name=f"Br{uuid.uuid4().hex[:6]}",
                                       birth_date=date(1970, 1, 1), sex="male"))
    system.set_restricted(rec.id, True)
    PatientService(backend.engine, desk.access).get(
        rec.id, break_glass_reason="Covering for a colleague's patient: night call")
    assert admin(["audit", "break-glass", "--days", "1"]) == 0
    out = capsys.readouterr().out
    line = next(li for li in out.splitlines() if f" {rec.id}  " in li)
    assert "Dr Cli Test" in line and "Covering for a colleague's patient: night call" in line
    assert rec.draft.family_name not in out  # ids, not names
