"""The orders, prescriptions and tasks sections and their dialogs at 1280×800 and 700 px
wide: no button, field or label narrower than its text needs (tables scroll sideways
instead). Screenshots of each, at both sizes, in artifacts/."""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

from PySide6.QtWidgets import (
    QAbstractButton,
    QComboBox,
    QDialog,
    QLabel,
    QLineEdit,
    QMainWindow,
    QTabWidget,
    QWidget,
)
from pytestqt.qtbot import QtBot

from backend_client.chart.dto import OrderDraft, PrescriptionDraft, TaskDraft
from desktop.bridges.notifications import ChangeNotifications
from desktop.presenters.orders import make_orders_section, make_prescriptions_section
from desktop.presenters.tasks import InboxPresenter, make_patient_tasks_section
from desktop.tasks import InlineTaskRunner
from tests.gui.conftest import save_screenshot
from tests.gui.fake_orders import CLOCK, FakeOrdersApi, FakeTasksApi, patient
from ui.main_window import MainWindow

TODAY = date(2026, 12, 2)
ZONE = ZoneInfo("Europe/Berlin")
NOW = CLOCK + timedelta(hours=2)


def clipped(root: QWidget) -> list[str]:
    """Visible controls narrower than their text needs, and one-line labels cut short."""
    out = []
    for w in root.findChildren(QWidget):
        if not w.isVisibleTo(root) or w.width() == 0:
            continue
        name = w.objectName() or type(w).__name__
        if isinstance(w, QAbstractButton | QComboBox | QLineEdit) and \
                w.width() < w.minimumSizeHint().width():
            out.append(f"{name} {w.width()} < {w.minimumSizeHint().width()}")
        if isinstance(w, QLabel) and not w.wordWrap() and w.text() and \
                w.width() < w.sizeHint().width():
            out.append(f"label {w.text()!r} {w.width()} < {w.sizeHint().width()}")
        if isinstance(w, QLabel) and w.wordWrap() and w.text() and w.hasHeightForWidth() \
                and w.height() < w.heightForWidth(w.width()):
            out.append(f"label {w.text()[:30]!r} cut at the bottom")
    return out


def chart_like(qtbot: QtBot) -> tuple[QMainWindow, QTabWidget, list[object]]:
    """The three sections as tabs, as the chart shows them, with data in each."""
    orders = FakeOrdersApi()
    rec = patient()
    orders.add_order(7, OrderDraft("lab", "Full blood count", "58410-2",
                                   "Tired for a month"), at=CLOCK - timedelta(days=3))
    orders.add_order(7, OrderDraft("imaging", "Chest X-ray PA and lateral",
                                   details="Cough for three weeks, smoker"),
                     by="Dr Jonathan Fitzgerald-Hawthorne")
    orders.add_order(7, OrderDraft("referral", "Cardiology: exertional chest pain"))
    orders.add_prescription(7, PrescriptionDraft("Metformin", "500", "mg",
                                                 frequency="twice daily", duration_days=28,
                                                 refills=2), signed=True)
    orders.add_prescription(7, PrescriptionDraft("Amoxicillin", "500", "mg", form="capsule",
                                                 frequency="three times daily",
                                                 duration_days=5))
    tasks_api = FakeTasksApi()
    tasks_api.add(TaskDraft("Call with blood results", patient_id=7, assignee_user_id=11,
                            due_at=CLOCK - timedelta(hours=1), priority="high"))
    tasks_api.add(TaskDraft("Book a dressing change", patient_id=7, assignee_role="nurse",
                            due_at=CLOCK + timedelta(days=1)))
    runner = InlineTaskRunner()
    sections: list[object] = [
        make_orders_section(rec, orders, runner, today=lambda: TODAY, zone=ZONE),
        make_prescriptions_section(rec, orders, runner, can_prescribe=True,
                                   today=lambda: TODAY, zone=ZONE),
        make_patient_tasks_section(rec, tasks_api, runner, today=lambda: TODAY,
                                   now=lambda: NOW, zone=ZONE)]
    window = QMainWindow()
    qtbot.addWidget(window)
    tabs = QTabWidget(window)
    for s in sections:
        tabs.addTab(s.widget(), s.title)  # type: ignore[attr-defined]
        s.load(lambda: None)  # type: ignore[attr-defined]
    window.setCentralWidget(tabs)
    window.resize(1280, 800)
    window.show()
    qtbot.waitExposed(window)
    return window, tabs, sections


