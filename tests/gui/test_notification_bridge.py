"""The notification bridge on real Redis: what other workstations publish arrives on the GUI
thread, one signal per batch; a Redis outage toggles live_changed and the status bar's
"Live updates paused"; stopping never holds the GUI thread."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from urllib.parse import urlsplit

import pytest
from PySide6.QtCore import QThread
from PySide6.QtWidgets import QApplication, QMainWindow
from pytestqt.qtbot import QtBot

from backend_client.backend import Backend
from backend_client.local_stack.servers import RedisServer
from backend_client.stores.redis.client import build_redis
from backend_client.sync.events import ChangeEvent, RedisChangePublisher
from desktop.bridges.notifications import RedisNotificationBridge
from tests.gui.conftest import save_screenshot
from ui.sync_status import PAUSED_TIP, SyncStatusView


@pytest.fixture
def make_bridge() -> Iterator[Callable[..., RedisNotificationBridge]]:
    made: list[RedisNotificationBridge] = []

    def make(redis: object) -> RedisNotificationBridge:
        bridge = RedisNotificationBridge(redis, ping_after=0.4, answer_within=0.8,
                                         backoff_cap=0.5)
        made.append(bridge)
        return bridge

    yield make
    for bridge in made:
        bridge.stop(2.0)


def test_changes_arrive_on_the_gui_thread_in_one_emission_per_batch(
    qtbot: QtBot, backend: Backend, make_bridge: Callable[..., RedisNotificationBridge]
) -> None:
    bridge = make_bridge(backend.redis)
    with qtbot.waitSignals([bridge.live_changed, bridge.resynced], timeout=5000):
        bridge.start()
    assert bridge.live is True
    received: list[tuple[ChangeEvent, ...]] = []
    threads: list[QThread] = []

    def on_changed(events: tuple[ChangeEvent, ...]) -> None:  # a plain function, no QObject
        received.append(events)
        threads.append(QThread.currentThread())

    bridge.changed.connect(on_changed)
    other_desk = RedisChangePublisher(build_redis(backend.settings.redis_url or ""))
    # Three separate publishes while the GUI thread is busy (it runs no events meanwhile):
    # the subscriber hears three batches; the GUI gets one signal with all of them.
    for i in (901, 902, 903):
        other_desk.publish([ChangeEvent(kind="patient", id=i, workstation="ws-b")])
        time.sleep(0.25)
    time.sleep(0.5)
    assert received == []  # nothing reached the GUI thread behind its back
    qtbot.waitUntil(lambda: bool(received), timeout=3000)
    qtbot.wait(300)  # and nothing more follows
    assert [[e.id for e in batch] for batch in received] == [[901, 902, 903]]
    assert threads == [QApplication.instance().thread()]  # type: ignore[union-attr]


def test_an_outage_shows_in_the_status_bar_and_recovery_resyncs(
    qtbot: QtBot, own_redis: tuple[RedisServer, str],
    make_bridge: Callable[..., RedisNotificationBridge]
) -> None:
    server, url = own_redis
    port = urlsplit(url).port
    bridge = make_bridge(build_redis(url, timeout_seconds=1.0))
    window = QMainWindow()
    qtbot.addWidget(window)
    status = SyncStatusView()
    window.statusBar().addPermanentWidget(status)
    bridge.live_changed.connect(status.show_live)
    window.resize(700, 200)
    window.show()
    with qtbot.waitSignals([bridge.live_changed, bridge.resynced], timeout=5000):
        bridge.start()
    assert status.isHidden()

    with qtbot.waitSignal(bridge.live_changed, timeout=5000,
                          check_params_cb=lambda live: live is False):
        server.stop()
    assert status.isVisible() and status.text() == "\u26a0 Live updates paused"
    assert status.toolTip() == PAUSED_TIP
    path = save_screenshot(window, "sync-status-paused.png")
    assert path.exists()

    with qtbot.waitSignals([bridge.live_changed, bridge.resynced], timeout=10000,
                           check_params_cbs=[lambda live: live is True, lambda: True]):
        server.start(port, "pw")
    assert status.isHidden() and bridge.live is True


def test_stopping_never_holds_the_gui_thread_even_with_redis_frozen(
    qtbot: QtBot, own_redis: tuple[RedisServer, str],
    make_bridge: Callable[..., RedisNotificationBridge]
) -> None:
    import os
    import signal

    server, url = own_redis
    bridge = make_bridge(build_redis(url, timeout_seconds=1.0))
    with qtbot.waitSignal(bridge.resynced, timeout=5000):
        bridge.start()
    pid = server.pid()
    assert pid
    os.kill(pid, signal.SIGSTOP)
    with qtbot.waitSignal(bridge.live_changed, timeout=5000,
                          check_params_cb=lambda live: live is False):
        pass
    qtbot.wait(300)  # now inside a reconnect that waits on the frozen server
    started = time.monotonic()
    bridge.stop(0.5)
    assert time.monotonic() - started < 1.0
