"""Garbage collection on the GUI thread only.

Python's cyclic collector runs in whichever thread happens to allocate when a threshold
is crossed — here often a pymongo monitor thread or a pool thread. If a cycle holding a
QObject is collected there, its C++ destructor runs on the wrong thread and Qt may crash.
So automatic collection is switched off and a timer on the GUI thread collects instead
(the approach of qutebrowser's ``misc/utilities`` garbage collector).
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer, Slot


class GuiThreadGarbageCollector(QObject):
    def __init__(self, parent: QObject | None = None, interval_ms: int = 1000) -> None:
        super().__init__(parent)
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self.on_timer_timeout)

    def start(self) -> None:
        gc.disable()
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()
        gc.enable()

    @Slot()
    def on_timer_timeout(self) -> None:
        # Collect the generations whose thresholds were crossed, as automatic gc would.
        counts = gc.get_count()
        thresholds = gc.get_threshold()
        if counts[0] > thresholds[0]:
            generation = 0
            if counts[1] > thresholds[1]:
                generation = 1
                if counts[2] > thresholds[2]:
                    generation = 2
            gc.collect(generation)
