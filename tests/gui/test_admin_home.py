"""The administrator's first screen (issue 13): what their role is for, one way to each
tool, no red warning about patients and no hint for a shortcut they cannot use."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractButton, QLabel
from pytestqt.qtbot import QtBot

from tests.gui.conftest import save_screenshot
from ui.main_window import MainWindow


def _visible_texts(window: MainWindow) -> list[str]:
    widgets = [*window.centralWidget().findChildren(QLabel),
               *window.centralWidget().findChildren(QAbstractButton)]
    return [w.text() for w in widgets if w.isVisibleTo(window) and w.text()]


def _admin(window: MainWindow) -> None:
    window.set_signed_in("Demo Administrator (admin)", can_manage_sessions=True,
                         can_find_patients=False, can_register=False, can_read_audit=True)
    window.show_work()


def test_the_administrator_sees_their_tools_not_a_warning_twice(qtbot: QtBot) -> None:
    window = MainWindow()
    qtbot.addWidget(window)
    window.resize(1280, 800)
    window.show()
    qtbot.waitExposed(window)
    _admin(window)
    save_screenshot(window, "admin-home-1280.png")
    texts = _visible_texts(window)
    assert not any("⚠" in t for t in texts), texts  # nothing is wrong: no warning at all
    assert not any("Ctrl+N" in t or "register" in t.lower() for t in texts), texts
    assert len(texts) == len(set(texts)), texts  # no sentence twice
    assert any("does not include patient records" in t for t in texts)
    home = window.admin_home
    assert home.isVisible() and not window.work_tabs.isVisible()

    # Each tool is one key press away, starting where the keyboard already is.
    assert window.focusWidget() is home.sessions_button
    with qtbot.waitSignal(window.sessions_requested, timeout=1000):
        qtbot.keyClick(home.sessions_button, Qt.Key.Key_Space)
    with qtbot.waitSignal(window.break_glass_report_requested, timeout=1000):
        qtbot.keyClick(home.break_glass_button, Qt.Key.Key_Space)

    window.resize(700, 800)
    save_screenshot(window, "admin-home-700.png")
    for label in home.findChildren(QLabel):
        if label.isVisibleTo(window) and not label.wordWrap():
            assert label.width() >= label.sizeHint().width(), label.text()


def test_the_next_person_at_the_desk_gets_the_patients_back(qtbot: QtBot) -> None:
    window = MainWindow()
    qtbot.addWidget(window)
    window.show()
    _admin(window)
    window.set_signed_in("Demo Receptionist (receptionist)", can_find_patients=True,
                         can_register=True)
    window.show_work()
    assert window.work_tabs.isVisible() and not window.admin_home.isVisible()
    assert window.patient_list.isEnabled()
    assert "Your role" not in window.patient_list.empty_state.text()
