"""Which tab the window shows when someone signs in: the schedule for a new person, the
tab they were on for the same person back (after a lock or an ended session)."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel
from pytestqt.qtbot import QtBot

from ui.main_window import MainWindow


def _back(window: MainWindow, who: str) -> None:
    """What the session presenter and the front desk do when someone (re)signs in."""
    window.set_signed_in(who)
    window.set_locked(False)
    window.show_work()
    window.set_schedule_available(True)


def test_the_same_person_back_keeps_their_chart_tab_and_a_new_person_starts_on_the_schedule(
        qtbot: QtBot) -> None:
    window = MainWindow()
    qtbot.addWidget(window)
    window.show()
    _back(window, "Dr Amara Okafor (doctor)")
    assert window.work_tabs.currentIndex() == 0
    chart = QLabel("chart of a patient")
    window.add_chart_tab(chart, "Smith, John", "Smith, John")
    window.show_chart_tab(chart)

    window.set_locked(True)
    _back(window, "Dr Amara Okafor (doctor)")
    assert window.work_tabs.currentWidget() is chart

    window.remove_chart_tab(chart)  # (a new person's charts are closed before they see it)
    window.show_patients()
    _back(window, "Nurse Jonas Whitfield (nurse)")
    assert window.work_tabs.currentIndex() == 0
