"""An administrator sets up the schedule's directory from a terminal: providers, the account
each one is, their weekly hours and breaks, appointment types. Each change is audited, each
bad value gets one sentence, and the desks' cached lists show the change at once."""

from __future__ import annotations

import re
import uuid

import pytest
from sqlalchemy import text

from backend_client.admin.cli import main as admin
from backend_client.backend import Backend
from backend_client.config import Settings
from backend_client.scheduling.service import SchedulingService
from backend_client.sync.cache import SealedCache
from tests.integration.conftest import add_user, signed_in
from tests.integration.test_scheduling import TZ


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


Run = tuple[int, str, str]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> Run:
    try:
        status = admin(list(argv))
    except SystemExit as exc:  # argparse refuses an argument by exiting, as at a terminal
        status = int(exc.code or 0)
    out = capsys.readouterr()
    return status, out.out, out.err


def added_provider(capsys: pytest.CaptureFixture[str], family: str, *extra: str) -> int:
    status, out, err = run(capsys, "provider", "add", "--title", "Dr", "--given", "Anna",
                           "--family", family, "--specialty", "Family medicine", *extra)
    assert status == 0, err
    m = re.search(r"added provider (\d+): Dr Anna " + family, out)
    assert m, out
    return int(m.group(1))


def listed(capsys: pytest.CaptureFixture[str], pid: int) -> str:
    status, out, _ = run(capsys, "provider", "list")
    assert status == 0
    return next(li for li in out.splitlines() if li.split()[0] == str(pid))


def audit_actions(backend: Backend, object_type: str, object_id: int) -> list[tuple[str, str]]:
    with backend.owner_engine.connect() as conn:
        return [(r.action, r.workstation) for r in conn.execute(text(
            "SELECT action, workstation FROM audit_events WHERE object_type = :t "
            "AND object_id = :i ORDER BY id"), {"t": object_type, "i": str(object_id)})]


def test_a_provider_is_added_linked_given_hours_and_breaks_and_deactivated(
        cli_env: None, backend: Backend, capsys: pytest.CaptureFixture[str]) -> None:
    family = f"Demo{uuid.uuid4().hex[:6]}"
    user = f"u{uuid.uuid4().hex[:8]}"
    add_user(backend.owner_engine, ("doctor",), username=user)
    pid = added_provider(capsys, family)
    line = listed(capsys, pid)
    assert f"Dr Anna {family} - Family medicine - no account - active - no working hours" in line

    assert run(capsys, "provider", "link", str(pid), "--user", user)[0] == 0
    assert run(capsys, "provider", "hours", str(pid), "--weekday", "mon", "--from", "09:00",
               "--to", "12:00", "--from2", "13:00", "--to2", "17:00")[0] == 0
    assert run(capsys, "provider", "hours", str(pid), "--weekday", "tue", "--from", "08:00",
               "--to", "16:00")[0] == 0
    status, out, _ = run(capsys, "provider", "break", str(pid), "--weekday", "tue",
                         "--from", "12:30", "--to", "13:00")
    assert status == 0 and "has a break on Tuesdays 12:30-13:00" in out
    line = listed(capsys, pid)
    assert (f"account {user} - active - Mon 09:00-12:00 13:00-17:00; "
            "Tue 08:00-16:00 (break 12:30-13:00)") in line

    # Replacing Monday's hours replaces them; a day off takes its breaks with it.
    assert run(capsys, "provider", "hours", str(pid), "--weekday", "mon", "--from", "10:00",
               "--to", "14:00")[0] == 0
    status, out, _ = run(capsys, "provider", "hours", str(pid), "--weekday", "tue", "--off")
    assert status == 0 and "does not work on Tuesdays; removed 1 break" in out
    assert run(capsys, "provider", "break", str(pid), "--weekday", "mon", "--from", "12:00",
               "--to", "12:30")[0] == 0
    status, out, _ = run(capsys, "provider", "break", str(pid), "--weekday", "mon", "--clear")
    assert status == 0 and "removed 1 break on Mondays" in out
    assert listed(capsys, pid).endswith(f"account {user} - active - Mon 10:00-14:00")

    assert run(capsys, "provider", "unlink", str(pid))[0] == 0
    status, out, _ = run(capsys, "provider", "deactivate", str(pid))
    assert status == 0 and "no longer bookable" in out
    assert " - no account - inactive - Mon 10:00-14:00" in listed(capsys, pid)
    assert run(capsys, "provider", "activate", str(pid))[0] == 0
    assert " - no account - active - " in listed(capsys, pid)

    assert audit_actions(backend, "providers", pid) == [
        (a, "admin-cli") for a in (
            "provider.add", "provider.link", "provider.hours", "provider.hours",
            "provider.break", "provider.hours", "provider.hours", "provider.break",
            "provider.break", "provider.unlink", "provider.deactivate", "provider.activate")]


