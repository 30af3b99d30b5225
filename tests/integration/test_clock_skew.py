"""A workstation whose clock is wrong still gets exactly the session the clinic's rules
give, is told its clock is wrong, and cannot put its own time into the record.

The wrong clocks are real: each workstation is a process run under ``faketime`` (its
``datetime.now()``, ``time.time()``, everything), against the real stores whose clocks
are right.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from backend_client.accounts.service import AccountService
from backend_client.backend import Backend
from backend_client.config import Settings
from backend_client.dto import ClockReading
from backend_client.health import HealthService
from tests.integration.conftest import FAST

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "orange kite valley 63"
SKEWS = {"behind": "-2d", "ahead": "+2d"}


def faketime() -> str:
    exe = shutil.which("faketime")
    if exe is None:
        pytest.fail("These tests need Debian's 'faketime' package (libfaketime): "
                    "apt-get install faketime (make test installs it when run as root).")
    return exe


def _store_env(settings: Settings) -> dict[str, str]:
    """The test stores as a clinic workstation is configured: its own login, by URL."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DRA_")}
    secret = settings.s3_secret_access_key
    env.update({
        "DRA_POSTGRES_URL": settings.postgres_url or "",
        # Only so that the test can make twelve hours pass for its sessions.
        "DRA_POSTGRES_ADMIN_URL": settings.postgres_admin_url or "",
        "DRA_MONGO_URL": settings.mongo_url or "",
        "DRA_MONGO_DATABASE": settings.mongo_database,
        "DRA_REDIS_URL": settings.redis_url or "",
        "DRA_S3_ENDPOINT_URL": settings.s3_endpoint_url or "",
        "DRA_S3_BUCKET": settings.s3_bucket or "",
        "DRA_S3_ACCESS_KEY_ID": settings.s3_access_key_id or "",
        "DRA_S3_SECRET_ACCESS_KEY": secret.get_secret_value() if secret else "",
        "DRA_DATA_DIR": str(settings.data_dir),
        "DRA_CONFIG_FILE": os.devnull,
        "PYTHONPATH": str(ROOT),
    })
    return env


@pytest.fixture
def clinician(backend: Backend) -> Iterator[str]:
    name = f"skew{uuid.uuid4().hex[:8]}"
    AccountService(backend.owner_engine, hashing=FAST).add_user(name, "Dr Skew", PASSWORD,
                                                                ["doctor"])
    yield name
    AccountService(backend.owner_engine).disable(name)


def _db_now(backend: Backend) -> datetime:
    with backend.engine.connect() as conn:
        return conn.execute(text("SELECT clock_timestamp()")).scalar_one()  # type: ignore[no-any-return]


def test_workstations_two_days_behind_and_ahead_get_the_same_full_session(
        backend: Backend, settings: Settings, clinician: str) -> None:
    env = _store_env(settings)
    before = _db_now(backend)
    desks = {}
    for word, shift in SKEWS.items():
        ws = f"SKEW-{word.upper()}-{uuid.uuid4().hex[:4]}"
        proc = subprocess.Popen(
            [faketime(), "-f", shift, sys.executable, "-m", "tests.integration.skewed_desk",
             "--user", clinician, "--workstation", ws],
            cwd=ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True)
        assert proc.stdin is not None
        proc.stdin.write(PASSWORD + "\n")
        proc.stdin.flush()
        desks[word] = (ws, proc)
    seen = {}
    for word, (_ws, proc) in desks.items():
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err[-3000:]
        seen[word] = json.loads(out.strip().splitlines()[-1])
    after = _db_now(backend)

    for word, day in seen.items():
        # The workstation's clock really was two days off...
        ws_now = datetime.fromisoformat(day["workstation_now"])
        expected = timedelta(days=-2 if word == "behind" else 2)
        assert abs((ws_now - before) - expected) < timedelta(minutes=5), (word, ws_now)
        # ...it was told so, with both times...
        assert day["skewed"] is True
        assert f"2 days 0 h {word} PostgreSQL's" in day["warning"]
        assert abs(abs(day["offset_s"]) - 2 * 86400) < 300
        # ...and its session was the clinic's: started on the stores' clock, twelve hours
        # long, locked by the idle limit, ended at the limit.
        started = datetime.fromisoformat(day["started_at"])
        assert before - timedelta(seconds=5) <= started <= after + timedelta(seconds=5)
        assert datetime.fromisoformat(day["expires_at"]) - started == timedelta(hours=12)
        assert day["idle"] == "locked"
        assert day["ended_as"] == "expired" and day["after_limit"] == "expired"
        assert 12 * 60 - 5 <= day["active_minutes"] < 12 * 60

    # The record has one clock: both desks' events are in the database's time order, in
    # the order they were written, within the real time the test ran.
    workstations = [ws for ws, _ in desks.values()]
    with backend.owner_engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT id, occurred_at, workstation, action FROM audit_events "
            "WHERE workstation = ANY(:w) ORDER BY id"), {"w": workstations}).all()
    assert {r.workstation for r in rows} == set(workstations)
    assert [r.occurred_at for r in rows] == sorted(r.occurred_at for r in rows)
    assert all(before <= r.occurred_at <= after for r in rows), \
        [(r.action, r.occurred_at) for r in rows]
    for ws in workstations:
        actions = [r.action for r in rows if r.workstation == ws]
        assert actions[0] == "signin" and "session.lock" in actions
        assert "session.unlock" in actions and actions[-1] == "signout"


def test_the_status_bar_check_reads_the_skew_against_the_real_database(
        backend: Backend) -> None:
    """The same check the status bar makes, with this process's clock moved."""
    for shift, skewed in ((0.0, False), (-119.0, False), (-3 * 60.0, True),
                          (2 * 86400.0, True)):
        health = HealthService(backend, wall_clock=lambda s=shift: datetime.now(UTC)  # type: ignore[misc]
                               .timestamp() + s).check("postgres")
        reading = health.clock
        assert isinstance(reading, ClockReading)
        assert reading.skewed is skewed, (shift, reading)
        assert abs(reading.offset_s + shift) < 1.0
    assert "3 min 0 s behind PostgreSQL's" in ClockReading(
        "postgres", datetime(2026, 1, 1, 12, 0, tzinfo=UTC),
        datetime(2026, 1, 1, 12, 3, tzinfo=UTC), 0.001).sentence()
