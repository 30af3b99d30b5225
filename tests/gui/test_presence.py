"""PresencePresenter with a fake presence service (our own seam) and the base notification
bridge emitted by hand: heartbeats off the GUI thread, the state follows the chart and the
lock, the list refreshes on presence events and resyncs, signing out leaves."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pytestqt.qtbot import QtBot

from backend_client.dto import PresenceInfo
from backend_client.errors import Unavailable
from backend_client.sync.events import ChangeEvent
from desktop.bridges.notifications import ChangeNotifications
from desktop.presenters.presence import PresencePresenter
from desktop.tasks import InlineTaskRunner, TaskRunner

SINCE = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


class FakePresence:
    def __init__(self) -> None:
        self.calls: list[str] = []
        self.beats: list[str] = []
        self.left = 0
        self.reads = 0
        self.down = False
        self.entries: tuple[PresenceInfo, ...] = (
            PresenceInfo(7, "Dr Demo", "room-1", "with_patient", SINCE, provider_id=3),)

    def beat(self, state: str) -> None:
        if self.down:
            raise Unavailable("redis", "down")
        self.beats.append(state)
        self.calls.append(f"beat {state}")

    def leave(self) -> None:
        self.left += 1
        self.calls.append("leave")

    def present(self) -> tuple[PresenceInfo, ...]:
        self.reads += 1
        if self.down:
            raise Unavailable("redis", "down")
        return self.entries


@pytest.fixture
def notifications() -> ChangeNotifications:
    return ChangeNotifications()


def test_signing_in_beats_and_lists_and_the_state_follows_chart_and_lock(
    qtbot: QtBot, notifications: ChangeNotifications
) -> None:
    fake = FakePresence()
    presenter = PresencePresenter(fake, InlineTaskRunner(), notifications)
    with qtbot.waitSignal(presenter.presence_changed) as shown:
        presenter.signed_in()
    assert fake.beats == ["available"]
    assert shown.args == [fake.entries]

    presenter.set_with_patient(True)
    presenter.set_with_patient(True)  # no change, no extra heartbeat
    presenter.set_away(True)
    presenter.set_away(False)
    presenter.set_with_patient(False)
    assert fake.beats == ["available", "with_patient", "away", "with_patient", "available"]


def test_the_list_refreshes_on_presence_events_and_resyncs_only(
    qtbot: QtBot, notifications: ChangeNotifications
) -> None:
    fake = FakePresence()
    presenter = PresencePresenter(fake, InlineTaskRunner(), notifications)
    presenter.signed_in()
    assert fake.reads == 1
    notifications.changed.emit((ChangeEvent(kind="patient", id=1),))
    assert fake.reads == 1  # a patient change is not about who is where
    fake.entries = ()
    with qtbot.waitSignal(presenter.presence_changed) as shown:
        notifications.changed.emit((ChangeEvent(kind="patient", id=1),
                                    ChangeEvent(kind="presence", id=7, action="away")))
    assert fake.reads == 2 and shown.args == [()]
    with qtbot.waitSignal(presenter.presence_changed):
        notifications.resynced.emit()
    assert fake.reads == 3


def test_signing_out_stops_the_heartbeat_leaves_and_empties_the_list(
    qtbot: QtBot, notifications: ChangeNotifications
) -> None:
    fake = FakePresence()
    presenter = PresencePresenter(fake, InlineTaskRunner(), notifications, interval_ms=50)
    presenter.signed_in()
    qtbot.waitUntil(lambda: len(fake.beats) >= 3, timeout=2000)  # the timer beats
    with qtbot.waitSignal(presenter.presence_changed) as shown:
        presenter.signed_out()
    assert fake.left == 1 and shown.args == [()]
    beats = len(fake.beats)
    qtbot.wait(200)
    assert len(fake.beats) == beats  # no heartbeat after signing out
    notifications.resynced.emit()
    assert presenter.present == ()  # nor a list for nobody


def test_redis_down_costs_presence_only(
    qtbot: QtBot, notifications: ChangeNotifications
) -> None:
    fake = FakePresence()
    fake.down = True
    presenter = PresencePresenter(fake, InlineTaskRunner(), notifications, interval_ms=50)
    presenter.signed_in()  # no exception reaches the GUI
    fake.down = False
    qtbot.waitUntil(lambda: len(fake.beats) > 0, timeout=2000)  # the next beat goes through
    with qtbot.waitSignal(presenter.presence_changed):
        notifications.resynced.emit()
    presenter.signed_out()


def test_heartbeats_run_off_the_gui_thread(qtbot: QtBot,
                                           notifications: ChangeNotifications) -> None:
    import threading

    seen: list[bool] = []

    class Recording(FakePresence):
        def beat(self, state: str) -> None:
            seen.append(threading.current_thread() is threading.main_thread())
            super().beat(state)

    runner = TaskRunner()
    try:
        fake = Recording()
        presenter = PresencePresenter(fake, runner, notifications)
        with qtbot.waitSignal(presenter.presence_changed, timeout=3000):
            presenter.signed_in()
        qtbot.waitUntil(lambda: bool(seen), timeout=3000)
        assert seen == [False]
        presenter.signed_out()
    finally:
        runner.shutdown()


class Person:
    def __init__(self, user_id: int) -> None:
        self.user_id = user_id


def test_another_person_signing_in_here_removes_the_previous_entry_first(
    qtbot: QtBot, notifications: ChangeNotifications
) -> None:
    fake = FakePresence()
    presenter = PresencePresenter(fake, InlineTaskRunner(), notifications)
    presenter.signed_in(Person(1))
    presenter.set_with_patient(True)
    presenter.set_away(True)  # locked
    presenter.signed_in(Person(1))  # the same person unlocks: their entry stays
    assert fake.calls == ["beat available", "beat with_patient", "beat away",
                          "beat available"]
    presenter.signed_in(Person(2))  # someone else signs in at the locked workstation
    assert fake.calls[-2:] == ["leave", "beat available"]
