"""How late a 10 ms timer on the GUI thread fires: the stall measure the GUI benchmarks
share (bench_gui_stalls, bench_chart_gui). Import it inside ``main()``, after
``QT_QPA_PLATFORM`` is set."""

from __future__ import annotations

import os
import statistics
import time

from PySide6.QtCore import QCoreApplication, Qt, QTimer

HEARTBEAT_MS = 10


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def figures(values: list[float]) -> str:
    """"p50 0.3 ms, p99 25.0 ms, max 49.9 ms"."""
    return (f"p50 {statistics.median(values):.1f} ms, p99 {pct(values, 0.99):.1f} ms, "
            f"max {max(values):.1f} ms")


class Heartbeat:
    """A precise timer every HEARTBEAT_MS; ``lateness`` collects how late each beat was."""

    def __init__(self) -> None:
        self.lateness: list[float] = []
        self._last = 0.0
        self.timer = QTimer()
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(HEARTBEAT_MS)
        self.timer.timeout.connect(self._beat)

    def _beat(self) -> None:
        t = time.perf_counter()
        if self._last:
            self.lateness.append(max(0.0, (t - self._last) * 1000 - HEARTBEAT_MS))
        self._last = t

    def start(self) -> None:
        self.timer.start()

    def stop(self) -> None:
        self.timer.stop()

    def take(self) -> list[float]:
        """The lateness so far; the next beats count afresh."""
        taken, self.lateness, self._last = self.lateness, [], 0.0
        return taken

    def idle_floor(self, app: QCoreApplication) -> None:
        """2 s with nothing happening (what this machine's load alone costs; the figures
        after it are read against this), printed."""
        self.start()
        QTimer.singleShot(2000, app.quit)
        app.exec()
        idle = self.take()
        print(f"idle heartbeat (2 s, the floor): {figures(idle)}; load average "
              f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
