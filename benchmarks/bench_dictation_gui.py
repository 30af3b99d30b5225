"""Dictation on the GUI thread: how late a 10 ms heartbeat fires while the recorder shows
live levels (the AudioBridge polls the recorder ~30 times a second and the view repaints
its meter, time and slider) and while the upload worker delivers recordings on the upload
pool with the queue panel open (target p99 ≤ 16 ms).

    .venv/bin/python -m benchmarks dictation_gui

The main window at 1280×800 (offscreen) has Müller's chart open on its Recordings section
with the recorder capturing: a thread plays the microphone, advancing the fake recorder
(tests/gui/fake_dictation.py) by 50 ms with a new level every 50 ms, as the real writer
thread would. Phase 1: recording only. Phase 2: recording, and the upload worker
delivering BENCH_UPLOADS recordings (default 30) from a fake queue whose ``run_once``
sleeps in 20 steps of BENCH_PART_MS (default 10 ms) — a simulated upload, with a progress
report per step — while the queue panel is open and shows each report.

Environment: BENCH_SECONDS (per phase, default 5), BENCH_UPLOADS, BENCH_PART_MS.
"""

from __future__ import annotations

import os
import random
import threading
import time
from datetime import date

TODAY = date(2026, 11, 27)


def main() -> None:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QObject, QTimer, Signal
    from PySide6.QtWidgets import QApplication

    from backend_client.dictation.dto import RecordingTarget
    from backend_client.dto import Actor
    from benchmarks.heartbeat import Heartbeat, figures
    from desktop.bootstrap import build_patient_presenters
    from desktop.bridges.notifications import ChangeNotifications
    from desktop.presenters.dictation import build_dictation
    from desktop.tasks import TaskRunner
    from tests.gui.fake_chart import FakeChartApi
    from tests.gui.fake_dictation import (
        FakeLocalDictations,
        FakeRecorder,
        FakeRecordingsApi,
        FakeUploadQueue,
    )
    from tests.gui.fake_patients import FakePatientsApi, draft
    from ui.main_window import MainWindow

    seconds = float(os.environ.get("BENCH_SECONDS", "5"))
    uploads = int(os.environ.get("BENCH_UPLOADS", "30"))
    part_s = float(os.environ.get("BENCH_PART_MS", "10")) / 1000
    app = QApplication.instance() or QApplication([])

    class Session(QObject):
        signed_in = Signal(object)
        user_changed = Signal(object)
        locked = Signal()
        unlocked = Signal()

        def __init__(self) -> None:
            super().__init__()
            from datetime import UTC, datetime

            at = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)
            self.actor = Actor(11, "anna", "Dr Anna Demo", ("doctor",),
                               frozenset({"recording.create", "recording.read"}), "s", "w",
                               at, at)

    patients = FakePatientsApi()
    muller = patients.add(draft("Anna", "Müller", date(1984, 3, 12)))
    chart_api = FakeChartApi([muller])
    tasks = TaskRunner()
    window = MainWindow()
    presenters = build_patient_presenters(window, patients, tasks, today=lambda: TODAY,
                                          notifications=ChangeNotifications(), chart=chart_api)
    local = FakeLocalDictations()
    recorder = FakeRecorder(local)
    stored = FakeRecordingsApi()
    for i in range(40):
        stored.add(RecordingTarget(muller.id, "Müller, Anna", priority=("routine", "stat")[i % 2]),
                   duration_ms=30_000 + i * 1000)
    queue = FakeUploadQueue(local, stored, delay=part_s, steps=20)
    session = Session()
    screens = build_dictation(window, presenters.charts, recorder, local, queue, stored, tasks,
                              session)
    window.set_signed_in("Dr Anna Demo (doctor)")
    session.signed_in.emit(session.actor)
    window.show_work()
    window.resize(1280, 800)
    window.show()
    assert presenters.charts is not None
    chart = presenters.charts.open_chart(muller)
    loaded = {"done": False}
    chart.loaded.connect(lambda: loaded.update(done=True))
    while not loaded["done"]:
        app.processEvents()  # benchmark set-up only: the chart's sections load
    chart.view.show_section("recordings", focus=True)
    section = chart.section("recordings")
    view = section.recorder.view  # type: ignore[attr-defined]

    heartbeat = Heartbeat()
    heartbeat.idle_floor(app)

    # The microphone: 50 ms blocks with a speech-like level, from another thread.
    speaking = threading.Event()
    speaking.set()

    def microphone() -> None:
        rng = random.Random(7)
        while speaking.is_set():
            time.sleep(0.05)
            recorder.advance(50, level=min(1.0, abs(rng.gauss(0.4, 0.2))))

    view.record_button.click()
    mic = threading.Thread(target=microphone, daemon=True)
    mic.start()
    polls0 = screens.hub.bridge.polls
    heartbeat.start()
    QTimer.singleShot(int(seconds * 1000), app.quit)
    app.exec()
    polls = screens.hub.bridge.polls - polls0
    print(f"recording, live level at {polls / seconds:.0f} polls/s: heartbeat lateness "
          f"{figures(heartbeat.take())}; shown {view.time_label.text()}")

    # What one poll costs the GUI thread (status read, view updated; painting comes after).
    bridge, costs = screens.hub.bridge, []
    for _ in range(300):
        t = time.perf_counter()
        bridge.poll_now()
        costs.append((time.perf_counter() - t) * 1000)
    print(f"one poll (status and view, without painting): {figures(costs)}")

    # Phase 2: uploads too, the queue panel open.
    caption = "Müller, Anna · born 12 Mar 1984 (42 y) · MRN M0000001"
    for i in range(uploads):
        rec = local.add(11, RecordingTarget(muller.id, caption), state="stopped",
                        duration_ms=60_000 + i)
        queue.enqueue(rec)
    reports = {"n": 0}
    screens.hub.worker.progress.connect(lambda *_a: reports.update(n=reports["n"] + 1))
    screens.show_queue()
    delivered0 = sum(1 for i in queue.items() if i.state == "done")
    polls0 = screens.hub.bridge.polls
    started = time.perf_counter()
    screens.hub.worker.kick()
    heartbeat.start()
    QTimer.singleShot(int(seconds * 1000), app.quit)
    app.exec()
    took = time.perf_counter() - started
    delivered = sum(1 for i in queue.items() if i.state == "done") - delivered0
    polls = screens.hub.bridge.polls - polls0
    print(f"recording and uploading ({delivered} of {uploads} recordings delivered in "
          f"{took:.1f} s, {reports['n']} progress reports shown, {polls / seconds:.0f} "
          f"polls/s): heartbeat lateness {figures(heartbeat.take())}")
    heartbeat.stop()
    speaking.clear()
    mic.join()
    screens.shutdown()
    tasks.shutdown()
    window.close()


if __name__ == "__main__":
    main()
