"""The composition root: settings → store clients → services → presenters → windows.

The only place that builds things. Opening the backend may start the local stack, so it
runs on the task runner; the window is shown first and fills in when the stores answer.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

from backend_client.config import Settings
from backend_client.errors import DraError
from desktop.presenters.store_health import StoreHealthPresenter
from desktop.tasks import TaskRunner
from ui.main_window import MainWindow

if TYPE_CHECKING:
    from backend_client.backend import Backend
    from backend_client.health import HealthService

log = logging.getLogger(__name__)


def prepare_backend(settings: Settings) -> tuple[Backend, HealthService]:
    """Blocking: start/reuse the local stack where needed and bring the schema up to date.

    On the embedded default the app owns its databases, so it migrates them itself; a
    clinic deployment is migrated by its administrator (``dr-assistant-admin migrate``).
    The store libraries are imported here, on a pool thread, not before the first paint.
    """
    from backend_client.backend import open_backend
    from backend_client.health import HealthService

    backend = open_backend(settings)
    if backend.embedded:
        from backend_client.schema import migrate

        try:
            migrate(backend)
        except Exception:
            backend.close()
            raise
    return backend, HealthService(backend, restart_local=True)


class AppSignals(QObject):
    """Signals:
        ready(): the first screen has its data (every store checked once).
        failed(str): the stores could not be opened; the sentence says why.
    """

    ready = Signal()
    failed = Signal(str)


class App:
    """Everything the running application holds, built by :func:`build_app`."""

    def __init__(self, settings: Settings, tasks: TaskRunner, window: MainWindow) -> None:
        self.settings = settings
        self.tasks = tasks
        self.window = window
        self.signals = AppSignals()
        self.backend: Backend | None = None
        self.health: StoreHealthPresenter | None = None
        self.startup_error: str | None = None

    def start(self) -> None:
        self.tasks.run(lambda: prepare_backend(self.settings), self._on_backend_ready,
                       self._on_backend_failed, pool="write")

    def _on_backend_ready(self, built: tuple[Backend, HealthService]) -> None:
        backend, health = built
        self.backend = backend
        self.health = StoreHealthPresenter(
            self.window, health, self.tasks,
            self.settings.health_interval_seconds, parent=self.window,
        )
        self.window.refresh_requested.connect(self.health.refresh)
        self.health.all_checked.connect(self.signals.ready)
        self.health.start()

    def _on_backend_failed(self, exc: BaseException) -> None:
        sentence = str(exc) if isinstance(exc, DraError | RuntimeError) else (
            f"{type(exc).__name__}; see the log in {self.settings.data_dir / 'logs'}."
        )
        log.error("starting the backend failed: %s", type(exc).__name__, exc_info=exc)
        self.startup_error = sentence
        self.window.show_startup_error(sentence)
        self.signals.failed.emit(sentence)

    def shutdown(self) -> None:
        if self.health is not None:
            self.health.stop()
        self.tasks.shutdown()
        if self.backend is not None:
            self.backend.close()



def build_app(settings: Settings) -> App:
    tasks = TaskRunner()
    window = MainWindow()
    return App(settings=settings, tasks=tasks, window=window)