def test_the_sections_fit_at_1280_and_700(qtbot: QtBot) -> None:
    window, tabs, _sections = chart_like(qtbot)
    for width in (1280, 700):
        window.resize(width, 800)
        for i, name in enumerate(("orders", "prescriptions", "tasks")):
            tabs.setCurrentIndex(i)
            page = tabs.currentWidget()
            qtbot.waitUntil(lambda p=page: clipped(p) == [], timeout=2000)
            save_screenshot(window, f"{name}-section-{width}.png")


def check_dialog(qtbot: QtBot, name: str, dialog: QDialog | None) -> None:
    assert dialog is not None and dialog.isVisible(), name
    assert dialog.width() <= 700, f"{name} opens {dialog.width()} px wide"
    qtbot.waitUntil(lambda: clipped(dialog) == [], timeout=2000)
    save_screenshot(dialog, f"{name}.png")
    dialog.resize(max(dialog.minimumSizeHint().width(), 460), dialog.height())
    qtbot.waitUntil(lambda: clipped(dialog) == [], timeout=2000)
    save_screenshot(dialog, f"{name}-narrow.png")
    dialog.reject()


def test_the_dialogs_fit_at_their_size_and_narrower(qtbot: QtBot) -> None:
    _window, tabs, sections = chart_like(qtbot)
    orders, rx, tasks = sections
    orders.view.buttons["new"].click()  # type: ignore[attr-defined]
    orders.dialog.on_place()  # type: ignore[attr-defined]  # every field's sentence shown
    check_dialog(qtbot, "order-dialog", orders.dialog)  # type: ignore[attr-defined]
    orders.view.table.selectRow(0)  # type: ignore[attr-defined]
    orders.view.buttons["discontinue"].click()  # type: ignore[attr-defined]
    check_dialog(qtbot, "discontinue-dialog", orders.dialog)  # type: ignore[attr-defined]
    tabs.setCurrentIndex(1)
    rx.view.buttons["new"].click()  # type: ignore[attr-defined]
    d = rx.dialog  # type: ignore[attr-defined]
    d.drug.setText("Amoxicillin")
    d.strength.setText("five hundred")
    d.frequency.setEditText("sometimes")
    d.duration.setValue(0)
    d.refills.setValue(20)
    d.check_now()
    check_dialog(qtbot, "prescription-dialog", d)
    rx.view.buttons["new"].click()  # type: ignore[attr-defined]
    d = rx.dialog  # type: ignore[attr-defined]
    d.drug.setText("Amoxicillin")
    d.strength.setText("500")
    d.form.setCurrentText("capsule")
    d.frequency.setEditText("three times daily")
    d.duration.setValue(5)
    d.check_now()
    check_dialog(qtbot, "prescription-dialog-valid", d)
    tabs.setCurrentIndex(2)
    tasks.view.buttons["new"].click()  # type: ignore[attr-defined]
    check_dialog(qtbot, "task-dialog", tasks.dialog)  # type: ignore[attr-defined]


def test_the_inbox_and_badge_fit_at_1280_and_700(qtbot: QtBot) -> None:
    api = FakeTasksApi()
    api.add(TaskDraft("Call Anna Müller with her blood results before the weekend",
                      patient_id=7, assignee_user_id=11, due_at=CLOCK - timedelta(hours=1),
                      priority="urgent"))
    api.add(TaskDraft("Sign the discharge letter", assignee_role="doctor",
                      due_at=CLOCK + timedelta(days=2)))
    api.add(TaskDraft("Review the new guideline", assignee_user_id=11))
    window = MainWindow()
    qtbot.addWidget(window)
    presenter = InboxPresenter(api, InlineTaskRunner(), ChangeNotifications(),
                               today=lambda: TODAY, now=lambda: NOW, zone=ZONE, parent=window)
    presenter.attach(window)
    window.set_signed_in("Dr Anna Demo (doctor)")
    window.show_work()
    window.resize(1280, 800)
    window.show()
    qtbot.waitExposed(window)
    presenter.start()
    bar = window.statusBar()
    for width in (1280, 700):
        window.resize(width, 800)
        qtbot.waitUntil(lambda: clipped(bar) == [], timeout=2000)
        badge = presenter.badge
        assert badge.geometry().right() <= bar.width()
        assert badge.width() >= badge.minimumSizeHint().width()
        save_screenshot(window, f"inbox-badge-{width}.png")
    presenter.show_inbox()
    inbox = presenter.inbox
    assert inbox is not None
    for width in (900, 700):
        inbox.resize(width, 480)
        qtbot.waitUntil(lambda: clipped(inbox) == [], timeout=2000)
        save_screenshot(inbox, f"inbox-{width}.png")
