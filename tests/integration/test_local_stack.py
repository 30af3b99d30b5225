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
from backend_client.local_stack.servers import shared_buffers_mb
from backend_client.local_stack.stack import SECRET_NAMES
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
        with Session(backend.owner_engine) as s, s.begin():
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
        with Session(backend.owner_engine) as s:
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


def test_postgres_gets_a_page_cache_sized_for_this_computer(data_dir: Path) -> None:
    """An eighth of the memory, 128 MB to 1 GB (servers.shared_buffers_mb): PostgreSQL's
    default 128 MB held a fraction of what a search reads at 1,000,000 patients."""
    assert (shared_buffers_mb(2 * 2**30), shared_buffers_mb(4 * 2**30),
            shared_buffers_mb(64 * 2**30)) == (256, 512, 1024)
    assert shared_buffers_mb(512 * 2**20) == 128
    LocalStack(data_dir).start()
    backend = open_backend(load_settings())
    try:
        with backend.owner_engine.connect() as conn:
            shown = conn.execute(text("SHOW shared_buffers")).scalar_one()
    finally:
        backend.close(stop_stack=False)
    mb = shared_buffers_mb()
    assert shown == (f"{mb // 1024}GB" if mb % 1024 == 0 else f"{mb}MB")


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
    assert new.keys() == set(SECRET_NAMES) and new["postgres"] == old["postgres"]


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


def test_a_lease_is_held_until_released_and_a_killed_holder_holds_nothing(
        tmp_path: Path) -> None:
    import subprocess
    import sys

    from backend_client.local_stack.lease import Leases

    leases = Leases(tmp_path)
    mine = leases.take("app")
    other = leases.take("admin")  # two holders in one process see each other
    assert sorted(h.kind for h in leases.holders()) == ["admin", "app"]
    mine.close()
    assert [h.kind for h in leases.holders()] == ["admin"]
    other.close()
    assert leases.holders() == []

    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time; from pathlib import Path; "
         "from backend_client.local_stack.lease import Leases; "
         f"Leases(Path({str(tmp_path)!r})).take('app'); print('held', flush=True); "
         "time.sleep(120)"],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        assert [(h.kind, h.pid) for h in leases.holders()] == [("app", holder.pid)]
        holder.kill()
        holder.wait(10)
        assert leases.holders() == []  # the kernel let go of its lock; the file is swept
        assert list((tmp_path / "leases").iterdir()) == []
    finally:
        if holder.poll() is None:
            holder.kill()


def test_stop_refuses_while_a_command_uses_the_stack_unless_forced(data_dir: Path) -> None:
    from backend_client.local_stack import StackInUse

    stack = LocalStack(data_dir)
    endpoints, lease = stack.open("admin")
    try:
        with pytest.raises(StackInUse) as info:
            stack.stop()
        assert f"1 admin command (pid {os.getpid()})" in str(info.value)
        assert all(s.running for s in stack.status())
        # An admin command never stops the stack when it lets go.
        assert stack.release(lease, stop_if_last=False) is False
        assert all(s.running for s in stack.status())
        _, lease = stack.open("admin")
        stack.stop(force=True)
        assert not any(s.running for s in stack.status())
    finally:
        lease.close()
    assert endpoints.redis_url.startswith("redis://")


def test_the_last_app_lease_stops_the_stack_unless_it_was_asked_to_keep_running(
        data_dir: Path) -> None:
    stack = LocalStack(data_dir)
    _, first = stack.open("app")
    _, second = stack.open("app")
    assert stack.release(first, stop_if_last=True) is False  # the second still uses it
    assert all(s.running for s in stack.status())
    assert stack.release(second, stop_if_last=True) is True
    assert not any(s.running for s in stack.status())

    stack.start(keep_running=True)
    _, lease = stack.open("app")
    assert stack.release(lease, stop_if_last=True) is False
    assert all(s.running for s in stack.status())
    stack.stop()  # and 'stack stop' forgets the wish
    _, lease = stack.open("app")
    assert stack.release(lease, stop_if_last=True) is True


def test_a_failed_start_never_takes_over_a_running_server(data_dir: Path) -> None:
    """Two starts at once on one folder (the second process found nothing running yet):
    the one that finds a mongod holding the folder reuses it instead of starting another,
    and status names the one that really runs."""
    stack = LocalStack(data_dir)
    stack.start()
    mongo_pid = stack.mongo.pid()
    # What a second start would have done before: launch mongod on the same folder.
    import subprocess

    from backend_client.local_stack.process import free_port
    from backend_client.local_stack.servers import MongoServer

    result = subprocess.run(
        [MongoServer.binary(), "--dbpath", str(stack.mongo.dbpath), "--bind_ip",
         "127.0.0.1", "--port", str(free_port()), "--replSet", "rs0", "--fork",
         "--logpath", str(data_dir / "second-mongod.log")],
        capture_output=True, text=True, timeout=60)
    assert result.returncode != 0  # DBPathInUse
    assert stack.mongo.pid() == mongo_pid
    assert LocalStack(data_dir).start() == stack.endpoints()
    assert stack.mongo.pid() == mongo_pid
    stack.stop()
    assert stack.mongo.pid() is None


def test_a_stack_stopped_by_force_is_not_restarted_by_the_apps_health_check(
        data_dir: Path) -> None:
    from backend_client.health import HealthService

    backend = open_backend(load_settings(), user="app")
    try:
        health = HealthService(backend, restart_local=True)
        assert health.check("redis").ok
        LocalStack(data_dir).stop(force=True)  # an operator stops it under the app
        assert not health.check("redis").ok
        assert not any(s.running for s in LocalStack(data_dir).status())
        # Started again on purpose: then a server that dies is brought back.
        LocalStack(data_dir).start()
        redis_pid = LocalStack(data_dir).redis.pid()
        assert redis_pid is not None
        os.kill(redis_pid, signal.SIGKILL)
        assert wait_for(lambda: not LocalStack(data_dir).redis.running(), 10)
        assert health.check("redis").ok
    finally:
        backend.close(stop_stack=False)
    # An instance that has let go of the stack (it is quitting) never starts it again.
    LocalStack(data_dir).stop()
    assert not health.check("redis").ok
    assert not any(s.running for s in LocalStack(data_dir).status())


def test_a_start_that_fails_half_way_stops_what_it_started(data_dir: Path) -> None:
    from backend_client.local_stack import StackError

    (data_dir / "stack").mkdir(parents=True)
    (data_dir / "stack" / "mongo").write_text("not a folder")  # MongoDB cannot start
    with pytest.raises(StackError, match="could not be started"):
        open_backend(load_settings(), user="app")
    assert not any(s.running for s in LocalStack(data_dir).status())  # PostgreSQL too
    assert LocalStack(data_dir).holders() == []
