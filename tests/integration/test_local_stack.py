"""The embedded default: real servers under the data dir that keep data and come back."""

from __future__ import annotations

import json
import os
import signal
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from backend_client.admin.cli import main as admin
from backend_client.backend import open_backend
from backend_client.config import load_settings
from backend_client.local_stack import LocalStack
from backend_client.local_stack.process import process_alive, wait_for
from backend_client.schema import migrate
from backend_client.stores.postgres.engine import normalise_url
from backend_client.stores.postgres.models import ClinicSetting
from backend_client.stores.postgres.roles import APP_LOGIN


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("DRA_DATA_DIR", str(tmp_path))
    yield tmp_path
    LocalStack(tmp_path).stop()


def _write_everywhere(marker: str) -> None:
    backend = open_backend(load_settings())
    try:
        migrate(backend)
        with Session(backend.engine) as s, s.begin():
            s.add(ClinicSetting(key=marker, value={"v": 1}))
        backend.mongo_db["clinic_meta"].insert_one(
            {"key": marker, "value": 1, "updated_at": datetime.now(UTC)})
        backend.redis.set(f"dra:{marker}", "kept")
        backend.objects.put(f"test/{marker}", b"kept")
    finally:
        backend.close(stop_stack=False)


def _read_everywhere(marker: str) -> tuple[object, ...]:
    backend = open_backend(load_settings())
    try:
        with Session(backend.engine) as s:
            pg = s.execute(select(ClinicSetting.value).where(ClinicSetting.key == marker)
                           ).scalar_one_or_none()
        doc = backend.mongo_db["clinic_meta"].find_one({"key": marker})
        return (pg, doc and doc["value"], backend.redis.get(f"dra:{marker}"),
                backend.objects.get(f"test/{marker}"))
    finally:
        backend.close(stop_stack=False)


def test_data_survives_stop_and_start(data_dir: Path) -> None:
    stack = LocalStack(data_dir)
    marker = uuid.uuid4().hex
    stack.start()
    _write_everywhere(marker)
    stack.stop()
    assert not any(s.running for s in stack.status())
    stack.start()
    assert _read_everywhere(marker) == ({"v": 1}, 1, b"kept", b"kept")


def test_start_is_idempotent_and_reuses_running_servers(data_dir: Path) -> None:
    stack = LocalStack(data_dir)
    first = stack.start()
    pids = [s.pid for s in stack.status()]
    again = LocalStack(data_dir).start()
    assert again == first
    assert [s.pid for s in stack.status()] == pids


def test_kill_9_is_named_by_doctor_and_stack_start_brings_it_back(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stack = LocalStack(data_dir)
    marker = uuid.uuid4().hex
    stack.start()
    _write_everywhere(marker)
    mongo_pid = stack.mongo.pid()
    assert mongo_pid is not None
    os.kill(mongo_pid, signal.SIGKILL)
    assert wait_for(lambda: not process_alive(mongo_pid, "mongod"), 10)

    assert admin(["doctor"]) == 1
    out = capsys.readouterr()
    assert "mongo     DOWN" in out.out and "connection refused" in out.out
    assert "down: MongoDB" in out.err
    assert "postgres  ok" in out.out and "redis     ok" in out.out

    assert admin(["stack", "start"]) == 0
    assert admin(["doctor"]) == 0
    assert _read_everywhere(marker) == ({"v": 1}, 1, b"kept", b"kept")


def test_start_survives_stale_pid_files_after_a_crash(data_dir: Path) -> None:
    stack = LocalStack(data_dir)
    stack.start()
    for st in stack.status():
        assert st.pid is not None
        os.kill(st.pid, signal.SIGKILL)
    assert wait_for(lambda: not any(s.running for s in stack.status()), 10)
    # Point the pid files at a live process that is not the server (pid reuse); what
    # runs is decided by what holds each data folder, not by these.
    for pidfile in (data_dir / "stack" / "mongod.pid", stack.redis.pidfile):
        pidfile.write_text(f"{os.getpid()}\n")
    assert not any(s.running for s in stack.status())
    stack.start()
    assert all(s.running for s in stack.status())
    assert admin(["doctor"]) == 0


def test_stack_status_and_stop_from_the_cli(data_dir: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    assert admin(["stack", "start"]) == 0
    assert admin(["stack", "status"]) == 0
    assert admin(["stack", "stop"]) == 0
    assert admin(["stack", "status"]) == 1
    out = capsys.readouterr().out
    assert out.count("stopped") >= 3


def test_doctor_before_any_start_says_what_to_do(data_dir: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    assert admin(["doctor"]) == 2
    assert "run 'dr-assistant-admin stack start'" in capsys.readouterr().err


def test_after_an_upgrade_stack_start_gives_doctor_the_app_login(
        data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A data dir from before the app had its own login (no "app" password, no such role):
    doctor says what to do, and ``stack start`` alone sets the login up."""
    endpoints = LocalStack(data_dir).start()
    owner = create_engine(normalise_url(endpoints.postgres_url), poolclass=NullPool)
    with owner.begin() as conn:
        conn.execute(text(f"DROP ROLE {APP_LOGIN}"))
    secrets_file = data_dir / "stack" / "secrets.json"
    old = {k: v for k, v in json.loads(secrets_file.read_text()).items() if k != "app"}
    secrets_file.write_text(json.dumps(old))

    assert admin(["doctor"]) == 2
    assert "run 'dr-assistant-admin stack start'" in capsys.readouterr().err
    assert admin(["stack", "start"]) == 0
    assert admin(["doctor"]) == 0
    assert "postgres  ok" in capsys.readouterr().out
    with owner.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM pg_roles WHERE rolname = :r"),
                            {"r": APP_LOGIN}).scalar_one() == 1
    new = json.loads(secrets_file.read_text())
    assert new.keys() == {"postgres", "app", "redis"} and new["postgres"] == old["postgres"]


def test_secrets_are_private(data_dir: Path) -> None:
    stack = LocalStack(data_dir)
    stack.start()
    assert (data_dir / "stack" / "secrets.json").stat().st_mode & 0o077 == 0
    assert (data_dir / "stack" / "redis.conf").stat().st_mode & 0o077 == 0


def test_the_app_health_check_restarts_a_dead_local_server(data_dir: Path) -> None:
    from backend_client.health import HealthService

    stack = LocalStack(data_dir)
    stack.start()
    backend = open_backend(load_settings())
    try:
        redis_pid = stack.redis.pid()
        assert redis_pid is not None
        os.kill(redis_pid, signal.SIGKILL)
        assert wait_for(lambda: not stack.redis.running(), 10)
        assert not HealthService(backend).check("redis").ok  # doctor's view: down
        healed = HealthService(backend, restart_local=True).check("redis")
        assert healed.ok, healed.sentence()
        assert stack.redis.running() and stack.redis.pid() != redis_pid
    finally:
        backend.close(stop_stack=False)
