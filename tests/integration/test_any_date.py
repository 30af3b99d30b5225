"""The time-sensitive tests pass on any date: run again with the whole machine's clock
moved (``faketime``), the servers they start included. A test that fixed a calendar date
for "now", or a key that expired by a workstation's absolute clock, fails here."""

from __future__ import annotations

import os
import subprocess
import sys
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


@pytest.mark.parametrize("shift", ["+400d", "-2d"])
def test_the_time_sensitive_tests_pass_on_another_date(shift: str, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DRA_")}
    result = subprocess.run(
        # Its own temp folder: pytest runs side by side must not clean up each other's.
        [faketime(), "-f", shift, sys.executable, "-m", "pytest", "-q", "-p",
         "no:cacheprovider", f"--basetemp={tmp_path / 'run'}", *TIME_SENSITIVE],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    tail = (result.stdout + result.stderr)[-4000:]
    assert result.returncode == 0, tail
    assert " passed" in tail and "skipped" not in tail and "deselected" not in tail, tail
