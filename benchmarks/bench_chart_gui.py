"""The chart on the GUI thread: time to the header and to the whole chart, and how late a
10 ms heartbeat fires while charts open, refresh and close (target p99 ≤ 16 ms, max ≤ 50 ms).

    .venv/bin/python -m benchmarks chart_gui

A large chart (200 encounters, 50 medications, 40 problems, 12 allergies and alerts) is
served by the fake chart service (tests/gui/fake_chart.py) with a network-like delay on
the TaskRunner's pool threads, in the main window at 1280×800 on the offscreen platform.
This measures the app's side only (models, header, layout, painting); the service's own
times against PostgreSQL are benchmarks/bench_chart.py's. First what one chart costs on
the GUI thread (header shown, every list filled); then open → loaded times (cold: a new
tab; warm: switching to an open one); then for BENCH_SECONDS (default 6) a chart opens
and closes every 400 ms while another workstation's allergy change arrives every 150 ms.

Environment: BENCH_SECONDS (default 6), BENCH_LATENCY_MS (the service's delay, default 5).
"""

from __future__ import annotations

import os
import statistics
import time
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

TODAY = date(2026, 11, 27)


def main() -> None:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from backend_client.chart.dto import AlertDraft, MedicationDraft, ProblemDraft
    from backend_client.sync.events import ChangeEvent
    from benchmarks.heartbeat import Heartbeat, figures
    from desktop.bridges.notifications import ChangeNotifications
    from desktop.presenters.chart import ChartPresenter, ChartTabsPresenter
    from desktop.tasks import InlineTaskRunner, TaskRunner
    from tests.gui.fake_chart import FakeChartApi
    from tests.gui.fake_patients import FakePatientsApi, draft
    from ui.main_window import MainWindow

    seconds = float(os.environ.get("BENCH_SECONDS", "6"))
    latency = float(os.environ.get("BENCH_LATENCY_MS", "5")) / 1000
    app = QApplication.instance() or QApplication([])

    patients = FakePatientsApi()
    records = [patients.add(draft(f"Given{i}", f"Family{i}", date(1950 + i, 1, 2)))
               for i in range(4)]
    api = FakeChartApi(records)
    start = datetime(2010, 1, 4, 9, 0, tzinfo=UTC)
    for record in records:
        pid = record.id
        for i in range(200):
            api.seed_encounter(pid, start + timedelta(days=18 * i), f"Visit {i}",
                               summary=f"Summary of visit {i}, plan and follow-up.")
        for i in range(50):
            api.seed_medication(pid, MedicationDraft(f"Medication {i}", f"{5 * (i + 1)} mg",
                                                     "oral", "twice daily"))
        for i in range(40):
            api.seed_problem(pid, ProblemDraft(f"Problem {i}", f"X{i:02d}.9"))
        for i in range(12):
            api.seed_alert(pid, AlertDraft("allergy" if i % 2 else "clinical",
                                           f"Substance or alert {i}",
                                           ("low", "moderate", "high")[i % 3], "rash"))

    window = MainWindow()
    window.set_signed_in("Dr Bench (doctor)")
    window.show_work()
    window.resize(1280, 800)
    window.show()

    # --- the GUI thread's share of one chart, measured directly (inline: no waiting)
    inline_cost = []
    for _ in range(10):
        t0 = time.perf_counter()
        chart = ChartPresenter(records[0], api, InlineTaskRunner(), today=lambda: TODAY)
        chart.start()
        chart.view.resize(1230, 700)
        chart.view.grab()
        inline_cost.append((time.perf_counter() - t0) * 1000)
        chart.view.deleteLater()
        chart.deleteLater()
    print(f"one large chart built, read inline, laid out and painted: p50 "
          f"{statistics.median(inline_cost):.1f} ms, max {max(inline_cost):.1f} ms "
          "(service time included, no delay)")

    api.latency = latency
    tasks = TaskRunner()
    notifications = ChangeNotifications()
    tabs = ChartTabsPresenter(window, api, tasks, today=lambda: TODAY,
                              notifications=notifications)

    def open_and_wait(index: int) -> tuple[float, float]:
        """ms to the header, ms to every section, driving the event loop until loaded."""
        marks: dict[str, float] = {}
        t0 = time.perf_counter()
        chart = tabs.open_chart(records[index])
        if chart.header is not None:   # warm: the tab was open already
            return (time.perf_counter() - t0) * 1000, (time.perf_counter() - t0) * 1000
        chart.header_shown.connect(lambda _h: marks.setdefault(
            "header", time.perf_counter()))
        chart.loaded.connect(lambda: (marks.setdefault("loaded", time.perf_counter()),
                                      app.quit()))
        app.exec()
        return (marks["header"] - t0) * 1000, (marks["loaded"] - t0) * 1000

    cold = [open_and_wait(i) for i in range(len(records))]
    warm = [open_and_wait(i) for i in range(len(records))]
    print(f"service delay {latency * 1000:.0f} ms per call; cold open (new tab): header "
          f"p50 {statistics.median(c[0] for c in cold):.1f} ms, whole chart p50 "
          f"{statistics.median(c[1] for c in cold):.1f} ms (max {max(c[1] for c in cold):.1f})"
          f"; warm (switch to the open tab) p50 {statistics.median(w[1] for w in warm):.2f} ms")
    tabs.close_all()

    heartbeat = Heartbeat()
    heartbeat.idle_floor(app)
    heartbeat.start()

    step = [0, 0]

    def churn() -> None:   # a chart opens; the oldest open one closes
        step[0] += 1
        record = records[step[0] % len(records)]
        if record.id in tabs.charts:
            tabs.close_chart(record.id)
        else:
            tabs.open_chart(record)

    reactions = ("rash", "hives", "wheeze")

    def change() -> None:
        """Another workstation changes an allergy of every open patient (its reaction), as
        the database would hold it, and its change events arrive."""
        step[1] += 1
        for pid in list(tabs.charts):
            allergy = next(a for a in api.alerts_.values()
                           if a.patient_id == pid and a.draft.kind == "allergy")
            api.alerts_[allergy.id] = replace(
                allergy, version=allergy.version + 1,
                draft=replace(allergy.draft, reaction=reactions[step[1] % 3]))
            notifications.changed.emit((ChangeEvent("chart", pid, 0, "alert"),))

    timers = []
    for interval, fn in ((400, churn), (150, change)):
        timer = QTimer()
        timer.setInterval(interval)
        timer.timeout.connect(fn)
        timer.start()
        timers.append(timer)
    QTimer.singleShot(int(seconds * 1000), app.quit)
    app.exec()
    heartbeat.stop()
    for timer in timers:
        timer.stop()
    tabs.close_all()
    tasks.shutdown()
    print(f"{seconds:.0f} s of charts opening/closing every 400 ms and allergy changes every "
          f"150 ms: heartbeat lateness {figures(heartbeat.take())} "
          f"(targets: p99 <= 16 ms, max <= 50 ms)")


if __name__ == "__main__":
    main()
