"""``dr-assistant-admin`` at a terminal: stored text cannot drive the terminal, a wrong
argument gets one sentence and status 2, and no argument gets a traceback.

Text with escape sequences is stored the way an attacker at a workstation (or an older
version, or a hand-edited row) would leave it, on the real servers; the CLI runs in this
process (``main``) or as a process where the terminal itself matters.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import date

import pytest
from sqlalchemy import text

from backend_client.accounts.access import SystemAccess
from backend_client.admin.cli import main as admin
from backend_client.admin.output import clean
from backend_client.audit.service import AuditService
from backend_client.backend import Backend
from backend_client.config import Settings
from backend_client.dto import PatientDraft
from backend_client.patients.service import PatientService
from tests.integration.conftest import signed_in

# Clear the screen, home the cursor, recolour, set the window title (ended by BEL), a
# carriage return that would overwrite the start of the line, an 8-bit CSI, DEL, and a
# right-to-left override that would show the rest of the line reversed.
ATTACK = "\x1b[2J\x1b[H\x1b[31mok\x1b]0;pwned\x07\rX\x9b1m\x7f\u202egnp.exe\u2066"
UNSAFE = ("\x1b", "\r", "\x07", "\x9b", "\x7f", "\u202e", "\u2066")


def assert_harmless(output: str) -> None:
    """Nothing a terminal would obey; every line prints as it reads."""
    for ch in UNSAFE:
        assert ch not in output, repr(ch)
    for line in output.splitlines():
        assert line.isprintable(), line


def env_for(settings: Settings) -> dict[str, str]:
    """The CLI's environment for the session's servers (as a clinic configures it)."""
    env = {}
    for key in ("postgres_url", "postgres_admin_url", "mongo_url", "mongo_database",
                "redis_url", "s3_endpoint_url", "s3_bucket", "s3_access_key_id", "s3_region"):
        value = getattr(settings, key)
        if value is not None:
            env[f"DRA_{key.upper()}"] = str(value)
    secret = settings.s3_secret_access_key
    if secret is not None:
        env["DRA_S3_SECRET_ACCESS_KEY"] = secret.get_secret_value()
    return env


@pytest.fixture
def cli_env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in env_for(settings).items():
        monkeypatch.setenv(key, value)


def run_process(settings: Settings, *argv: str | bytes,
                extra: dict[str, str] | None = None) -> subprocess.CompletedProcess[bytes]:
    """The CLI as a process with no terminal at all: stdin is /dev/null and it is in a
    session of its own, so it has no controlling terminal to open either."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DRA_")}
    env.update({"DRA_CONFIG_FILE": os.environ["DRA_CONFIG_FILE"],
                "DRA_DATA_DIR": os.environ["DRA_DATA_DIR"], "PYTHONIOENCODING": "utf-8"})
    env.update(env_for(settings))
    env.update(extra or {})
    return subprocess.run([sys.executable, "-m", "backend_client.admin.cli", *argv],
                          stdin=subprocess.DEVNULL, capture_output=True, env=env, timeout=120,
                          start_new_session=True, check=False)


# ------------------------------------------------------------------ the helper


def test_clean_shows_controls_as_escapes_and_keeps_every_script() -> None:
    assert clean(ATTACK) == ("\\x1b[2J\\x1b[H\\x1b[31mok\\x1b]0;pwned\\x07\\rX\\x9b1m\\x7f"
                             "\\u202egnp.exe\\u2066")
    assert clean("tab\there\nnew\u2028line \udcff") == "tab\\there\\nnew\\u2028line \\udcff"
    kept = "Anna Müller, Seán O'Brien, Иван Иванов, 王芳, Nguyễn Thị Lan, سارا, 👩‍⚕️"
    assert clean(kept) == kept
    assert clean(clean(ATTACK)) == clean(ATTACK)


# ------------------------------------------------------------------ stored text


