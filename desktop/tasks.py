"""The one way to leave the GUI thread.

``TaskRunner.run(fn, on_success, on_failure, pool=...)``: ``fn`` runs on a pool thread and
must not touch any widget; the callbacks run on the GUI thread. Pools are separate so that
a slow upload never delays a search: interactive reads (a few threads), writes (one thread,
so writes from this workstation are serialised), uploads (one thread).
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from PySide6.QtCore import QObject, QThreadPool, QTimer, Signal, Slot

from backend_client.logsafe import log_exception

log = logging.getLogger(__name__)

Pool = Literal["read", "write", "upload"]
OnSuccess = Callable[[Any], None]
OnFailure = Callable[[BaseException], None]


@dataclass
class _Job:
    fn: Callable[[], Any]
    on_success: OnSuccess | None
    on_failure: OnFailure | None
    result: Any = None
    error: BaseException | None = field(default=None)


class TaskRunner(QObject):
    """Runs callables on thread pools and calls back on the GUI thread.

    Signals:
        _job_done(object): internal; emitted on a pool thread, delivered (queued) to the
            GUI thread because this object lives there.
    """

    _job_done = Signal(object)

    def __init__(self, parent: QObject | None = None, *, read_threads: int = 4) -> None:
        super().__init__(parent)
        self._pools: dict[str, QThreadPool] = {}
        for name, count in (("read", read_threads), ("write", 1), ("upload", 1)):
            pool = QThreadPool(self)
            pool.setMaxThreadCount(count)
            self._pools[name] = pool
        self._job_done.connect(self._on_job_done)
        self._finished: deque[_Job] = deque()
        self._delivering = False
        self._closed = False

    def run(self, fn: Callable[[], Any], on_success: OnSuccess | None = None,
            on_failure: OnFailure | None = None, *, pool: Pool = "read") -> None:
        if self._closed:
            return
        job = _Job(fn, on_success, on_failure)
        # The callable overload: Qt wraps it in a QRunnable of its own that no Python
        # object stands for. ``QRunnable.create`` returned a wrapper that outlived its
        # runnable (auto-deleted by the pool, unbeknown to shiboken), so a widget later
        # made at the same address came back from Qt as that stale QRunnable wrapper
        # ("'QRunnable' object has no attribute 'documentLayout'").
        self._pools[pool].start(lambda: self._execute(job))

    def later(self, fn: Callable[[], None]) -> None:
        """``fn`` on the GUI thread once the events already waiting were handled: a long
        piece of GUI work split into turns lets a paint or a key press in between."""
        if not self._closed:
            QTimer.singleShot(0, self, lambda: None if self._closed else fn())

    def _execute(self, job: _Job) -> None:  # on a pool thread
        try:
            job.result = job.fn()
        except BaseException as exc:  # delivered to on_failure on the GUI thread
            job.error = exc
        self._job_done.emit(job)

    @Slot(object)
    def _on_job_done(self, job: _Job) -> None:
        # Jobs that finish together arrive as one batch of queued signals, and Qt handles a
        # batch without a paint or a timer in between: five section answers of ~10 ms each
        # held the GUI thread 50 ms. So each callback gets its own turn of the event loop.
        self._finished.append(job)
        if not self._delivering:
            self._delivering = True
            QTimer.singleShot(0, self, self._deliver_one)

    def _deliver_one(self) -> None:
        if self._closed or not self._finished:
            self._delivering = False
            return
        job = self._finished.popleft()
        if self._finished:
            QTimer.singleShot(0, self, self._deliver_one)
        else:
            self._delivering = False
        try:
            if job.error is None:
                if job.on_success is not None:
                    job.on_success(job.result)
            elif job.on_failure is not None:
                job.on_failure(job.error)
            else:
                log_exception(log, "background task failed", job.error)
        except Exception as exc:  # a callback's bug must not take the event loop down
            log_exception(log, "a background task's callback failed", exc)

    def active(self) -> int:
        return sum(p.activeThreadCount() for p in self._pools.values())

    def shutdown(self, timeout_ms: int = 10_000) -> bool:
        """Drop queued reads, finish queued writes and uploads (each is something a user
        asked to keep), wait for running jobs; callbacks are no longer called."""
        self._closed = True
        done = True
        for name, pool in self._pools.items():
            if name == "read":
                pool.clear()
            done = pool.waitForDone(timeout_ms) and done
        return done


class InlineTaskRunner:
    """Runs tasks synchronously on the calling thread: a fake for presenter tests."""

    def run(self, fn: Callable[[], Any], on_success: OnSuccess | None = None,
            on_failure: OnFailure | None = None, *, pool: Pool = "read") -> None:
        try:
            result = fn()
        except Exception as exc:
            if on_failure is None:
                raise
            on_failure(exc)
            return
        if on_success is not None:
            on_success(result)

    def later(self, fn: Callable[[], None]) -> None:
        fn()

    def shutdown(self, timeout_ms: int = 0) -> bool:
        return True
