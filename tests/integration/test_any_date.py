"""The time-sensitive tests pass on any date: run again with the whole machine's clock
moved (``faketime``), the servers they start included. A test that fixed a calendar date
for "now", or a key that expired by a workstation's absolute clock, fails here."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.test_clock_skew import faketime

ROOT = Path(__file__).resolve().parents[2]
TIME_SENSITIVE = [
    "tests/integration/test_sessions.py",
    "tests/integration/test_attacks.py",
    "tests/integration/test_signin_ratelimit.py",
    "tests/integration/test_record_times.py",
    "tests/integration/test_patient_access.py",
    "tests/integration/test_admin_sessions_cli.py",
    "tests/gui/test_session_flow.py",
]


SHIFTS = ("+400d", "-2d")


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, subprocess.Popen[str]]]:
    """Both shifted runs at once: each is one process with its own servers, so on two
    cores they take the time of one."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DRA_")}
    env.pop("PYTEST_ADDOPTS", None)  # its summary line is what the test reads
    started = {}
    for shift in SHIFTS:
        base = tmp_path_factory.mktemp("ahead" if shift.startswith("+") else "behind")
        started[shift] = subprocess.Popen(
            # Its own temp folder: pytest runs side by side must not clean up each other's.
            [faketime(), "-f", shift, sys.executable, "-m", "pytest", "-q", "-p",
             "no:cacheprovider", f"--basetemp={base / 'run'}", *TIME_SENSITIVE],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    yield started
    for proc in started.values():
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


@pytest.mark.parametrize("shift", SHIFTS)
def test_the_time_sensitive_tests_pass_on_another_date(
        shift: str, runs: dict[str, subprocess.Popen[str]]) -> None:
    out, _ = runs[shift].communicate(timeout=600)
    tail = out[-4000:]
    assert runs[shift].returncode == 0, tail
    assert " passed" in tail and "skipped" not in tail and "deselected" not in tail, tail