@pytest.fixture
def nasty_user(backend: Backend) -> Iterator[tuple[int, str]]:
    """An account whose user name and display name carry escape sequences (written past
    the account service, which would refuse them), removed afterwards."""
    username = f"zz{uuid.uuid4().hex[:6]}\x1b[8m"
    with backend.owner_engine.begin() as conn:
        uid = int(conn.execute(text(
            "INSERT INTO users (username, display_name) VALUES (:u, :d) RETURNING id"),
            {"u": username, "d": "Dr " + ATTACK}).scalar_one())
        conn.execute(text("INSERT INTO user_roles (user_id, role_id) "
                          "SELECT :id, id FROM roles WHERE name = 'doctor'"), {"id": uid})
    yield uid, username
    with backend.owner_engine.begin() as conn:
        conn.execute(text("DELETE FROM users WHERE id = :id"), {"id": uid})


def test_break_glass_and_access_reports_show_stored_escapes_harmlessly(
        cli_env: None, backend: Backend, nasty_user: tuple[int, str],
        capsys: pytest.CaptureFixture[str]) -> None:
    uid, _ = nasty_user
    system = PatientService(backend.owner_engine, SystemAccess("ws-admin"))
    rec = system.register(PatientDraft(given_name="Glass", family_name=f"Zz{uuid.uuid4().hex}",
                                       birth_date=date(1944, 4, 4), sex="male"))
    # As the owner, which records what it is told: the workstation and reason as typed.
    audit = AuditService(backend.owner_engine)
    audit.record("chart.break_glass", user_id=uid, workstation="WS" + ATTACK[:60],
                 patient_id=rec.id, object_type="patient", object_id=str(rec.id),
                 details={"reason": "Emergency " + ATTACK, "session": "s"})
    audit.record("note.read", user_id=uid, workstation="WS" + ATTACK[:60], patient_id=rec.id,
                 object_type="note", object_id="n\x1b[1A\rX")

    assert admin(["audit", "break-glass", "--days", "1"]) == 0
    out = capsys.readouterr().out
    assert_harmless(out)
    line = next(li for li in out.splitlines() if f" {rec.id}  " in li)
    assert line.endswith("Emergency " + clean(ATTACK))
    assert "Dr \\x1b[2J" in line and "WS\\x1b[2J" in line

    assert admin(["audit", "report", "--patient", str(rec.id)]) == 0
    out = capsys.readouterr().out
    assert_harmless(out)
    assert "note n\\x1b[1A\\rX" in out
    assert out.splitlines()[-1] == "3 events"   # register, break the glass, read the note


def test_user_list_shows_stored_escapes_harmlessly(
        cli_env: None, nasty_user: tuple[int, str], capsys: pytest.CaptureFixture[str]) -> None:
    _, username = nasty_user
    assert admin(["user", "list"]) == 0
    out = capsys.readouterr().out
    assert_harmless(out)
    line = next(li for li in out.splitlines() if li.startswith(clean(username)))
    assert "Dr " + clean(ATTACK) in line and line.endswith("yes")


def test_session_list_and_revoke_show_stored_escapes_harmlessly(
        cli_env: None, backend: Backend, nasty_user: tuple[int, str],
        capsys: pytest.CaptureFixture[str]) -> None:
    uid, username = nasty_user
    access = signed_in(backend, backend.owner_engine, uid,
                       workstation="\x1b[2J\u202eWS-" + uuid.uuid4().hex[:6])
    actor = access.actor
    assert actor is not None
    assert admin(["session", "list"]) == 0
    out = capsys.readouterr().out
    assert_harmless(out)
    line = next(li for li in out.splitlines() if li.startswith(actor.session_id))
    assert clean(username) in line and "\\x1b[2J\\u202eWS-" in line

    assert admin(["session", "revoke", actor.session_id]) == 0
    out = capsys.readouterr().out
    assert_harmless(out)
    assert out.startswith(f"ended the session of {clean(username)} on \\x1b[2J\\u202eWS-")


# ------------------------------------------------------------------ arguments


