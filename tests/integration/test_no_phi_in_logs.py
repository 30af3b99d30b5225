"""No patient data reaches any log: the app's, PostgreSQL's, MongoDB's or Redis's.

Distinctive made-up names, phone numbers and e-mail addresses go through every patient path,
including the ones that fail (validation, duplicates, a unique-key violation inside the
database, a conflict), with every Python logger at DEBUG; then every log is searched, for
those and for the local stack's passwords."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from backend_client.accounts.access import SystemAccess
from backend_client.backend import open_backend
from backend_client.config import load_settings
from backend_client.dto import Identifier, PatientDraft
from backend_client.errors import Conflict, PossibleDuplicate, ValidationError
from backend_client.local_stack import LocalStack
from backend_client.local_stack.stack import SECRET_NAMES
from backend_client.patients.service import PatientService
from backend_client.schema import migrate

SECRETS = ["Quibblewort", "Zantheriel", "Vexmoraine", "0301234987", "zan.q@example.org",
           "X9Q7Z5", "Glimmerfen", "gentle ochre walrus 95", "wrong ochre walrus 95"]


@pytest.fixture
def logs(tmp_path: Path) -> Iterator[tuple[Path, Path]]:
    stack = LocalStack(tmp_path / "data")
    app_log = tmp_path / "app.log"
    handler = logging.FileHandler(app_log, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    # As an administrator chasing a problem would: SQL logging on as well.
    sql = logging.getLogger("sqlalchemy.engine")
    sql.setLevel(logging.INFO)
    try:
        yield tmp_path / "data", app_log
    finally:
        sql.setLevel(logging.NOTSET)
        root.removeHandler(handler)
        root.setLevel(old_level)
        handler.close()
        stack.stop()


def test_patient_data_never_reaches_a_log(logs: tuple[Path, Path]) -> None:
    data_dir, app_log = logs
    backend = open_backend(load_settings(data_dir=data_dir))
    session_secrets: dict[str, str] = {}
    try:
        migrate(backend)
        service = PatientService(backend.owner_engine, SystemAccess("ws-1"))
        draft = PatientDraft(given_name="Zantheriel", family_name="Quibblewort",
                             birth_date=date(1977, 7, 7), sex="female", phone="0301234987",
                             email="zan.q@example.org",
                             identifiers=(Identifier("MRN", "X9Q7Z5"),))
        rec = service.register(draft)
        service.search("quibblewort zantheriel")
        service.search("Quiblewort")
        service.search("0301234987")
        service.get(rec.id)
        with pytest.raises(PossibleDuplicate):
            service.register(draft)
        with pytest.raises(ValidationError):  # the MRN's unique index, inside PostgreSQL
            service.register(replace(draft, family_name="Vexmoraine"), allow_duplicates=True)
        with pytest.raises(ValidationError):
            service.register(replace(draft, email="Vexmoraine@@nowhere"))
        service.update(rec.id, rec.version, replace(rec.draft, family_name="Vexmoraine"))
        with pytest.raises(Conflict):
            service.update(rec.id, rec.version, rec.draft)
        # Signing in (a wrong password too), breaking the glass with a reason that names
        # someone, and a form kept as a draft at sign-out.
        from backend_client.accounts.service import AccountService
        from backend_client.accounts.signin import build_session_services
        from backend_client.dto import DraftToKeep
        from backend_client.errors import SignInFailed

        AccountService(backend.owner_engine).add_user("nurse1", "Nurse One",
                                                      "gentle ochre walrus 95", ["nurse"])
        desk = build_session_services(backend.engine, backend.mongo_db, workstation="ws-1")
        with pytest.raises(SignInFailed):
            desk.signin.sign_in("nurse1", "wrong ochre walrus 95")
        nurse = desk.signin.sign_in("nurse1", "gentle ochre walrus 95").actor
        # The session's bearer token and the keys derived from the password are secrets
        # too: no log may show them.
        session_secrets = {"session token": nurse.token,
                           "draft key": nurse.draft_key.hex(),
                           "client key": desk.sessions.keys_for(
                               "nurse1", "gentle ochre walrus 95").client_key.hex()}
        service.set_restricted(rec.id, True)
        PatientService(backend.engine, desk.access).get(
            rec.id, break_glass_reason="Glimmerfen asked me to check on Vexmoraine")
        desk.signin.lock("idle")
        desk.signin.unlock("gentle ochre walrus 95")
        desk.signin.sign_out([DraftToKeep("patient.register", "New patient (Glimmerfen)",
                                          {"form": {"family_name": "Glimmerfen"}})])
    finally:
        backend.close(stop_stack=True)

    files = [app_log, *sorted((data_dir / "logs").glob("*"))]
    assert {f.name for f in files} >= {"app.log", "postgres.log", "mongod.log", "redis.log"}
    assert app_log.stat().st_size > 0  # the loggers did write (DEBUG from the libraries)
    # Nor do the stack's passwords: the owner's, the app login's (set at every start, with
    # SQL logging on here) and Redis's.
    passwords = json.loads((data_dir / "stack" / "secrets.json").read_text())
    assert set(passwords) == set(SECRET_NAMES)
    for path in files:
        text = path.read_text(errors="replace")
        found = [s for s in SECRETS if s.lower() in text.lower()]
        assert found == [], f"{path.name} contains {found}"
        leaked = [name for name, pw in passwords.items() if pw in text]
        assert leaked == [], f"{path.name} contains the {leaked} password"
        shown = [name for name, value in session_secrets.items() if value in text]
        assert shown == [], f"{path.name} contains the {shown}"
