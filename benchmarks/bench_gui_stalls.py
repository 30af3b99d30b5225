"""GUI stalls while the day sheet loads and refreshes: how late a 10 ms heartbeat timer
fires (target p99 ≤ 16 ms, max ≤ 50 ms late).

    .venv/bin/python -m benchmarks gui_stalls

The day sheet has 50 providers × 30 appointments, served by the fake scheduling service
(tests/gui/fake_scheduling.py) with a network-like delay on the TaskRunner's pool threads,
shown at 1280×800 on the offscreen platform. First the heartbeat runs 2 s with nothing
happening (the machine's own floor, printed with the load average); then for
BENCH_SECONDS (default 8) the script keeps the screen busy the way a busy front desk
would: another workstation's change every 150 ms (new stamp: rebuild and repaint), the
next or previous day every 700 ms, "show cancelled" toggled and scrolling every 400 ms.
It also prints what one sheet costs on the GUI
thread (building the blocks, painting a frame), the pieces the heartbeat waits behind.

Environment: BENCH_SECONDS (default 8), BENCH_LATENCY_MS (the service's delay, default 15).
"""

from __future__ import annotations

import os
import statistics
import time
from datetime import date, datetime, timedelta
from datetime import time as dtime
from typing import Any

DAY = date(2026, 12, 2)


def main() -> None:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QObject, QTimer, Signal
    from PySide6.QtWidgets import QApplication

    from backend_client.sync.events import ChangeEvent
    from benchmarks.heartbeat import HEARTBEAT_MS, Heartbeat, figures
    from desktop.bridges.notifications import ChangeNotifications
    from desktop.presenters.schedule import SchedulePresenter
    from desktop.tasks import TaskRunner
    from tests.gui.fake_scheduling import big_clinic
    from ui.scheduling.schedule_view import ScheduleView

    seconds = float(os.environ.get("BENCH_SECONDS", "8"))
    latency = float(os.environ.get("BENCH_LATENCY_MS", "15")) / 1000
    app = QApplication.instance() or QApplication([])

    class Booking(QObject):
        finished = Signal()

        def __getattr__(self, name: str) -> Any:
            return lambda *args: None

    api = big_clinic(DAY, providers=50, per_provider=30, latency=latency)
    for day in (DAY - timedelta(days=1), DAY + timedelta(days=1)):
        other = big_clinic(day, providers=50, per_provider=30)
        for appt in other._appts.values():   # the neighbouring days are as full
            api.add(appt.provider_id, day, f"{appt.starts_at.astimezone():%H:%M}",
                    appt.minutes, appt.patient_name, type_id=appt.type_id or 1,
                    status=appt.status)
    tasks = TaskRunner()
    notifications = ChangeNotifications()
    view = ScheduleView()
    view.resize(1280, 800)
    view.show()
    now = datetime.combine(DAY, dtime(11, 20)).astimezone()
    presenter = SchedulePresenter(view, api, tasks, notifications, Booking(),
                                  today=lambda: DAY, now=lambda: now)

    # --- the GUI thread's share of one sheet, measured directly
    sheet = api.day_sheet(DAY)
    build, paint = [], []
    for _ in range(20):
        t0 = time.perf_counter()
        view.show_day_sheet(sheet)
        build.append((time.perf_counter() - t0) * 1000)
        t0 = time.perf_counter()
        view.day_grid.viewport().grab()
        paint.append((time.perf_counter() - t0) * 1000)
    print(f"one 50x30 sheet on the GUI thread: build p50 {statistics.median(build):.1f} ms "
          f"max {max(build):.1f} ms; paint a frame (grab) p50 {statistics.median(paint):.1f} ms "
          f"max {max(paint):.1f} ms")

    # --- the heartbeat while it loads and refreshes
    shown = [0]
    presenter.shown.connect(lambda _mode: shown.__setitem__(0, shown[0] + 1))
    heartbeat = Heartbeat()

    ids = sorted(api._appts)
    step = [0]

    def change() -> None:   # another workstation moves an appointment by five minutes
        step[0] += 1
        appt = api._appts[ids[(step[0] * 37) % len(ids)]]
        api.calls.append(("bench", None))
        api._store(appt, appt.__class__(**{**appt.__dict__, "version": appt.version + 1}))
        notifications.changed.emit((ChangeEvent("appointment", appt.id, appt.version + 1),))

    def navigate() -> None:
        step[0] += 1
        target = DAY + timedelta(days=(-1, 0, 1, 0)[step[0] % 4])
        view.day_requested.emit(target)

    def fiddle() -> None:
        view.cancelled_check.toggle()
        bar = view.day_grid.verticalScrollBar()
        bar.setValue((bar.value() + 240) % max(1, bar.maximum()))
        hbar = view.day_grid.horizontalScrollBar()
        hbar.setValue((hbar.value() + 300) % max(1, hbar.maximum()))

    # The floor first: the same heartbeat with the sheet on screen and nothing happening.
    heartbeat.idle_floor(app)
    heartbeat.stop()

    timers = []
    for interval, fn in ((150, change), (700, navigate), (400, fiddle)):
        timer = QTimer()
        timer.setInterval(interval)
        timer.timeout.connect(fn)
        timers.append(timer)
    presenter.start()
    heartbeat.start()
    for timer in timers:
        timer.start()
    QTimer.singleShot(int(seconds * 1000), app.quit)
    app.exec()
    heartbeat.stop()
    for timer in timers:
        timer.stop()
    presenter.stop()
    tasks.shutdown()
    loads = sum(1 for name, _ in api.calls if name == "day_sheet")
    lateness = heartbeat.take()
    print(f"{seconds:.0f} s, service delay {latency * 1000:.0f} ms: {loads} day sheet loads, "
          f"{shown[0]} shown; heartbeat {len(lateness)} beats (of "
          f"{int(seconds * 1000 / HEARTBEAT_MS)} ideal)")
    print(f"heartbeat lateness: {figures(lateness)} (targets: p99 <= 16 ms, max <= 50 ms)")
