"""Two workstations, as people use them: two app processes, each in its own X display,
driven by the keyboard only. Reception books an appointment on one; the doctor's day sheet
on the other shows it without anyone touching it (the change event, over Redis), and
checking the patient in tells the doctor's workstation at once.

What each app shows is read from its log (counts only, never names) and from screenshots
kept in artifacts/.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.e2e.test_app_process import ARTIFACTS, _app, _env

SHEET = re.compile(r"day sheet (\d{4}-\d\d-\d\d) shows (\d+) live appointments")


def _wait(check: Callable[[], object], timeout: float, what: str) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def _free_display() -> int:
    for n in range(140, 240):
        if not Path(f"/tmp/.X{n}-lock").exists() and not Path(f"/tmp/.X11-unix/X{n}").exists():
            return n
    raise AssertionError("no free X display number")


class Desk:
    """One workstation: an X server of its own and the app in it."""

    def __init__(self, data: Path, name: str) -> None:
        missing = [tool for tool in ("Xvfb", "xdotool") if not shutil.which(tool)]
        assert not missing, (f"this test needs {' and '.join(missing)}: make test installs "
                             "them (.ci/system-deps.sh test)")
        self.data, self.name = data, name
        self.display = f":{_free_display()}"
        self.xvfb = subprocess.Popen(["Xvfb", self.display, "-screen", "0", "1280x800x24",
                                      "-nolisten", "tcp"], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        _wait(lambda: Path(f"/tmp/.X11-unix/X{self.display[1:]}").exists(), 20,
              f"X display {self.display}")
        self.app = subprocess.Popen(
            _app(), env=_env(data, QT_QPA_PLATFORM="xcb", DISPLAY=self.display,
                             DRA_WORKSTATION_NAME=name, DRA_HEALTH_INTERVAL_SECONDS="2"),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def log(self) -> list[str]:
        path = self.data / "logs" / "app.log"
        if not path.exists():
            return []
        return [line for line in path.read_text(errors="replace").splitlines()
                if f"[{self.app.pid}]" in line]

    def xdo(self, *args: str) -> str:
        return subprocess.run(["xdotool", *args], env={**os.environ, "DISPLAY": self.display},
                              capture_output=True, text=True, timeout=30, check=True).stdout

    def wait_ready(self) -> None:
        def ready() -> bool:
            assert self.app.poll() is None, self.app.communicate()[1][-3000:]
            lines = self.log()
            return all(any(f"store {s} ok" in line for line in lines)
                       for s in ("postgres", "mongo", "redis", "objects"))
        _wait(ready, 180, f"the {self.name} app to reach every store")

    def sign_in(self, username: str, password: str) -> None:
        window = self.xdo("search", "--name", "Dr. Assistant").split()[0]
        self.xdo("windowsize", window, "1280", "800")
        time.sleep(0.5)
        # No window manager: a click gives the window the keyboard (the user name field
        # has the focus inside it).
        self.xdo("mousemove", "640", "366", "click", "1")
        self.xdo("type", "--delay", "15", username)
        self.xdo("key", "Tab")
        self.xdo("type", "--delay", "15", password)
        self.xdo("key", "Return")

    def has_window(self, title: str) -> bool:
        found = subprocess.run(["xdotool", "search", "--onlyvisible", "--name", title],
                               env={**os.environ, "DISPLAY": self.display},
                               capture_output=True, text=True, timeout=30)
        return bool(found.stdout.strip())

    def keys(self, *keys: str) -> None:
        for key in keys:
            self.xdo("key", key)
            time.sleep(0.3)

    def type(self, text: str) -> None:
        self.xdo("type", "--delay", "20", text)

    def sheets(self) -> list[tuple[str, int]]:
        return [(m.group(1), int(m.group(2))) for line in self.log()
                if (m := SHEET.search(line))]

    def screenshot(self, name: str) -> None:
        ARTIFACTS.mkdir(exist_ok=True)
        if shutil.which("import"):
            subprocess.run(["import", "-display", self.display, "-window", "root",
                            str(ARTIFACTS / name)], timeout=30, check=False)

    def close(self) -> None:
        if self.app.poll() is None:
            self.app.send_signal(signal.SIGTERM)
            try:
                self.app.communicate(timeout=60)
            except subprocess.TimeoutExpired:
                self.app.kill()
                self.app.communicate()
        self.xvfb.terminate()
        self.xvfb.wait(10)


@pytest.fixture
def desks(tmp_path: Path) -> Iterator[tuple[Desk, Desk]]:
    data = tmp_path / "data"
    front = Desk(data, "front-desk")
    room = None
    try:
        front.wait_ready()  # the first one creates the stack and the demo clinic
        room = Desk(data, "room-3")
        room.wait_ready()
        yield front, room
    finally:
        for desk in (room, front):
            if desk is not None:
                desk.close()


def test_a_booking_at_the_front_desk_appears_in_the_doctors_room(
        desks: tuple[Desk, Desk]) -> None:
    front, room = desks
    front.sign_in("reception", "copper kettle meadow 58")
    room.sign_in("doctor", "quiet harbour morning 41")
    day, before = _wait(lambda: room.sheets()[-1:] and room.sheets()[-1], 60,
                        "the doctor's day sheet")  # type: ignore[misc]
    _wait(lambda: front.sheets(), 60, "the front desk's day sheet")
    front.screenshot("e2e-two-desks-front-before.png")

    # Reception, keyboard only: the day sheet has a free slot selected; Enter books there,
    # the patient is found by name in the dialog, Ctrl+Enter books, and the warnings a
    # slot may have (outside hours, in the past) are overridden with a reason.
    def booked() -> bool:
        return any(count == before + 1 for d, count in front.sheets() if d == day)

    front.keys("Return")
    _wait(lambda: front.has_window("Book appointment"), 30, "the booking dialog")
    front.type("muller")
    time.sleep(1.0)  # Enter before the search answers picks its first result anyway
    front.keys("Return", "ctrl+Return")
    _wait(lambda: booked() or front.has_window("despite warnings"), 30,
          "the booking, or the warnings to override")
    if not booked():
        front.type("Booked for the two-desk test")
        front.keys("Return")

    _wait(lambda: any(count == before + 1 for d, count in front.sheets() if d == day), 30,
          "the front desk's sheet to show the booking")
    # The doctor's workstation follows by itself.
    _wait(lambda: any(count == before + 1 for d, count in room.sheets() if d == day), 10,
          "the doctor's sheet to show the booking made at the front desk")
    room.screenshot("e2e-two-desks-room-after.png")
    front.screenshot("e2e-two-desks-front-after.png")

    # The selection is on the new appointment: Ctrl+Shift+A checks the patient in, and
    # the doctor's workstation is told (a notice; its log says an arrival was shown).
    front.keys("ctrl+shift+a")
    _wait(lambda: any("arrival notice shown" in line for line in room.log()), 15,
          "the doctor's workstation to be told of the arrival")
    room.screenshot("e2e-two-desks-arrival.png")
