"""Several app instances on one data folder share one embedded stack: quitting one (or
killing it) never stops the stores under another; the last one to quit stops them."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from backend_client.admin.cli import main as admin
from backend_client.local_stack import LocalStack
from backend_client.local_stack.process import find_process, same_path
from tests.e2e.test_app_process import _app, _env

INTERVAL = "1"  # seconds between health checks in the instances under test


def _log_lines(data: Path, pid: int) -> list[str]:
    log = data / "logs" / "app.log"
    if not log.exists():
        return []
    return [line for line in log.read_text(errors="replace").splitlines()
            if f"[{pid}]" in line]


def _wait(check: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


class Instance:
    def __init__(self, data: Path) -> None:
        self.data = data
        self.proc = subprocess.Popen(
            _app(), env=_env(data, QT_QPA_PLATFORM="offscreen",
                             DRA_HEALTH_INTERVAL_SECONDS=INTERVAL),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def log(self) -> list[str]:
        return _log_lines(self.data, self.pid)

    def wait_ready(self) -> None:
        """Every store answered this instance's first health check."""
        def ready() -> bool:
            assert self.proc.poll() is None, self.proc.communicate()[1][-2000:]
            lines = self.log()
            return all(any(f"store {s} ok" in line for line in lines)
                       for s in ("postgres", "mongo", "redis", "objects"))
        _wait(ready, 120, f"app instance {self.pid} to reach every store")

    def quit(self) -> str:
        self.proc.send_signal(signal.SIGTERM)
        _, err = self.proc.communicate(timeout=90)
        assert self.proc.returncode == 0, err[-2000:]
        return err

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait(30)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(30)


@pytest.fixture
def data(tmp_path: Path) -> Iterator[Path]:
    folder = tmp_path / "data"
    yield folder
    LocalStack(folder).stop(force=True)


def _server_pids(data: Path) -> dict[str, int | None]:
    return {s.name: s.pid for s in LocalStack(data).status()}


def _mongods_on(data: Path) -> list[int]:
    dbpath = data / "stack" / "mongo"

    def holds(proc: object) -> bool:
        args = proc.cmdline()  # type: ignore[attr-defined]
        return any(same_path(a, dbpath) for a in args)

    found = []
    proc = find_process("mongod", holds)
    while proc is not None and proc.pid not in found:
        found.append(proc.pid)
        proc = find_process("mongod", lambda p: holds(p) and p.pid not in found)
    return found


def _status(capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = admin(["stack", "status"])
    return code, capsys.readouterr().out


def test_two_instances_share_the_stack_and_the_last_one_stops_it(
        data: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DRA_DATA_DIR", str(data))
    first = Instance(data)
    second = third = None
    try:
        first.wait_ready()
        second = Instance(data)
        second.wait_ready()
        pids = _server_pids(data)
        assert all(pids.values()), pids
        code, out = _status(capsys)
        assert code == 0 and out.count("running") == 3
        assert f"used by   2 app instances (pid {first.pid}, {second.pid})" in out \
            or f"used by   2 app instances (pid {second.pid}, {first.pid})" in out

        # The first quits normally: nothing stops under the second.
        first.quit()
        assert _server_pids(data) == pids
        code, out = _status(capsys)
        assert code == 0 and f"used by   1 app instance (pid {second.pid})" in out
        time.sleep(4 * float(INTERVAL))  # four of the second's health checks
        assert _server_pids(data) == pids
        assert not [line for line in second.log() if "down" in line or "restart" in line]

        # Another instance is killed (kill -9): its lease goes with it.
        third = Instance(data)
        third.wait_ready()
        third.kill()
        assert _server_pids(data) == pids
        code, out = _status(capsys)
        assert code == 0 and f"used by   1 app instance (pid {second.pid})" in out

        # Stopping by hand while the second works is refused, and says why.
        assert admin(["stack", "stop"]) == 2
        err = capsys.readouterr().err
        assert f"in use by 1 instance of Dr. Assistant (pid {second.pid})" in err
        assert "--force" in err
        time.sleep(2 * float(INTERVAL))
        assert _server_pids(data) == pids
        assert not [line for line in second.log() if "down" in line or "restart" in line]

        # The second's health checks were running all along: a server killed now is seen
        # and brought back by it.
        redis_pid = pids["redis"]
        assert redis_pid is not None
        os.kill(redis_pid, signal.SIGKILL)
        _wait(lambda: any("store redis down" in line or "restarting" in line
                          for line in second.log()), 30, "the second instance to notice")
        _wait(lambda: _server_pids(data)["redis"] not in (None, redis_pid), 30,
              "the second instance to restart Redis")

        # The last instance quits: the stack stops, and no mongod is left on the folder.
        second.quit()
        code, out = _status(capsys)
        assert code == 1 and out.count("stopped") == 3
        assert "used by   0 app instances" in out
        assert _mongods_on(data) == []
        assert admin(["stack", "stop"]) == 0
        assert _mongods_on(data) == []
    finally:
        for instance in (first, second, third):
            if instance is not None:
                instance.close()


def test_stack_start_keeps_it_running_after_the_app_quits(
        data: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DRA_DATA_DIR", str(data))
    assert admin(["stack", "start"]) == 0
    pids = _server_pids(data)
    app = Instance(data)
    try:
        app.wait_ready()
        assert _server_pids(data) == pids  # reused, not started again
        app.quit()
        # Someone asked for the stack to keep running: the app leaves it up.
        assert _server_pids(data) == pids
        app = Instance(data)
        app.wait_ready()
        app.kill()
        # A killed instance holds nothing: stopping needs no --force.
        assert admin(["stack", "stop"]) == 0
        assert not any(_server_pids(data).values())
        assert _mongods_on(data) == []
    finally:
        app.close()
    capsys.readouterr()
