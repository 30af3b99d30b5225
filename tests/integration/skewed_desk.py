"""One workstation's working day, run as its own process so that its clock can be moved
(``faketime -f -2d python -m tests.integration.skewed_desk ...``) while the stores keep
theirs. Prints one JSON object with what the workstation saw.

To make the twelve hours pass, the schema owner moves this session's times back (the
tests' DatabaseTime); the workstation's own clock stays wherever faketime put it.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import UTC, datetime, timedelta

from backend_client.accounts.signin import build_session_services
from backend_client.backend import open_backend
from backend_client.config import load_settings
from backend_client.errors import SessionEnded, WorkstationLocked
from backend_client.health import HealthService
from tests.clock import DatabaseTime


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--user", required=True)
    parser.add_argument("--workstation", required=True)
    args = parser.parse_args()
    password = sys.stdin.readline().rstrip("\n")
    backend = open_backend(load_settings())
    out: dict[str, object] = {"workstation_now": datetime.now(UTC).isoformat()}
    try:
        health = HealthService(backend).check("postgres")
        assert health.ok and health.clock is not None, health.sentence()
        out.update(offset_s=health.clock.offset_s, skewed=health.clock.skewed,
                   warning=health.clock.sentence())
        services = build_session_services(
            backend.engine, backend.mongo_db, workstation=args.workstation,
            idle_lock=timedelta(minutes=10), max_age=timedelta(hours=12))
        signin = services.signin
        actor = signin.sign_in(args.user, password).actor
        # This workstation's session only: the other desk is the same person.
        store = DatabaseTime(backend.owner_engine, session_ids=[actor.session_id])
        out.update(started_at=actor.started_at.isoformat(),
                   expires_at=actor.expires_at.isoformat())
        # Silent past the idle limit and the server's grace: locked, by the server.
        store.advance(minutes=11, seconds=1)
        try:
            services.access.require("patient.search")
            out["idle"] = "still active"
        except WorkstationLocked:
            out["idle"] = "locked"
        signin.unlock(password)
        # A busy day: something every five minutes until the absolute limit.
        active_minutes = 11
        while True:
            store.advance(minutes=5)
            state = signin.heartbeat()
            if state != "active":
                break
            active_minutes += 5
        out["ended_as"] = state
        out["active_minutes"] = active_minutes
        try:
            services.access.require("patient.search")
            out["after_limit"] = "still allowed"
        except SessionEnded as exc:
            out["after_limit"] = exc.state
        time.sleep(0.05)
        signin.sign_out()
    finally:
        backend.close()
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
