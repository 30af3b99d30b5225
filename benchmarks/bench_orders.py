"""Orders, prescriptions and tasks on the embedded stack, through signed-in sessions on the
app's login (row security, the signing and flow triggers and the audit chain in the path).

A patient with 300 orders and 300 prescriptions (half signed); 3,000 tasks, of which the
nurse has 150 open for her and 150 open for all nurses. Figures (median and p95 of
``BENCH_ORDERS_N`` rounds, default 50): the chart's orders and prescriptions sections
(part of the full chart's ≤ 500 ms), the nurse's inbox and the status bar's open count
(asked on every task event, so it should cost a few milliseconds), and the writes: place
an order, write and sign a prescription, complete a task.

    python -m benchmarks orders      (BENCH_ORDERS_N sets the rounds)
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC
from pathlib import Path

from sqlalchemy import Engine, text

from backend_client.accounts.service import AccountService
from backend_client.accounts.signin import build_session_services
from backend_client.backend import open_backend
from backend_client.chart.dto import OrderDraft, PrescriptionDraft, TaskDraft
from backend_client.chart.orders import OrdersService
from backend_client.chart.tasks import TasksService
from backend_client.config import load_settings
from backend_client.schema import migrate

PASSWORD = "benchmark orders lantern 12"


def _figures(label: str, fn: Callable[[], object], n: int) -> None:
    samples = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t0) * 1000)
    p95 = statistics.quantiles(samples, n=20)[18] if len(samples) >= 2 else samples[0]
    print(f"{label}: median {statistics.median(samples):.1f} ms, p95 {p95:.1f} ms "
          f"({n} rounds)", flush=True)


def _seed(owner: Engine, doctor: int, nurse: int) -> tuple[int, int]:
    with owner.begin() as conn:
        provider = int(conn.execute(text(
            "INSERT INTO providers (user_id, title, given_name, family_name, specialty) "
            "VALUES (:u, 'Dr', 'Bench', 'Mark', 'Family medicine') RETURNING id"),
            {"u": doctor}).scalar_one())
        patient = int(conn.execute(text(
            "INSERT INTO patients (given_name, family_name, birth_date, sex, sort_name) "
            "VALUES ('Bench', 'Chart', DATE '1970-01-01', 'female', 'chart bench') "
            "RETURNING id")).scalar_one())
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
        # 3,000 tasks: 150 open for the nurse, 150 open for all nurses, the rest for the
        # doctor, the doctors, or already done.
        conn.execute(text(
            "INSERT INTO tasks (title, patient_id, assignee_id, assignee_role, due_at, "
            "status, done_at, created_by, updated_by) SELECT 'Task ' || g, "
            "CASE WHEN g % 3 = 0 THEN :p END, "
            "CASE WHEN g % 4 IN (0, 2) THEN CASE WHEN g % 4 = 0 THEN :n ELSE :d END END, "
            "CASE WHEN g % 4 = 1 THEN 'nurse' WHEN g % 4 = 3 THEN 'doctor' END, "
            "now() + g * interval '1 hour', CASE WHEN g <= 600 THEN 'open' ELSE 'done' END, "
            "CASE WHEN g > 600 THEN now() END, :d, :d FROM generate_series(1, 3000) g"),
            {"p": patient, "n": nurse, "d": doctor})
    return provider, patient


def main() -> None:
    n = int(os.environ.get("BENCH_ORDERS_N", "50"))
    with tempfile.TemporaryDirectory(prefix="bench-orders-") as tmp:
        backend = open_backend(load_settings(data_dir=Path(tmp)))
        try:
            migrate(backend)
            accounts = AccountService(backend.owner_engine)
            doctor = accounts.add_user("benchdoc", "Bench Doctor", PASSWORD, ["doctor"]).id
            nurse = accounts.add_user("benchnurse", "Bench Nurse", PASSWORD, ["nurse"]).id
            _, patient = _seed(backend.owner_engine, doctor, nurse)
            desks = {}
            for name in ("benchdoc", "benchnurse"):
                desk = build_session_services(backend.engine, backend.mongo_db,
                                              workstation=f"bench-{name}")
                desk.signin.sign_in(name, PASSWORD)
                desks[name] = desk.access
            orders = OrdersService(backend.engine, desks["benchdoc"], tz=UTC)
            tasks = TasksService(backend.engine, desks["benchnurse"], tz=UTC)
            print(f"patient: {len(orders.orders(patient))} orders, "
                  f"{len(orders.prescriptions(patient))} prescriptions; nurse's inbox: "
                  f"{len(tasks.inbox())} open tasks of 3000", flush=True)
            _figures("orders section", lambda: orders.orders(patient), n)
            _figures("prescriptions section", lambda: orders.prescriptions(patient), n)
            _figures("nurse's inbox", tasks.inbox, n)
            _figures("status bar open count", tasks.open_count, n)
            _figures("place an order", lambda: orders.place_order(
                patient, OrderDraft(kind="lab", description="FBC")), n)

            def write_and_sign() -> None:
                draft = orders.create_prescription(patient, PrescriptionDraft(
                    drug="Amoxicillin", strength="500", unit="mg", frequency="tds",
                    duration_days=5))
                orders.sign_prescription(draft.id, draft.version)

            _figures("write and sign a prescription", write_and_sign, n)
            open_ones = list(tasks.inbox())

            def complete() -> None:
                task = open_ones.pop()
                tasks.complete_task(task.id, task.version)

            _figures("complete a task", complete, min(n, len(open_ones)))
            created = tasks.create_task(TaskDraft(title="x", assignee_role="nurse"))
            assert created.open
        finally:
            backend.close(stop_stack=True)
