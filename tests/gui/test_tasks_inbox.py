"""My inbox and its count in the main window's status bar: hidden at 0, "N tasks" (short in
a narrow window), live on task events and after a reconnect, opened by Ctrl+Shift+I or a
click; due first, overdue said so; done from the inbox lowers the count."""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from backend_client.chart.dto import TaskDraft
from backend_client.sync.events import ChangeEvent
from desktop.bridges.notifications import ChangeNotifications
from desktop.presenters.tasks import InboxPresenter
from desktop.tasks import InlineTaskRunner, TaskRunner
from tests.gui.fake_orders import CLOCK, FakeTasksApi
from ui.main_window import MainWindow
from ui.tasks.inbox import InboxDialog

TODAY = date(2026, 12, 2)
NOW = CLOCK + timedelta(hours=2)
ZONE = ZoneInfo("Europe/Berlin")


@pytest.fixture
def api() -> FakeTasksApi:
    api = FakeTasksApi()
    api.add(TaskDraft("Sign the discharge letter", assignee_user_id=11,
                      due_at=CLOCK + timedelta(days=2)))
    api.add(TaskDraft("Call with blood results", patient_id=7, assignee_role="doctor",
                      due_at=CLOCK - timedelta(hours=1), priority="high"))
    api.add(TaskDraft("Nurses' task", patient_id=7, assignee_role="nurse"))
    return api


def window_with_inbox(qtbot: QtBot, api: FakeTasksApi, notifications: ChangeNotifications,
                      runner: TaskRunner | InlineTaskRunner | None = None
                      ) -> tuple[MainWindow, InboxPresenter]:
    window = MainWindow()
    qtbot.addWidget(window)
    presenter = InboxPresenter(api, runner or InlineTaskRunner(), notifications,
                               today=lambda: TODAY, now=lambda: NOW, zone=ZONE, parent=window)
    action = presenter.attach(window)
    assert action.shortcut().toString() == "Ctrl+Shift+I"
    window.set_signed_in("Dr Anna Demo (doctor)")
    window.resize(1280, 800)
    window.show()
    qtbot.waitExposed(window)
    presenter.start()
    return window, presenter


def test_the_badge_counts_my_open_tasks_and_follows_events(
        qtbot: QtBot, api: FakeTasksApi) -> None:
    notifications = ChangeNotifications()
    window, presenter = window_with_inbox(qtbot, api, notifications)
    badge = presenter.badge
    assert badge.isVisible() and badge.text() == "2 tasks"
    assert badge.parent() is not None and badge.window() is window
    # A task given to me elsewhere: the count follows at once.
    made = api.add(TaskDraft("Review X-ray", assignee_user_id=11))
    notifications.changed.emit((ChangeEvent("task", made.id, 1, "created",
                                            notify_user_id=11),))
    assert badge.text() == "3 tasks"
    # Not a task event: no refetch.
    before = len(api.calls)
    notifications.changed.emit((ChangeEvent("appointment", 3),))
    assert len(api.calls) == before
    # Done elsewhere (an event naming nobody, as for a role's task), then a reconnect.
    api.complete_task(made.id, 1)
    api.complete_task(1, 1)
    notifications.changed.emit((ChangeEvent("task", made.id, 2, "done"),))
    assert badge.text() == "1 task"
    api.complete_task(2, 1)
    notifications.resynced.emit()
    assert badge.isHidden()                                     # hidden at 0
    presenter.stop()
    assert not presenter.action.isEnabled()


def test_the_count_arrives_within_a_second_off_the_gui_thread(
        qtbot: QtBot, api: FakeTasksApi, runner: TaskRunner) -> None:
    notifications = ChangeNotifications()
    _window, presenter = window_with_inbox(qtbot, api, notifications, runner)
    qtbot.waitUntil(lambda: presenter.badge.text() == "2 tasks", timeout=1000)
    for n in range(5):                                          # a burst of events
        api.add(TaskDraft(f"Burst {n}", assignee_user_id=11))
        notifications.changed.emit((ChangeEvent("task", 10 + n, notify_user_id=11),))
    qtbot.waitUntil(lambda: presenter.badge.text() == "7 tasks", timeout=1000)
    # One count at a time: a burst never piles up requests.
    assert sum(1 for c in api.calls if c[0] == "open_count") <= 3


def test_ctrl_shift_i_and_the_badge_open_the_inbox_due_first(
        qtbot: QtBot, api: FakeTasksApi) -> None:
    notifications = ChangeNotifications()
    window, presenter = window_with_inbox(qtbot, api, notifications)
    opened: list[int] = []
    presenter.open_patient_requested.connect(opened.append)
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=2000)
    qtbot.keyClick(window, Qt.Key.Key_I,
                   Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    inbox = presenter.inbox
    assert isinstance(inbox, InboxDialog) and inbox.isVisible()
    model = inbox.tasks.model
    rows = [[model.index(r, c).data() for c in range(model.columnCount())]
            for r in range(model.rowCount())]
    assert [r[2] for r in rows] == ["Call with blood results", "Sign the discharge letter"]
    assert rows[0][0] == "⚠ Overdue: today 08:30"
    assert rows[0][3] == "Müller, Anna · 12 Mar 1984 · MRN 000123"
    assert rows[1][3] == "—"
    assert inbox.tasks.selected().draft.title == "Call with blood results"
    inbox.open_button.click()
    assert opened == [7]

    inbox.tasks.buttons["done"].click()                         # done from the inbox
    assert presenter.badge.text() == "1 task"
    assert [model.index(r, 2).data() for r in range(model.rowCount())] == [
        "Sign the discharge letter"]
    inbox.reject()
    assert presenter.inbox is None
    presenter.badge.click()                                     # the badge opens it too
    assert presenter.inbox is not None and presenter.inbox.isVisible()
    # A new task while it is open shows in it at once.
    api.add(TaskDraft("Urgent callback", assignee_user_id=11, due_at=CLOCK))
    notifications.changed.emit((ChangeEvent("task", 9, notify_user_id=11),))
    inbox_model = presenter.inbox.tasks.model
    assert inbox_model.index(0, 2).data() == "Urgent callback"


def test_the_badge_is_short_in_a_narrow_window(qtbot: QtBot, api: FakeTasksApi) -> None:
    window, presenter = window_with_inbox(qtbot, api, ChangeNotifications())
    window.resize(700, 800)
    qtbot.waitUntil(lambda: presenter.badge.text() == "☑ 2", timeout=2000)
    assert presenter.badge.accessibleName() == "2 open tasks: open the inbox"
    window.resize(1280, 800)
    qtbot.waitUntil(lambda: presenter.badge.text() == "2 tasks", timeout=2000)
