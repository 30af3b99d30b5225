"""The shell: four store indicators that tell the truth about real servers."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QTimer
from pytestqt.qtbot import QtBot

from backend_client.backend import Backend
from backend_client.dto import STORES, StoreHealth
from backend_client.health import HealthService
from backend_client.local_stack.servers import RedisServer
from backend_client.stores.redis.client import build_redis
from desktop.presenters.store_health import StoreHealthPresenter
from desktop.tasks import InlineTaskRunner, TaskRunner
from ui.main_window import MainWindow

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"


@pytest.fixture
def tasks() -> Iterator[TaskRunner]:
    runner = TaskRunner()
    yield runner
    runner.shutdown()


def _shell(qtbot: QtBot, backend: Backend, tasks: TaskRunner
           ) -> tuple[MainWindow, StoreHealthPresenter]:
    window = MainWindow()
    qtbot.addWidget(window)
    presenter = StoreHealthPresenter(window, HealthService(backend), tasks, 3600, parent=window)
    window.show()
    return window, presenter


def _save(window: MainWindow, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    window.grab().save(str(ARTIFACTS / name))


def test_four_green_indicators_on_live_stores(qtbot: QtBot, backend: Backend,
                                              tasks: TaskRunner) -> None:
    window, presenter = _shell(qtbot, backend, tasks)
    with qtbot.waitSignal(presenter.all_checked, timeout=10_000):
        presenter.start()
    for store in STORES:
        ind = window.store_status.indicators[store]
        assert ind.state == "ok", ind.toolTip()
        assert "ok" in ind.text()
        assert "is reachable at" in ind.toolTip()
    assert "PostgreSQL 16" in window.store_status.indicators["postgres"].toolTip()
    assert window.banner.isHidden()
    _save(window, "shell-live.png")


def test_a_stopped_store_turns_red_with_a_clear_tooltip(
    qtbot: QtBot, backend: Backend, tasks: TaskRunner, own_redis: tuple[RedisServer, str]
) -> None:
    server, url = own_redis
    b = Backend(**{**backend.__dict__, "redis": build_redis(url, timeout_seconds=1.0)})
    window, presenter = _shell(qtbot, b, tasks)
    with qtbot.waitSignal(presenter.all_checked, timeout=10_000):
        presenter.start()
    assert window.store_status.indicators["redis"].state == "ok"

    server.stop()
    with qtbot.waitSignal(presenter.health_changed, timeout=10_000,
                          check_params_cb=lambda h: h.store == "redis"):
        presenter.refresh()
    redis = window.store_status.indicators["redis"]
    assert redis.state == "down"
    assert "down" in redis.text()
    assert redis.toolTip().startswith("Redis is not reachable at 127.0.0.1:")
    assert "connection refused (is the server running?)" in redis.toolTip()
    assert not window.banner.isHidden()
    assert "Redis is not reachable" in window.banner.text()
    assert window.store_status.indicators["postgres"].state == "ok"
    _save(window, "shell-redis-down.png")

    # It comes back: green again and the banner goes away.
    server.start(int(url.rsplit(":", 1)[1].split("/")[0]), "pw")
    with qtbot.waitSignal(presenter.health_changed, timeout=10_000,
                          check_params_cb=lambda h: h.store == "redis"):
        presenter.refresh()
    assert redis.state == "ok"
    assert window.banner.isHidden()


def test_window_stays_responsive_while_a_store_is_frozen(
    qtbot: QtBot, backend: Backend, tasks: TaskRunner, own_redis: tuple[RedisServer, str]
) -> None:
    server, url = own_redis
    b = Backend(**{**backend.__dict__, "redis": build_redis(url, timeout_seconds=1.5)})
    window, presenter = _shell(qtbot, b, tasks)
    with qtbot.waitSignal(presenter.all_checked, timeout=10_000):
        presenter.start()
    pid = server.pid()
    assert pid
    os.kill(pid, signal.SIGSTOP)

    ticks: list[float] = []
    timer = QTimer()
    timer.setInterval(25)
    timer.timeout.connect(lambda: ticks.append(time.monotonic()))
    timer.start()
    started = time.monotonic()
    with qtbot.waitSignal(presenter.health_changed, timeout=15_000,
                          check_params_cb=lambda h: h.store == "redis"):
        presenter.refresh()
    timer.stop()
    waited = time.monotonic() - started
    assert waited >= 1.0  # the check really blocked on the frozen server...
    gaps = [b - a for a, b in zip(ticks, ticks[1:], strict=False)]
    assert len(ticks) >= waited / 0.025 * 0.5 and max(gaps) < 0.5  # ...not the GUI
    assert window.store_status.indicators["redis"].state == "down"
    assert "timeout" in window.store_status.indicators["redis"].toolTip()


class FakeChecker:
    def __init__(self) -> None:
        self.ok = {s: True for s in STORES}
        self.calls: list[str] = []

    def check(self, store: str) -> StoreHealth:
        self.calls.append(store)
        return StoreHealth(store, self.ok[store], "v1", 1.0, "here",
                           "" if self.ok[store] else "connection refused.")


def test_presenter_announces_once_and_only_changes(qtbot: QtBot) -> None:
    window = MainWindow()
    qtbot.addWidget(window)
    checker = FakeChecker()
    presenter = StoreHealthPresenter(window, checker, InlineTaskRunner(), 3600)  # type: ignore[arg-type]
    announced: list[bool] = []
    changes: list[StoreHealth] = []
    presenter.all_checked.connect(lambda: announced.append(True))
    presenter.health_changed.connect(changes.append)
    presenter.start()
    presenter.refresh()
    assert announced == [True]
    assert len(changes) == 4
    checker.ok["mongo"] = False
    presenter.refresh()
    assert [c.store for c in changes[4:]] == ["mongo"]
    assert window.store_status.indicators["mongo"].state == "down"
    assert checker.calls.count("postgres") == 3
    presenter.stop()


def _not_clipped(window: MainWindow) -> list[str]:
    """Status-bar widgets narrower than their text needs."""
    from PySide6.QtWidgets import QLabel

    clipped = []
    for label in window.statusBar().findChildren(QLabel):
        if label.isVisibleTo(window) and label.text() and \
                label.width() < label.sizeHint().width():
            clipped.append(f"{label.objectName() or label.text()!r}: {label.width()} < "
                           f"{label.sizeHint().width()}")
    return clipped


def test_a_wrong_workstation_clock_is_shown_with_both_times_at_any_width(
        qtbot: QtBot, backend: Backend, tasks: TaskRunner) -> None:
    from datetime import UTC, datetime, timedelta

    offset = [-2 * 86400.0]  # this computer is two days behind the database
    window = MainWindow()
    qtbot.addWidget(window)
    checker = HealthService(backend, wall_clock=lambda: datetime.now(UTC).timestamp()
                            + offset[0])
    presenter = StoreHealthPresenter(window, checker, tasks, 3600, parent=window)
    window.set_signed_in("Dr Amara Okafor (doctor)")
    window.show_work()
    window.resize(1280, 800)
    window.show()
    with qtbot.waitSignal(presenter.all_checked, timeout=10_000):
        presenter.start()
    warning = window.clock_warning
    qtbot.waitUntil(warning.isVisible, timeout=5000)
    here = datetime.now() - timedelta(days=2)
    there = datetime.now()
    assert warning.text().startswith(f"\u26a0 Clock off: here {here.day} {here:%b}")
    assert f"database {there.day} {there:%b}" in warning.text()
    assert "2 days 0 h behind PostgreSQL's" in warning.toolTip()
    assert warning.accessibleName() == warning.toolTip()
    assert not window.store_status.compact
    qtbot.waitUntil(lambda: _not_clipped(window) == [], timeout=2000)
    _save(window, "clock-skew-1280.png")

    window.resize(700, 800)
    qtbot.waitUntil(lambda: window.store_status.compact, timeout=2000)
    assert window.store_status.summary.isVisible()
    assert "Stores ok" in window.store_status.summary.text()
    assert "PostgreSQL is reachable" in window.store_status.summary.toolTip()
    assert window.user_label.text() == "Dr Amara Okafor (doctor)"
    # Once the status bar has laid itself out again (as the user sees it): nothing clipped.
    qtbot.waitUntil(lambda: _not_clipped(window) == [], timeout=2000)
    _save(window, "clock-skew-700.png")

    # The clock is set right: the next check takes the warning away.
    offset[0] = 0.0
    presenter.refresh()
    qtbot.waitUntil(lambda: not warning.isVisible(), timeout=5000)
    window.resize(1280, 800)
    qtbot.waitUntil(lambda: not window.store_status.compact, timeout=2000)
    assert window.user_label.text() == "Signed in as Dr Amara Okafor (doctor)"
    presenter.stop()
