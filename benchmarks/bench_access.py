"""What the database's own checks cost the user on every service call: the median
``PatientService.get`` (opening a chart: read + audit event) for a signed-in doctor, through
the app's login (the session check, the token named in the transaction, row-level security
and the audit triggers), against the same call by the operator's ``SystemAccess`` on the
schema owner's engine (none of that), interleaved in one run on the embedded stack. Also
the session check alone, and a whole sign-in (argon2id on this machine dominates).

    python -m benchmarks access      (BENCH_ACCESS_N sets the samples, default 1000)
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

from backend_client.accounts.access import SystemAccess
from backend_client.accounts.service import AccountService
from backend_client.accounts.signin import build_session_services
from backend_client.backend import open_backend
from backend_client.config import load_settings
from backend_client.dto import PatientDraft
from backend_client.patients.service import PatientService
from backend_client.schema import migrate

PASSWORD = "benchmark harbour lantern 12"


def _ms(fn: Callable[[], object]) -> float:
    t0 = time.perf_counter()
    fn()
    return (time.perf_counter() - t0) * 1000


def main() -> None:
    n = int(os.environ.get("BENCH_ACCESS_N", "1000"))
    with tempfile.TemporaryDirectory(prefix="bench-access-") as tmp:
        backend = open_backend(load_settings(data_dir=Path(tmp)))
        try:
            migrate(backend)
            AccountService(backend.owner_engine).add_user("benchdoc", "Bench Doctor",
                                                          PASSWORD, ["doctor"])
            desk = build_session_services(backend.engine, backend.mongo_db,
                                          workstation="bench-1")
            sign_in = [_ms(lambda: desk.signin.sign_in("benchdoc", PASSWORD))
                       for _ in range(20)]
            system = PatientService(backend.owner_engine, SystemAccess("bench-1"))
            signed = PatientService(backend.engine, desk.access)
            pid = system.register(PatientDraft(given_name="Bench", family_name="Patient",
                                               birth_date=date(1970, 1, 1), sex="female")).id
            for _ in range(50):  # warm both paths
                system.get(pid)
                signed.get(pid)
            base, checked, check = [], [], []
            for _ in range(n):
                base.append(_ms(lambda: system.get(pid)))
                checked.append(_ms(lambda: signed.get(pid)))
                check.append(_ms(desk.access.current))
        finally:
            backend.close(stop_stack=True)
    b, c, k = (statistics.median(x) for x in (base, checked, check))
    print(f"open a chart, operator (no session check): median {b:.2f} ms")
    print(f"open a chart, signed-in doctor:            median {c:.2f} ms "
          f"(+{c - b:.2f} ms, {c / b:.2f}x)")
    print(f"session check alone (database function):   median {k:.3f} ms, "
          f"p95 {statistics.quantiles(check, n=20)[-1]:.3f} ms")
    print(f"sign-in (argon2id verify, session, audit): median "
          f"{statistics.median(sign_in):.0f} ms over {len(sign_in)}")
