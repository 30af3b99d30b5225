"""The upload worker: delivers the queue's items on the TaskRunner's "upload" pool.

While something is due it calls ``UploadQueueApi.run_once`` (one item per call, blocking,
never on the GUI thread), one call after the other; when nothing is due it asks
``next_due_in()`` (off the GUI thread too: it reads SQLite) and sleeps on a QTimer until
then (at most ``MAX_SLEEP_S``, so that an item queued by another process is not missed).
Each call's item, the count still waiting and each progress report reach the GUI thread as
signals. ``kick()`` (a recording was queued, Retry) wakes it at once; ``stop()`` (app exit,
sign-out does not stop it: a stopped recording uploads whoever is signed in) stops
scheduling more work.
"""

from __future__ import annotations

import logging
import threading

from PySide6.QtCore import QObject, QTimer, Signal

from backend_client.dictation.api import UploadQueueApi
from backend_client.dictation.dto import QueueItem
from backend_client.logsafe import log_exception
from desktop.tasks import InlineTaskRunner, TaskRunner

log = logging.getLogger(__name__)

MAX_SLEEP_S = 60.0
ERROR_SLEEP_S = 5.0
# Progress is reported from the upload thread for every part; the GUI hears of it at most
# this often, so a fast upload does not flood the event loop.
PROGRESS_EVERY_S = 0.1


class _Progress(QObject):
    """Carries progress from the upload thread to the GUI thread (queued signal)."""

    reported = Signal(str, int, int)


class UploadWorker(QObject):
    """Signals:
        item_changed(object): a ``QueueItem`` in its new state after a delivery attempt.
        progress(str, int, int): recording id, bytes sent, bytes in all.
        waiting_changed(int): how many recordings are not yet delivered.
        idle(): nothing due any more (tests, benchmarks).
    """

    item_changed = Signal(object)
    progress = Signal(str, int, int)
    waiting_changed = Signal(int)
    idle = Signal()

    def __init__(self, queue: UploadQueueApi, tasks: TaskRunner | InlineTaskRunner,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._queue = queue
        self._tasks = tasks
        self._running = False     # a run_once (or next_due_in) is on the pool now
        self._again = False       # kicked while running: look again when it ends
        self._stopped = True
        self.waiting = 0
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._step)
        self._progress = _Progress(self)
        self._progress.reported.connect(self.progress)
        self._last_report = 0.0
        self._report_lock = threading.Lock()

    def start(self) -> None:
        self._stopped = False
        self.kick()

    def stop(self) -> None:
        self._stopped = True
        self._timer.stop()

    def sleeping_for(self) -> float | None:
        """Seconds until the next look, None when not sleeping (tests)."""
        return self._timer.remainingTime() / 1000 if self._timer.isActive() else None

    def kick(self) -> None:
        """Look at the queue now (something was queued or retried)."""
        if self._stopped:
            return
        if self._running:
            self._again = True
            return
        self._timer.stop()
        self._step()

    def _report(self, recording_id: str, sent: int, total: int) -> None:  # upload thread
        import time

        now = time.monotonic()
        with self._report_lock:
            if sent < total and now - self._last_report < PROGRESS_EVERY_S:
                return
            self._last_report = now
        self._progress.reported.emit(recording_id, sent, total)

    def _step(self) -> None:
        if self._stopped or self._running:
            return
        self._running = True
        self._again = False
        queue = self._queue

        def work() -> tuple[QueueItem | None, int, float | None]:
            item = queue.run_once(self._report)
            return item, queue.waiting(), (None if item is not None else queue.next_due_in())

        self._tasks.run(work, self._done, self._failed, pool="upload")

    def _done(self, result: tuple[QueueItem | None, int, float | None]) -> None:
        self._running = False
        item, waiting, due_in = result
        if item is not None:
            self.item_changed.emit(item)
        if waiting != self.waiting:
            self.waiting = waiting
            self.waiting_changed.emit(waiting)
        if self._stopped:
            return
        if item is not None or self._again:
            # Each attempt is its own pool job: the GUI gets a turn in between.
            self._tasks.later(self._step)
            return
        if due_in is None:
            self._timer.start(int(MAX_SLEEP_S * 1000))
            self.idle.emit()
        else:
            self._timer.start(int(min(MAX_SLEEP_S, max(0.0, due_in)) * 1000))
            if due_in > 0:
                self.idle.emit()

    def _failed(self, exc: BaseException) -> None:
        # run_once keeps its own errors in the item; this is the queue itself failing
        # (its file unreadable): look again a little later, never in a tight loop.
        self._running = False
        log_exception(log, "the upload queue could not be read", exc)
        if not self._stopped:
            self._timer.start(int(ERROR_SLEEP_S * 1000))
