"""A patient's Tasks section against the fake TasksApi: due first with overdue ones said so,
a new task given to a person or a role, done, cancelled with a reason, and other
workstations' task events followed."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot

from backend_client.chart.dto import TaskDraft
from backend_client.sync.events import ChangeEvent
from desktop.bridges.notifications import ChangeNotifications
from desktop.presenters.tasks import PatientTasksSection, make_patient_tasks_section
from desktop.tasks import InlineTaskRunner
from tests.gui.fake_orders import CLOCK, FakeTasksApi, patient
from ui.orders.common import ReasonDialog
from ui.tasks.tasks_view import TaskDialog

TODAY = date(2026, 12, 2)
NOW = CLOCK + timedelta(hours=2)
ZONE = ZoneInfo("Europe/Berlin")   # the workstation's zone, fixed (records are UTC)


@pytest.fixture
def api() -> FakeTasksApi:
    api = FakeTasksApi()
    api.add(TaskDraft("Call with blood results", patient_id=7, assignee_user_id=11,
                      due_at=CLOCK + timedelta(days=1), priority="high"))
    api.add(TaskDraft("Book a dressing change", patient_id=7, assignee_role="nurse",
                      due_at=CLOCK - timedelta(hours=3)))
    api.add(TaskDraft("Someone else's patient", patient_id=8, assignee_user_id=11))
    return api


@pytest.fixture
def notifications() -> ChangeNotifications:
    return ChangeNotifications()


@pytest.fixture
def section(qtbot: QtBot, api: FakeTasksApi,
            notifications: ChangeNotifications) -> PatientTasksSection:
    section = make_patient_tasks_section(patient(), api, InlineTaskRunner(),
                                         notifications=notifications, today=lambda: TODAY,
                                         now=lambda: NOW, zone=ZONE)
    qtbot.addWidget(section.widget())
    section.widget().resize(1000, 400)
    section.widget().show()
    qtbot.waitExposed(section.widget())
    section.load(lambda: None)
    return section


def column(section: PatientTasksSection, c: int) -> list[str]:
    model = section.view.model
    return [model.index(r, c).data() for r in range(model.rowCount())]


def test_tasks_due_first_and_overdue_said_in_words(
        section: PatientTasksSection, qtmodeltester: ModelTester) -> None:
    assert (section.key, section.title) == ("tasks", "Tas&ks")
    assert column(section, 2) == ["Book a dressing change", "Call with blood results"]
    due = column(section, 0)
    assert due == ["⚠ Overdue: today 06:30", "3 Dec 2026 09:30"]
    assert column(section, 3) == ["All nurses", "Dr Anna Demo"]
    assert column(section, 1) == ["Normal", "High"]
    font = section.view.model.index(0, 2).data(Qt.ItemDataRole.FontRole)
    assert font is not None and font.bold()                     # not colour alone
    assert section.view.status.text() == "2 open, 1 overdue."
    qtmodeltester.check(section.view.model)


def test_a_new_task_goes_to_a_person_or_a_role(
        qtbot: QtBot, section: PatientTasksSection, api: FakeTasksApi) -> None:
    section.widget().activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is section.widget(), timeout=2000)
    qtbot.keyClick(section.view.table, Qt.Key.Key_Insert)
    dialog = section.dialog
    assert isinstance(dialog, TaskDialog)
    assert dialog.banner is not None and "Müller, Anna" in dialog.banner.text()
    labels = [dialog.assignee.itemText(i) for i in range(dialog.assignee.count())]
    assert labels == ["Dr Anna Demo", "Dr Amara Okafor", "Nurse Li Wei", "",
                      "All doctors", "All nurses", "All receptionists"]
    dialog.on_create()
    assert dialog.errors["title"].text() == "⚠ Say what is to be done."
    assert dialog.isVisible()
    qtbot.keyClicks(dialog.title, "Check INR on Friday")
    dialog.choose_assignee("All nurses")
    dialog.priority.setCurrentIndex(dialog.priority.findData("urgent"))
    dialog.due_day.setDate(dialog.due_day.date().addDays(2))
    dialog.on_create()
    assert not dialog.isVisible()
    made = section.view.selected()
    assert made.draft.title == "Check INR on Friday"
    assert made.draft.assignee_role == "nurse" and made.draft.assignee_user_id is None
    assert made.draft.patient_id == 7 and made.draft.priority == "urgent"
    assert made.draft.due_at is not None and made.draft.due_at.astimezone(ZONE).hour == 12
    # The service's sentence for a field lands beside it.
    section.view.buttons["new"].click()
    dialog = section.dialog
    assert isinstance(dialog, TaskDialog)
    qtbot.keyClicks(dialog.title, "Old news")
    dialog.has_due.setChecked(True)
    dialog.due_day.setDate(dialog.due_day.date().addDays(-30))
    dialog.on_create()
    assert dialog.errors["due_at"].text() == "⚠ The due date is in the past."
    assert dialog.title.text() == "Old news"


def test_done_and_cancel_with_a_reason(
        qtbot: QtBot, section: PatientTasksSection, api: FakeTasksApi) -> None:
    view = section.view
    assert not view.buttons["done"].isEnabled()
    view.table.selectRow(0)
    view.buttons["done"].click()
    assert view.selected().status == "done"
    assert column(section, 4)[0] == "Done (Dr Anna Demo)"
    assert not view.buttons["done"].isEnabled() and not view.buttons["cancel"].isEnabled()
    assert view.status.text() == "1 open."

    view.table.selectRow(1)
    api.change_behind_the_back(view.selected().id, "Nurse Li Wei")
    view.buttons["cancel"].click()
    dialog = section.writes.dialog
    assert isinstance(dialog, ReasonDialog)
    assert dialog.banner is not None and "MRN 000123" in dialog.banner.text()
    dialog.confirm_button.click()
    assert dialog.error.text() == ("⚠ Say why the task is cancelled: pick a reason or type "
                                   "one.")
    qtbot.keyClicks(dialog.reason, "Patient moved away")
    dialog.confirm_button.click()
    assert dialog.isVisible()
    assert dialog.error.text().startswith("⚠ Nurse Li Wei changed this task meanwhile")
    dialog.confirm_button.click()                               # the list was refetched,
    assert dialog.isVisible()                                   # the dialog keeps the old
    dialog.reject()                                             # version: ask again
    view.table.selectRow(1)
    view.buttons["cancel"].click()
    dialog = section.writes.dialog
    assert isinstance(dialog, ReasonDialog)
    qtbot.keyClicks(dialog.reason, "Patient moved away")
    dialog.confirm_button.click()
    assert not dialog.isVisible()
    assert column(section, 4)[1] == "Cancelled"


def test_task_events_from_elsewhere_refetch(
        section: PatientTasksSection, api: FakeTasksApi,
        notifications: ChangeNotifications) -> None:
    api.add(TaskDraft("Send referral letter", patient_id=7, assignee_user_id=12,
                      due_at=CLOCK + timedelta(hours=1)))
    notifications.changed.emit((ChangeEvent("appointment", 5),))
    assert len(column(section, 2)) == 2                         # not a task event
    notifications.changed.emit((ChangeEvent("task", 4, 1, "created", notify_user_id=12),))
    assert column(section, 2)[1] == "Send referral letter"
    section.close()
    api.add(TaskDraft("After close", patient_id=7, assignee_user_id=12,
                      due_at=datetime(2026, 12, 1, tzinfo=UTC)))
    before = len(api.calls)
    notifications.changed.emit((ChangeEvent("task", 5),))
    assert len(api.calls) == before                             # a closed chart is quiet
