from __future__ import annotations

import threading
import time

from PySide6.QtCore import QThread, QTimer
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from desktop.tasks import TaskRunner


def test_work_runs_off_the_gui_thread_and_callbacks_on_it(qtbot: QtBot) -> None:
    runner = TaskRunner()
    seen: dict[str, object] = {}

    def work() -> int:
        seen["work_thread"] = threading.get_ident()
        return 42

    def done(value: int) -> None:
        seen["value"] = value
        seen["callback_on_gui"] = QThread.currentThread() is QApplication.instance().thread()

    runner.run(work, done)
    qtbot.waitUntil(lambda: "value" in seen, timeout=5000)
    assert seen["value"] == 42
    assert seen["work_thread"] != threading.get_ident()
    assert seen["callback_on_gui"] is True
    runner.shutdown()


def test_failures_reach_on_failure(qtbot: QtBot) -> None:
    runner = TaskRunner()
    errors: list[BaseException] = []

    def boom() -> None:
        raise ValueError("bad")

    runner.run(boom, lambda _: None, errors.append)
    qtbot.waitUntil(lambda: bool(errors), timeout=5000)
    assert isinstance(errors[0], ValueError)
    runner.shutdown()


def test_gui_keeps_running_while_a_task_blocks(qtbot: QtBot) -> None:
    runner = TaskRunner()
    ticks: list[float] = []
    timer = QTimer()
    timer.setInterval(20)
    timer.timeout.connect(lambda: ticks.append(time.monotonic()))
    timer.start()
    finished: list[bool] = []
    runner.run(lambda: time.sleep(0.6), lambda _: finished.append(True))
    qtbot.waitUntil(lambda: bool(finished), timeout=5000)
    timer.stop()
    assert len(ticks) >= 10  # the event loop turned while the task slept
    runner.shutdown()


def test_writes_are_serialised(qtbot: QtBot) -> None:
    runner = TaskRunner()
    order: list[int] = []
    active = []
    overlap = []

    def write(i: int) -> int:
        active.append(i)
        if len(active) > 1:
            overlap.append(i)
        time.sleep(0.02)
        active.remove(i)
        return i

    for i in range(5):
        runner.run(lambda i=i: write(i), order.append, pool="write")
    qtbot.waitUntil(lambda: len(order) == 5, timeout=5000)
    assert order == [0, 1, 2, 3, 4]
    assert overlap == []
    runner.shutdown()


def test_after_shutdown_no_callbacks_run(qtbot: QtBot) -> None:
    runner = TaskRunner()
    called: list[int] = []
    runner.shutdown()
    runner.run(lambda: 1, called.append)
    qtbot.wait(100)
    assert called == []


def test_answers_that_arrive_together_are_handed_over_one_per_turn(qtbot: QtBot) -> None:
    """Five answers ready at once (each callback ~20 ms of GUI work, like filling a long
    list) do not hold the GUI thread 100 ms: a timer (a paint, a key press) runs between
    them."""
    runner = TaskRunner()
    seen: list[str] = []
    timer = QTimer()
    timer.setInterval(0)
    timer.timeout.connect(lambda: seen.append("tick") if seen else None)

    def heavy(i: int) -> None:
        seen.append(f"answer {i}")
        time.sleep(0.02)

    for i in range(5):
        runner.run(lambda i=i: i, heavy, pool="write")   # one thread: they finish in order
    time.sleep(0.2)   # the GUI thread busy: every job finishes and queues its answer
    timer.start()
    qtbot.waitUntil(lambda: sum(s.startswith("answer") for s in seen) == 5, timeout=5000)
    timer.stop()
    answers = [i for i, s in enumerate(seen) if s.startswith("answer")]
    assert [seen[i] for i in answers] == [f"answer {i}" for i in range(5)]  # in order
    assert all("tick" in seen[a:b] for a, b in zip(answers, answers[1:], strict=False))
    runner.shutdown()