@pytest.mark.parametrize(("argv", "expected"), [
    (["audit", "report", "--patient", "9223372036854775808"],
     "dr-assistant-admin audit report: --patient must be a patient id, a whole number from 1 "
     "to 9223372036854775807, not '9223372036854775808'"),
    (["audit", "report", "--patient", "99999999999999999999999999999999999"], "--patient must"),
    (["audit", "report", "--patient", "0"], "not '0'"),
    (["audit", "report", "--patient", "-3"], "not '-3'"),
    (["audit", "report", "--patient", "12.0"], "not '12.0'"),
    (["audit", "report", "--patient", "１２"], "--patient must"),
    (["audit", "report", "--patient", ""], "not ''"),
    (["audit", "report", "--patient", "\x1b[2J7"], "not '\\x1b[2J7'"),
    (["audit", "break-glass", "--days", "0"],
     "dr-assistant-admin audit break-glass: --days must be a number of days, a whole number "
     "from 1 to 36500, not '0'"),
    (["audit", "break-glass", "--days", "36501"], "not '36501'"),
    (["audit", "break-glass", "--days", "1e3"], "not '1e3'"),
    (["audit", "break-glass", "--days", "nan"], "not 'nan'"),
    (["audit", "report"], "the following arguments are required: --patient"),
])
def test_a_wrong_number_gets_one_sentence_and_status_2(
        argv: list[str], expected: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        admin(argv)
    assert done.value.code == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and expected in err
    assert_harmless(err)


def test_the_largest_patient_id_is_asked_of_the_database(
        cli_env: None, capsys: pytest.CaptureFixture[str]) -> None:
    assert admin(["audit", "report", "--patient", "9223372036854775807"]) == 0
    assert capsys.readouterr().out == "no audit events for patient 9223372036854775807\n"


def test_past_bigint_as_a_process_exits_2_without_a_traceback(settings: Settings) -> None:
    done = run_process(settings, "audit", "report", "--patient", "9223372036854775808")
    assert done.returncode == 2
    assert done.stdout == b""
    assert done.stderr.decode().startswith(
        "dr-assistant-admin audit report: --patient must be a patient id")
    assert done.stderr.count(b"\n") == 1 and b"Traceback" not in done.stderr


@pytest.mark.parametrize("command", ["add", "passwd"])
def test_asking_for_a_password_without_a_terminal_says_so(
        settings: Settings, backend: Backend, command: str) -> None:
    name = f"zz{uuid.uuid4().hex[:8]}"
    argv = ["user", command, name] + (["--name", "No Tty", "--role", "nurse"]
                                      if command == "add" else [])
    done = run_process(settings, *argv)
    assert done.returncode == 2
    assert done.stderr.decode() == (
        f"dr-assistant-admin user {command}: there is no terminal to ask for the password "
        "on: give it as one line on standard input with --password-stdin; nothing changed.\n")
    assert done.stdout == b""
    with backend.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM users WHERE username = :u"),
                            {"u": name}).scalar_one() == 0


def test_an_argument_that_is_not_text_gets_one_sentence(settings: Settings) -> None:
    done = run_process(settings, "user", "disable", b"\xff\x1b[2Jroot")
    assert done.returncode == 2 and done.stdout == b""
    err = done.stderr.decode()
    assert err == ("dr-assistant-admin user disable: username must be a user name in UTF-8 "
                   "text, not '\\udcff\\x1b[2Jroot'; see 'dr-assistant-admin user disable "
                   "--help'.\n")


def test_an_unknown_account_and_session_with_escapes_are_refused_harmlessly(
        cli_env: None, capsys: pytest.CaptureFixture[str]) -> None:
    assert admin(["user", "disable", "zz\x1b[2J"]) == 1
    assert admin(["session", "revoke", "\x1b[2J\u202e"]) == 1
    assert admin(["session", "revoke", "--user", "zz\x1b[2J"]) == 1
    out, err = capsys.readouterr()
    assert_harmless(out + err)
    assert "There is no account with that username." in err
    assert "There is no such session" in out and "There is no account" in out


def test_a_database_that_cannot_be_reached_gets_one_sentence(settings: Settings) -> None:
    dead = "postgresql://nobody:pw@127.0.0.1:9/none"
    for argv in (["audit", "verify"], ["user", "list"], ["session", "revoke", "--user", "x"]):
        done = run_process(settings, *argv, extra={
            "DRA_POSTGRES_URL": dead, "DRA_POSTGRES_ADMIN_URL": dead,
            "DRA_STORE_TIMEOUT_SECONDS": "1"})
        err = done.stderr.decode()
        assert done.returncode in (1, 2), err
        assert "Traceback" not in err and err.count("\n") == 1, err
        assert "The clinic database (PostgreSQL at 127.0.0.1:9) cannot be used: connection " \
            "refused" in err, err
