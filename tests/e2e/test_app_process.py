"""The application as a user starts it: a separate process on the embedded stack."""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts"


def _app() -> list[str]:
    exe = shutil.which("dr-assistant", path=str(Path(sys.executable).parent))
    return [exe] if exe else [sys.executable, "-m", "desktop.app"]


def _env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("DRA_") and k not in ("DISPLAY", "WAYLAND_DISPLAY",
                                                       "QT_QPA_PLATFORM")}
    env["DRA_DATA_DIR"] = str(data_dir)
    env["DRA_CONFIG_FILE"] = os.devnull
    env.update(extra)
    return env


def _png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG file"
    return struct.unpack(">II", head[16:24])


def _servers_running(data_dir: Path) -> list[str]:
    from backend_client.local_stack import LocalStack

    return [s.name for s in LocalStack(data_dir).status() if s.running]


def test_screenshot_on_the_embedded_stack(tmp_path: Path) -> None:
    shot = tmp_path / "shot.png"
    result = subprocess.run(
        [*_app(), "--screenshot", str(shot), "--report-startup"],
        env=_env(tmp_path / "data"), capture_output=True, text=True, timeout=180,
    )
    assert result.returncode == 0, result.stderr
    assert shot.stat().st_size > 5_000
    width, height = _png_size(shot)
    assert width >= 800 and height >= 500
    assert "first-paint-ms" in result.stderr
    ARTIFACTS.mkdir(exist_ok=True)
    shutil.copy(shot, ARTIFACTS / "e2e-embedded.png")
    # The stack was started by the app, so the app stopped it on exit.
    assert _servers_running(tmp_path / "data") == []
    # Its data stayed: the database was created and migrated.
    assert (tmp_path / "data" / "stack" / "postgres" / "PG_VERSION").exists()


def test_without_a_display_it_says_how_to_run_it(tmp_path: Path) -> None:
    result = subprocess.run(_app(), env=_env(tmp_path), capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 2
    assert "needs a display" in result.stderr and "QT_QPA_PLATFORM=offscreen" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(("var", "value"), [("DRA_MONGO_URL", "postgres://x")])
def test_bad_configuration_is_one_sentence(tmp_path: Path, var: str, value: str) -> None:
    result = subprocess.run([*_app(), "--screenshot", str(tmp_path / "x.png")],
                            env=_env(tmp_path, **{var: value}), capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 2
    assert f"{var} must be a URL such as" in result.stderr
    assert "Traceback" not in result.stderr


def test_sigterm_quits_cleanly_and_stops_the_stack_it_started(tmp_path: Path) -> None:
    import signal
    import time

    data = tmp_path / "data"
    proc = subprocess.Popen(_app(), env=_env(data, QT_QPA_PLATFORM="offscreen"),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and len(_servers_running(data)) < 3:
            time.sleep(0.2)
        assert len(_servers_running(data)) == 3, "the embedded stack did not start"
        time.sleep(1.0)  # let the first health checks run
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert _servers_running(data) == []


def test_a_workstation_clock_two_days_behind_is_shown_at_start(tmp_path: Path) -> None:
    """The app run under faketime (this computer's clock two days behind) against stores
    whose clock is right: the status bar says so, with both times, from the first check."""
    from backend_client.local_stack import LocalStack
    from tests.integration.test_clock_skew import faketime

    data = tmp_path / "data"
    stack = LocalStack(data)
    stack.start(keep_running=True)  # outside faketime: the stores keep the real time
    shot = tmp_path / "skew.png"
    try:
        result = subprocess.run(
            [faketime(), "-f", "-2d", *_app(), "--screenshot", str(shot)],
            env=_env(data), capture_output=True, text=True, timeout=180)
        assert result.returncode == 0, result.stderr[-3000:]
        log = (data / "logs" / "app.log").read_text()
        assert "this computer's clock is 2 days 0 h behind PostgreSQL's" in log
        ARTIFACTS.mkdir(exist_ok=True)
        shutil.copy(shot, ARTIFACTS / "e2e-clock-skew.png")
    finally:
        stack.stop()
