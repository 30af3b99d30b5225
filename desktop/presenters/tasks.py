"""Tasks: a patient's Tasks section in the chart, and my inbox with its status-bar count.

The count follows change events: any event of kind "task" (one that names me in
``notify_user_id`` or one given to a role, which names nobody) refetches ``open_count`` at
once; a reconnect (``resynced``) refetches too. Refetches never pile up: one at a time, and
one more afterwards if something was heard meanwhile.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, tzinfo
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal, Slot
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMainWindow, QWidget

from backend_client.chart.api import TasksApi
from backend_client.chart.dto import Assignee, TaskDraft, TaskItem
from backend_client.dto import PatientRecord
from backend_client.errors import Conflict, ValidationError
from desktop.bridges.notifications import ChangeNotifications
from desktop.presenters.messages import failure_sentence
from desktop.presenters.orders_common import ItemsSection, Runner, write_failure
from ui.orders.common import ReasonDialog
from ui.tasks.inbox import InboxDialog
from ui.tasks.inbox_badge import InboxBadge
from ui.tasks.tasks_view import TaskDialog, TasksTableView

CANCEL_REASONS = ("No longer needed", "Done another way", "Created in error")
INBOX_SHORTCUT = "Ctrl+Shift+I"


def _has_task_event(events: tuple[Any, ...]) -> bool:
    return any(getattr(e, "kind", "") == "task" for e in events)


class TaskWrites:
    """Mark done and cancel-with-reason, for a table of tasks (a chart's or the inbox)."""

    def __init__(self, api: TasksApi, tasks: Runner, view: TasksTableView,
                 record: Callable[[], PatientRecord | None], today: Callable[[], date],
                 after: Callable[[int], None]) -> None:
        self.api, self.tasks, self.view = api, tasks, view
        self.record, self.today, self.after = record, today, after
        self.dialog: ReasonDialog | None = None
        view.done_requested.connect(self.complete)
        view.cancel_requested.connect(self.ask_cancel)

    def complete(self, item: TaskItem) -> None:
        self.view.set_busy(True)

        def ok(new: TaskItem) -> None:
            self.view.set_busy(False)
            self.view.show_message("")
            self.after(new.id)

        def failed(exc: BaseException) -> None:
            self.view.set_busy(False)
            self.view.show_message(write_failure(exc, "task", "The task cannot be marked "
                                                              "done right now"))
            if isinstance(exc, Conflict):
                self.after(item.id)

        self.tasks.run(lambda: self.api.complete_task(item.id, item.version), ok, failed,
                       pool="write")

    def ask_cancel(self, item: TaskItem) -> None:
        dialog = ReasonDialog(self.view, record=self.record(), today=self.today(),
                              title="Cancel task", what=f"Cancel the task: {item.draft.title}"
                              + (f"\nAbout {item.patient_label}"
                                 if item.patient_label and self.record() is None else ""),
                              confirm="Cancel task",
                              missing="Say why the task is cancelled: pick a reason or type "
                                      "one.", quick=CANCEL_REASONS)

        def given(reason: str) -> None:
            dialog.set_busy(True)

            def ok(new: TaskItem) -> None:
                dialog.set_busy(False)
                dialog.accept()
                self.after(new.id)

            def failed(exc: BaseException) -> None:
                dialog.set_busy(False)
                dialog.show_failure(write_failure(exc, "task", "The task cannot be "
                                                               "cancelled right now"))
                if isinstance(exc, Conflict):
                    self.after(item.id)

            self.tasks.run(lambda: self.api.cancel_task(item.id, item.version, reason), ok,
                           failed, pool="write")

        dialog.reason_given.connect(given)
        dialog.finished.connect(lambda _r: self._forget(dialog))
        self.dialog = dialog
        dialog.open()

    def _forget(self, dialog: ReasonDialog) -> None:
        if self.dialog is dialog:
            self.dialog = None
        dialog.deleteLater()


class PatientTasksSection(ItemsSection):
    key = "tasks"
    title = "Tas&ks"
    what = "task"
    actions = frozenset({"task"})

    def __init__(self, record: PatientRecord, api: TasksApi, tasks: Runner, *,
                 today: Callable[[], date], now: Callable[[], datetime],
                 zone: tzinfo | None = None, notifications: ChangeNotifications | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(record, tasks, today=today, zone=zone, parent=parent)
        self.api = api
        self.now = now
        self.view = TasksTableView("patient-tasks", zone, now, with_patient=False)
        self.view.new_requested.connect(self.on_view_new_requested)
        self.writes = TaskWrites(api, tasks, self.view, lambda: self.record, today,
                                 self._after_write)
        self._assignees: tuple[Assignee, ...] | None = None
        # A task event names the task, not the patient, so the chart cannot route it:
        # this section listens itself.
        if notifications is not None:
            notifications.changed.connect(self.on_notifications_changed)

    def widget(self) -> QWidget:
        return self.view

    def _read(self) -> tuple[TaskItem, ...]:
        return self.api.patient_tasks(self.record.id)

    def _show(self, items: tuple[Any, ...]) -> None:
        self.view.show_tasks(items, self.now())

    def _show_message(self, text: str) -> None:
        self.view.show_message(text)

    def close(self) -> bool:
        if self.writes.dialog is not None and self.writes.dialog.isVisible():
            self.writes.dialog.activateWindow()
            return False
        return super().close()

    def _after_write(self, task_id: int) -> None:
        self._fetch(then=lambda: self.view.select_id(task_id))

    @Slot(tuple)
    def on_notifications_changed(self, events: tuple[Any, ...]) -> None:
        if not self._closed and self.loaded and _has_task_event(events):
            self._fetch()

    @Slot()
    def on_view_new_requested(self) -> None:
        if self._assignees is not None:
            self._open_new(self._assignees)
            return

        def got(people: tuple[Assignee, ...]) -> None:
            self._assignees = people
            if not self._closed:
                self._open_new(people)

        def failed(exc: BaseException) -> None:
            self.view.show_message(failure_sentence(exc, "A task cannot be created right "
                                                         "now"))

        self.tasks.run(self.api.assignees, got, failed)

    def _open_new(self, people: tuple[Assignee, ...]) -> None:
        dialog = TaskDialog(self.view, record=self.record, today=self.today(),
                            assignees=people, zone=self.zone)
        dialog.create_requested.connect(lambda d: self._create(dialog, d))
        self._open(dialog)

    def _create(self, dialog: TaskDialog, draft: TaskDraft) -> None:
        dialog.set_busy(True)

        def ok(item: TaskItem) -> None:
            dialog.set_busy(False)
            dialog.accept()
            self._after_write(item.id)

        def failed(exc: BaseException) -> None:
            dialog.set_busy(False)
            if isinstance(exc, ValidationError):
                dialog.show_errors(exc.errors)
            else:
                dialog.show_failure(failure_sentence(exc, "The task cannot be created "
                                                          "right now"))

        self._write(lambda: self.api.create_task(draft), ok, failed)


class InboxPresenter(QObject):
    """The status bar's task count and the inbox (Ctrl+Shift+I or a click on the count).

    Signals:
        open_patient_requested(int): "Open patient" in the inbox.
    """

    open_patient_requested = Signal(int)

    def __init__(self, api: TasksApi, tasks: Runner, notifications: ChangeNotifications, *,
                 today: Callable[[], date], now: Callable[[], datetime],
                 zone: tzinfo | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.api, self.tasks = api, tasks
        self.today, self.now, self.zone = today, now, zone
        self.badge = InboxBadge()
        self.badge.clicked.connect(self.show_inbox)
        self.action = QAction("My &tasks…", self)
        self.action.setShortcut(QKeySequence(INBOX_SHORTCUT))
        self.action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        self.action.triggered.connect(self.show_inbox)
        self.inbox: InboxDialog | None = None
        self.writes: TaskWrites | None = None
        self._window: QWidget | None = None
        self._counting = False
        self._count_again = False
        self._list_token = 0
        self._active = False
        notifications.changed.connect(self.on_notifications_changed)
        notifications.resynced.connect(self.on_notifications_resynced)

    def attach(self, window: QMainWindow) -> QAction:
        """Put the count in ``window``'s status bar (right, before the permanent
        widgets added later) and Ctrl+Shift+I on the window. Returns the action, for a
        menu."""
        self._window = window
        window.statusBar().addPermanentWidget(self.badge)
        window.addAction(self.action)
        self.badge.follow_width_of(window)
        return self.action

    def start(self) -> None:
        """Signed in: count now, and from now on follow events."""
        self._active = True
        self.action.setEnabled(True)
        self.refresh_count()

    def stop(self) -> None:
        """Signed out or locked: nothing shown, nothing fetched."""
        self._active = False
        self.action.setEnabled(False)
        self.badge.set_count(0)
        if self.inbox is not None:
            self.inbox.reject()

    # ---------------------------------------------------------------- count

    def refresh_count(self) -> None:
        if not self._active:
            return
        if self._counting:
            self._count_again = True
            return
        self._counting = True

        def finish() -> None:
            self._counting = False
            if self._count_again:
                self._count_again = False
                self.refresh_count()

        def ok(count: int) -> None:
            if self._active:
                self.badge.set_count(count)
            finish()

        def failed(_exc: BaseException) -> None:
            finish()   # the count stays as it was; the next event or resync tries again

        self.tasks.run(self.api.open_count, ok, failed)

    @Slot(tuple)
    def on_notifications_changed(self, events: tuple[Any, ...]) -> None:
        if _has_task_event(events):
            self.refresh_count()
            self._refresh_list()

    @Slot()
    def on_notifications_resynced(self) -> None:
        self.refresh_count()
        self._refresh_list()

    # ---------------------------------------------------------------- inbox

    @Slot()
    def show_inbox(self) -> None:
        if not self._active:
            return
        if self.inbox is None:
            dialog = InboxDialog(self._window, self.zone, self.now)
            dialog.open_patient_requested.connect(self.on_inbox_open_patient_requested)
            dialog.refresh_requested.connect(self._refresh_list)
            self.writes = TaskWrites(self.api, self.tasks, dialog.tasks, lambda: None,
                                     self.today, self._after_write)
            dialog.finished.connect(lambda _r: self._forget(dialog))
            self.inbox = dialog
            dialog.show()
        else:
            self.inbox.raise_()           # already open, perhaps behind the main window
            self.inbox.activateWindow()
        self._refresh_list()

    def _forget(self, dialog: InboxDialog) -> None:
        if self.inbox is dialog:
            self.inbox = None
            self.writes = None
        dialog.deleteLater()

    def _after_write(self, task_id: int) -> None:
        self.refresh_count()
        self._refresh_list(select=task_id)

    def _refresh_list(self, select: int | None = None) -> None:
        dialog = self.inbox
        if dialog is None or not self._active:
            return
        self._list_token += 1
        token = self._list_token

        def ok(items: tuple[TaskItem, ...]) -> None:
            if token != self._list_token or dialog is not self.inbox:
                return
            dialog.tasks.show_tasks(items, self.now())
            dialog.tasks.show_message("")
            if select is not None:
                dialog.tasks.select_id(select)
            elif items and dialog.tasks.selected() is None:
                dialog.tasks.table.selectRow(0)

        def failed(exc: BaseException) -> None:
            if token == self._list_token and dialog is self.inbox:
                dialog.tasks.show_message(failure_sentence(exc, "Your tasks cannot be "
                                                                "shown right now"))

        self.tasks.run(self.api.inbox, ok, failed)

    @Slot(int)
    def on_inbox_open_patient_requested(self, patient_id: int) -> None:
        self.open_patient_requested.emit(patient_id)


def make_patient_tasks_section(record: PatientRecord, api: TasksApi, tasks: Runner, *,
                               notifications: ChangeNotifications | None = None,
                               today: Callable[[], date] = date.today,
                               now: Callable[[], datetime] | None = None,
                               zone: tzinfo | None = None) -> PatientTasksSection:
    """The chart's Tasks section for ``record``; with ``notifications`` it follows task
    events itself (they name the task, not the patient)."""
    return PatientTasksSection(record, api, tasks, today=today,
                               now=now or (lambda: datetime.now().astimezone()), zone=zone,
                               notifications=notifications)
