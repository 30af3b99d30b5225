"""Opening a large chart, on the embedded stack, through a signed-in doctor's session on the
app's login (the session check, row security, the stamp joins all in the path).

One patient with ``BENCH_CHART_ENCOUNTERS`` encounters (default 200), 500 notes (MongoDB
revisions and their PostgreSQL rows, made through the notes service), 50 medications, 300
orders and 300 prescriptions, 40 problems, 12 allergies and alerts, and a visit today that
is checked in (its open encounter is in the header). Timed, p50 and p95:

- ``header()`` — target <= 100 ms;
- the full chart read: header + timeline + problems + medications + alerts + the notes
  list + orders + prescriptions + the patient's tasks, one after the other (the app loads
  them one by one off the GUI thread; the sum is what the last section waits) — target
  <= 500 ms.

"Cold": the engine's connection pool emptied before each sample (a new PostgreSQL backend:
new connection, no plan or catalogue caches), as for the first chart after the app starts.
"Warm": repeated opens of the same chart.

    python -m benchmarks chart       (BENCH_CHART_N warm samples, default 200;
                                      BENCH_CHART_COLD cold samples, default 20)
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, text

from backend_client.accounts.access import SystemAccess
from backend_client.accounts.service import AccountService
from backend_client.accounts.signin import build_session_services
from backend_client.backend import open_backend
from backend_client.chart.orders import OrdersService
from backend_client.chart.service import ChartService
from backend_client.chart.tasks import TasksService
from backend_client.config import load_settings
from backend_client.dto import PatientDraft
from backend_client.notes.service import build_notes
from backend_client.patients.service import PatientService
from backend_client.schema import migrate

PASSWORD = "benchmark harbour lantern 12"
TZ = ZoneInfo("Europe/Berlin")


def _ms(fn: Callable[[], object]) -> float:
    t0 = time.perf_counter()
    fn()
    return (time.perf_counter() - t0) * 1000


def _pct(values: list[float], p: int) -> float:
    return statistics.quantiles(values, n=100)[p - 1] if len(values) >= 2 else values[0]


def _seed(owner: Engine, patient: int, doctor: int, encounters: int) -> None:
    """As the schema's owner, in a few set-based statements (the seed loader's way)."""
    with owner.begin() as conn:
        provider = int(conn.execute(text(
            "INSERT INTO providers (user_id, title, given_name, family_name, specialty) "
            "VALUES (:u, 'Dr', 'Bench', 'Doctor', 'Family medicine') RETURNING id"),
            {"u": doctor}).scalar_one())
        conn.execute(text(
            "INSERT INTO encounters (patient_id, provider_id, started_at, ended_at, status, "
            "reason, summary, created_by, updated_by) "
            "SELECT :p, :pr, now() - make_interval(days => 7 * g), "
            "now() - make_interval(days => 7 * g) + interval '20 minutes', 'closed', "
            "'Review ' || g, 'Seen and examined; plan discussed; follow up in a week. ' "
            "|| repeat('Detail. ', 20), :u, :u FROM generate_series(1, :n) g"),
            {"p": patient, "pr": provider, "u": doctor, "n": encounters})
        conn.execute(text(
            "INSERT INTO medications (patient_id, name, dose, route, frequency, started_on, "
            "stopped_on, status, retired_reason, created_by, updated_by) "
            "SELECT :p, 'Medication ' || g, (g * 10) || ' mg', 'oral', 'twice daily', "
            "current_date - 400 + g, CASE WHEN g % 3 = 0 THEN current_date - g END, "
            "CASE WHEN g % 3 = 0 THEN 'stopped' WHEN g % 10 = 1 THEN 'retired' "
            "ELSE 'active' END, CASE WHEN g % 10 = 1 AND g % 3 <> 0 THEN 'Entered in error' "
            "ELSE '' END, :u, :u FROM generate_series(1, 50) g"),
            {"p": patient, "u": doctor})
        conn.execute(text(
            "INSERT INTO problems (patient_id, description, code, onset_date, status, "
            "created_by, updated_by) SELECT :p, 'Problem ' || g, 'X' || g, "
            "current_date - 30 * g, CASE WHEN g % 4 = 0 THEN 'resolved' ELSE 'active' END, "
            ":u, :u FROM generate_series(1, 40) g"), {"p": patient, "u": doctor})
        conn.execute(text(
            "INSERT INTO alerts (patient_id, kind, severity, description, created_by, "
            "updated_by) SELECT :p, (ARRAY['allergy', 'clinical', 'infection'])[1 + g % 3], "
            "(ARRAY['low', 'moderate', 'high'])[1 + g % 3], 'Alert ' || g, :u, :u "
            "FROM generate_series(1, 12) g"), {"p": patient, "u": doctor})
        conn.execute(text(
            "INSERT INTO orders (patient_id, ordered_by, kind, description, status, "
            "created_by, updated_by) SELECT :p, :pr, 'lab', 'Test ' || g, 'active', :u, :u "
            "FROM generate_series(1, 300) g"), {"p": patient, "pr": provider, "u": doctor})
        conn.execute(text(
            "INSERT INTO prescriptions (patient_id, prescriber_id, medication, dose, "
            "frequency, starts_on, status, signed_at, signed_by, strength, unit, "
            "duration_days, created_by, updated_by) SELECT :p, :pr, 'Drug ' || g, '1', "
            "'once daily', current_date, CASE WHEN g % 2 = 0 THEN 'active' ELSE 'draft' END, "
            "CASE WHEN g % 2 = 0 THEN now() END, CASE WHEN g % 2 = 0 THEN :u END, '500', "
            "'mg', 7, :u, :u FROM generate_series(1, 300) g"),
            {"p": patient, "pr": provider, "u": doctor})
        appointment = conn.execute(text(
            "INSERT INTO appointments (provider_id, patient_id, appointment_type_id, "
            "starts_at, ends_at, reason) SELECT :pr, :p, min(id), "
            "date_trunc('minute', now()), date_trunc('minute', now()) + interval '15 minutes', "
            "'Review' FROM appointment_types RETURNING id"),
            {"pr": provider, "p": patient}).scalar_one()
        conn.execute(text("UPDATE appointments SET status = 'checked_in' WHERE id = :a"),
                     {"a": appointment})


def _report(label: str, values: list[float], target: float) -> None:
    print(f"{label:<28} p50 {statistics.median(values):7.2f} ms   p95 {_pct(values, 95):7.2f} "
          f"ms   max {max(values):7.2f} ms   (n={len(values)}, target <= {target:.0f} ms)")


def main() -> None:
    warm_n = int(os.environ.get("BENCH_CHART_N", "200"))
    cold_n = int(os.environ.get("BENCH_CHART_COLD", "20"))
    encounters = int(os.environ.get("BENCH_CHART_ENCOUNTERS", "200"))
    with tempfile.TemporaryDirectory(prefix="bench-chart-") as tmp:
        backend = open_backend(load_settings(data_dir=Path(tmp)))
        try:
            migrate(backend)
            doctor = AccountService(backend.owner_engine).add_user(
                "benchdoc", "Bench Doctor", PASSWORD, ["doctor"]).id
            system = PatientService(backend.owner_engine, SystemAccess("bench-1"))
            pid = system.register(PatientDraft(given_name="Bench", family_name="Patient",
                                               birth_date=date(1970, 1, 1), sex="female")).id
            _seed(backend.owner_engine, pid, doctor, encounters)
            desk = build_session_services(backend.engine, backend.mongo_db,
                                          workstation="bench-1")
            desk.signin.sign_in("benchdoc", PASSWORD)
            chart = ChartService(backend.engine, desk.access, tz=TZ)
            notes = build_notes(backend, desk.access, None)
            orders = OrdersService(backend.engine, desk.access, tz=TZ)
            tasks = TasksService(backend.engine, desk.access, tz=TZ)
            t0 = time.perf_counter()
            for _ in range(int(os.environ.get("BENCH_CHART_NOTES", "500"))):
                notes.create(uuid.uuid4().hex, pid, "soap", title="Review")
            seeding = time.perf_counter() - t0

            def full() -> None:
                chart.header(pid)
                chart.timeline(pid)
                chart.problems(pid)
                chart.medications(pid)
                chart.alerts(pid)
                notes.notes(pid)
                orders.orders(pid)
                orders.prescriptions(pid)
                tasks.patient_tasks(pid)

            sizes = (len(chart.timeline(pid)), len(chart.medications(pid,
                                                                     include_retired=True)),
                     len(chart.problems(pid)), len(chart.alerts(pid)), len(notes.notes(pid)),
                     len(orders.orders(pid)), len(orders.prescriptions(pid)))
            if chart.header(pid).open_encounter is None:
                raise RuntimeError("the seeded visit opened no encounter")
            cold_header, cold_full = [], []
            for _ in range(cold_n):
                backend.engine.dispose()
                cold_header.append(_ms(lambda: chart.header(pid)))
                backend.engine.dispose()
                cold_full.append(_ms(full))
            for _ in range(20):
                full()
            warm_header = [_ms(lambda: chart.header(pid)) for _ in range(warm_n)]
            warm_full = [_ms(full) for _ in range(warm_n)]
        finally:
            backend.close(stop_stack=True)
    print(f"chart: {sizes[0]} encounters, {sizes[4]} notes ({seeding:.1f} s to write), "
          f"{sizes[1]} medications, {sizes[5]} orders, {sizes[6]} prescriptions, "
          f"{sizes[2]} problems, {sizes[3]} active allergies and alerts; signed-in doctor, "
          "app login")
    _report("header, cold", cold_header, 100)
    _report("header, warm", warm_header, 100)
    _report("full chart, cold", cold_full, 500)
    _report("full chart, warm", warm_full, 500)