def test_one_account_is_one_provider(cli_env: None, backend: Backend,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    user = f"u{uuid.uuid4().hex[:8]}"
    add_user(backend.owner_engine, ("doctor",), username=user)
    first = added_provider(capsys, f"One{uuid.uuid4().hex[:6]}", "--user", user)
    second = added_provider(capsys, f"Two{uuid.uuid4().hex[:6]}")
    status, out, err = run(capsys, "provider", "link", str(second), "--user", user)
    assert status == 1 and out == ""
    assert err.strip() == (f"dr-assistant-admin provider link: the account '{user}' is "
                           f"already provider {first}; one account is one provider "
                           f"('provider unlink {first}' first).")
    status, _, err = run(capsys, "provider", "add", "--given", "B", "--family", "C",
                         "--specialty", "X", "--user", user)
    assert status == 1 and f"already provider {first}" in err
    assert f"account {user}" in listed(capsys, first)
    assert "no account" in listed(capsys, second)


@pytest.mark.parametrize(("argv", "sentence"), [
    (["provider", "hours", "1", "--weekday", "monday", "--from", "9:00", "--to", "8:00"],
     "dr-assistant-admin provider hours: --to must be after --from"),
    (["provider", "hours", "1", "--weekday", "mo", "--from", "9:00", "--to", "10:00"],
     "dr-assistant-admin provider hours: --weekday must be a weekday: mon, tue, wed, thu, "
     "fri, sat or sun, not 'mo'"),
    (["provider", "hours", "1", "--weekday", "mon", "--from", "9am", "--to", "10:00"],
     "dr-assistant-admin provider hours: --from must be a time of day as HH:MM on the "
     "24-hour clock (such as 09:00 or 17:30), not '9am'"),
    (["provider", "hours", "1", "--weekday", "mon", "--from", "09:00", "--to", "24:00"],
     "--to must be a time of day as HH:MM"),
    (["provider", "hours", "1", "--weekday", "mon", "--from", "09:00", "--to", "12:00",
      "--from2", "11:00", "--to2", "15:00"],
     "--from2 must not be before --to"),
    (["provider", "hours", "1", "--weekday", "mon", "--from", "09:00", "--to", "12:00",
      "--from2", "13:00"], "give --from2 and --to2 together"),
    (["provider", "hours", "1", "--weekday", "sat", "--off", "--from", "09:00"],
     "--off means no hours that day"),
    (["provider", "hours", "1", "--weekday", "sat"], "give --from and --to (or --off"),
    (["provider", "break", "1", "--weekday", "mon", "--from", "13:00", "--to", "12:30"],
     "dr-assistant-admin provider break: --to must be after --from"),
    (["provider", "break", "1", "--weekday", "mon", "--clear", "--to", "12:30"],
     "--clear removes that weekday's breaks"),
    (["provider", "link", "x1", "--user", "a"], "id must be an id, a whole number"),
    (["provider", "add", "--given", " ", "--family", "F", "--specialty", "S"],
     "--given must be a given name: some text without control characters"),
    (["provider", "add", "--title", "\x1b[2J", "--given", "G", "--family", "F",
      "--specialty", "S"], "--title must be a title: some text without control characters"),
    (["appointment-type", "add", "--name", "N", "--minutes", "4"],
     "--minutes must be a number of minutes, a whole number from 5 to 480, not '4'"),
    (["appointment-type", "add", "--name", "N", "--minutes", "481"], "from 5 to 480"),
    (["appointment-type", "add", "--name", "N", "--minutes", "15", "--colour", "#12345g"],
     "--colour must be a colour as #rrggbb (such as #1976d2), not '#12345g'"),
    (["appointment-type", "set", "1"],
     "dr-assistant-admin appointment-type set: give at least one of --name, --minutes or "
     "--colour"),
])
def test_bad_arguments_get_one_sentence_and_status_2(
        argv: list[str], sentence: str, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(capsys, *argv)
    assert status == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and sentence in err, err


def test_refusals_from_the_database_get_one_sentence_and_status_1(
        cli_env: None, backend: Backend, capsys: pytest.CaptureFixture[str]) -> None:
    pid = added_provider(capsys, f"Ref{uuid.uuid4().hex[:6]}")
    prog = "dr-assistant-admin provider"
    cases = [
        (["provider", "link", "999999999", "--user", "nobody"],
         f"{prog} link: there is no provider 999999999; 'provider list' shows them."),
        (["provider", "link", str(pid), "--user", "no-such-user-x"],
         f"{prog} link: there is no account 'no-such-user-x' for --user; "
         "'user list' shows them."),
        (["provider", "break", str(pid), "--weekday", "wed", "--from", "12:00", "--to", "13:00"],
         f"{prog} break: provider {pid} has no hours on Wednesdays, so a break --from --to "
         "has nothing to be part of; set the hours first ('provider hours')."),
    ]
    for argv, sentence in cases:
        status, out, err = run(capsys, *argv)
        assert (status, out, err.strip()) == (1, "", sentence)

    assert run(capsys, "provider", "hours", str(pid), "--weekday", "wed", "--from", "09:00",
               "--to", "12:00", "--from2", "13:00", "--to2", "17:00")[0] == 0
    status, _, err = run(capsys, "provider", "break", str(pid), "--weekday", "wed",
                         "--from", "11:30", "--to", "13:30")
    assert status == 1 and err.strip() == (
        f"{prog} break: the break 11:30-13:30 (--from, --to) is outside provider {pid}'s "
        "hours on Wednesdays (09:00-12:00, 13:00-17:00); a break lies within them.")
    assert run(capsys, "provider", "break", str(pid), "--weekday", "wed", "--from", "10:00",
               "--to", "10:30")[0] == 0
    status, _, err = run(capsys, "provider", "break", str(pid), "--weekday", "wed",
                         "--from", "10:15", "--to", "10:45")
    assert status == 1 and "overlaps the break 10:00-10:30 on Wednesdays" in err
    status, _, err = run(capsys, "provider", "hours", str(pid), "--weekday", "wed",
                         "--from", "13:00", "--to", "17:00")
    assert status == 1 and err.strip() == (
        f"{prog} hours: the break 10:00-10:30 on Wednesday would be outside the new hours; "
        f"clear it first ('provider break {pid} --weekday wed --clear'). Nothing changed.")
    assert "Wed 09:00-12:00 13:00-17:00 (break 10:00-10:30)" in listed(capsys, pid)
    # Nothing refused was audited.
    assert [a for a, _ in audit_actions(backend, "providers", pid)] == [
        "provider.add", "provider.hours", "provider.break"]


def test_appointment_types_are_added_changed_and_audited(
        cli_env: None, backend: Backend, capsys: pytest.CaptureFixture[str]) -> None:
    name = f"Follow-up {uuid.uuid4().hex[:6]}"
    status, out, err = run(capsys, "appointment-type", "add", "--name", name, "--minutes",
                           "20", "--colour", "#1976D2")
    assert status == 0, err
    m = re.fullmatch(rf"added appointment type (\d+): {name}, 20 min, #1976d2\n", out)
    assert m, out
    tid = int(m.group(1))
    status, out, _ = run(capsys, "appointment-type", "set", str(tid), "--minutes", "30")
    assert status == 0 and out == f"appointment type {tid}: {name}, 30 min, #1976d2\n"
    status, out, _ = run(capsys, "appointment-type", "list")
    assert status == 0
    assert re.search(rf"^\s*{tid}  {re.escape(name)}\s+30 min  #1976d2$", out, re.M), out

    status, _, err = run(capsys, "appointment-type", "add", "--name", name.upper(),
                         "--minutes", "10")
    assert status == 1 and err.strip() == (
        f"dr-assistant-admin appointment-type add: there is already an appointment type "
        f"named '{name.upper()}' (id {tid}); --name must be new.")
    status, _, err = run(capsys, "appointment-type", "set", "32000", "--minutes", "10")
    assert status == 1 and "there is no appointment type 32000" in err
    assert audit_actions(backend, "appointment_types", tid) == [
        ("appointment_type.add", "admin-cli"), ("appointment_type.set", "admin-cli")]


def test_the_desks_cached_lists_show_each_change_at_once(
        cli_env: None, backend: Backend, capsys: pytest.CaptureFixture[str]) -> None:
    owner = backend.owner_engine
    desk = add_user(owner, ("receptionist",), display_name="Desk Cache")
    access = signed_in(backend, owner, desk, workstation=f"DESK-{uuid.uuid4().hex[:6]}")
    service = SchedulingService(backend.engine, access, cache=SealedCache(backend.redis), tz=TZ)
    service.providers()  # read once: the list is in the cache now
    service.appointment_types()

    pid = added_provider(capsys, f"Cache{uuid.uuid4().hex[:6]}")
    assert pid in {p.id for p in service.providers()}
    assert run(capsys, "provider", "deactivate", str(pid))[0] == 0
    assert pid not in {p.id for p in service.providers()}

    name = f"Cached {uuid.uuid4().hex[:6]}"
    status, out, _ = run(capsys, "appointment-type", "add", "--name", name, "--minutes", "15")
    assert status == 0
    tid = int(out.split()[3].rstrip(":"))
    assert tid in {t.id for t in service.appointment_types()}
    assert run(capsys, "appointment-type", "set", str(tid), "--colour", "#abcdef")[0] == 0
    assert next(t for t in service.appointment_types() if t.id == tid).colour == "#abcdef"


def test_deactivating_says_how_many_booked_appointments_stay(
        cli_env: None, backend: Backend, capsys: pytest.CaptureFixture[str]) -> None:
    from datetime import date

    from backend_client.accounts.access import SystemAccess
    from backend_client.dto import PatientDraft
    from backend_client.patients.service import PatientService

    pid = added_provider(capsys, f"Busy{uuid.uuid4().hex[:6]}")
    family = f"Pt{uuid.uuid4().hex[:6]}"
    patient = PatientService(backend.owner_engine, SystemAccess("ws-admin")).register(
        PatientDraft(given_name="Booked", family_name=family, birth_date=date(1980, 1, 1),
                     sex="female"))
    with backend.owner_engine.begin() as conn:
        for days in (1, 2):  # from the database's now: tomorrow and the day after
            conn.execute(text(
                "INSERT INTO appointments (provider_id, patient_id, starts_at, ends_at) "
                "VALUES (:p, :pt, now() + make_interval(days => :d), "
                "now() + make_interval(days => :d, mins => 15))"),
                {"p": pid, "pt": patient.id, "d": days})
    status, out, _ = run(capsys, "provider", "deactivate", str(pid))
    assert status == 0
    assert out.splitlines()[1] == ("note: 2 booked appointments from now on stay booked with "
                                   "this provider; move or cancel them at a desk")
    assert family not in out  # counted, never named
