"""Every chart section's Alt+letter keys work in the main window: none is also a menu's
letter (File, Patient, View, Help), a work tab's (Schedule, Patients) or another visible
button's, and the sections
themselves are reached by Alt+1 … Alt+0. A key bound twice in one window fires neither:
the dictation keys (F9, F10, …, in the Recordings section and in a note editor with its
recorder shown) are no menu's or other shortcut's."""

from __future__ import annotations

from datetime import date
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QAbstractButton, QLabel, QWidget
from pytestqt.qtbot import QtBot

from desktop.bootstrap import build_patient_presenters
from desktop.bridges.notifications import ChangeNotifications
from desktop.presenters.chart_section import SectionFactory
from desktop.presenters.dictation_app import DictationScreens
from desktop.presenters.dictation_section import attach_note_dictation
from desktop.presenters.notes import make_notes_section
from desktop.presenters.orders import make_orders_section, make_prescriptions_section
from desktop.presenters.tasks import make_patient_tasks_section
from desktop.tasks import InlineTaskRunner
from tests.gui.chart_support import TODAY, clinic, search
from tests.gui.dictation_support import FakeSession, actor
from tests.gui.fake_dictation import (
    FakeLocalDictations,
    FakeRecorder,
    FakeRecordingsApi,
    FakeUploadQueue,
)
from tests.gui.fake_notes import FakeNotesApi
from tests.gui.fake_orders import FakeOrdersApi, FakeTasksApi
from ui.dictation.keymap import default_keymap
from ui.main_window import MainWindow


def _letter(text: str) -> str:
    plain = text.replace("&&", "")
    at = plain.find("&")
    return plain[at + 1].upper() if 0 <= at < len(plain) - 1 else ""


def test_no_alt_key_of_a_chart_section_is_taken_twice(qtbot: QtBot) -> None:
    c = clinic()
    window = MainWindow()
    qtbot.addWidget(window)
    runner, notifications = InlineTaskRunner(), ChangeNotifications()
    orders, tasks, notes = FakeOrdersApi(), FakeTasksApi(), FakeNotesApi()
    local, stored = FakeLocalDictations(), FakeRecordingsApi()
    screens = DictationScreens.build(window, None, FakeRecorder(local), local,
                                     FakeUploadQueue(local, stored), stored, runner,
                                     FakeSession(actor()))
    dictate = attach_note_dictation(screens.hub)
    draft_note = notes.add_note(c.muller, texts={"subjective": "Cough"})
    signed_note = notes.add_note(c.muller, texts={"subjective": "Fever", "assessment": "Flu",
                                                  "plan": "Rest"})
    notes.sign(signed_note.id, notes.revisions[signed_note.id][-1].id)
    factories = [
        SectionFactory("notes", "&Notes", lambda r, _c: make_notes_section(
            r, notes, runner, None, today=TODAY, user_id=11,
            permissions=frozenset({"note.write", "note.sign"}), on_editor=dictate)),
        SectionFactory("orders", "&Orders", lambda r, _c: make_orders_section(
            r, orders, runner, today=lambda: TODAY)),
        SectionFactory("prescriptions", "Prescrip&tions", lambda r, _c:
                       make_prescriptions_section(r, orders, runner, can_prescribe=True,
                                                  today=lambda: TODAY)),
        SectionFactory("tasks", "Tas&ks", lambda r, _c: make_patient_tasks_section(
            r, tasks, runner, today=lambda: TODAY)),
        screens.chart_section(),
    ]
    presenters = build_patient_presenters(window, c.patients, runner, today=lambda: TODAY,
                                          notifications=notifications, chart=c.chart,
                                          section_factories=factories)
    window.set_signed_in("Dr Anna Demo (doctor)")
    window.show_work()
    window.resize(1280, 800)
    window.show()
    qtbot.waitExposed(window)
    search(qtbot, _Desk(window, presenters), "müller")
    window.patient_list.table.setFocus()
    qtbot.keyClick(window.patient_list.table, Qt.Key.Key_Down)
    qtbot.keyClick(window.patient_list.table, Qt.Key.Key_Return)
    assert presenters.charts is not None
    chart = presenters.charts.current()
    assert chart is not None
    menus = {_letter(a.text()) for a in window.menuBar().actions() if a.isVisible()} - {""}
    tabs = window.work_tabs
    menus |= {_letter(tabs.tabText(i)) for i in range(tabs.count())} - {""}
    assert {"F", "P", "V", "H", "S"} <= menus  # the menus, and the Schedule/Patients tabs
    keys = chart.view.section_keys()
    assert len(keys) == 10 and keys[4] == "notes"
    for place, key in enumerate(keys, start=1):
        qtbot.keyClick(window.focusWidget() or chart.view, Qt.Key(Qt.Key.Key_0 + place % 10),
                       Qt.KeyboardModifier.AltModifier)
        assert chart.view.current_key() == key
        _no_key_twice(window, chart.view.section_widget(key), key, menus)
        _no_shortcut_twice(window, key)
    # The note editor, for a draft and for a signed note.
    section: Any = chart.section("notes")
    qtbot.keyClick(window.focusWidget() or chart.view, Qt.Key.Key_5,
                   Qt.KeyboardModifier.AltModifier)
    for note in (draft_note, signed_note):
        section.on_view_open_requested(note.id)
        assert section.editor is not None
        dictation = section.editor.dictation
        if note is draft_note:   # its recorder shown: Dictate, and the recorder's keys
            dictation.button.click()
            assert dictation.recorder_view.isVisible()
        else:
            assert not dictation.button.isVisible(), "a signed note is not dictated into"
        _no_key_twice(window, chart.view.section_widget("notes"), f"note {note.id}", menus)
        _no_shortcut_twice(window, f"note {note.id}")
        assert section.editor.close_for_tab()
        section.editor = None


def _no_key_twice(window: MainWindow, section: QWidget, key: str, menus: set[str]) -> None:
    seen: dict[str, str] = {}
    for widget in (*section.findChildren(QAbstractButton), *section.findChildren(QLabel)):
        if not widget.isVisibleTo(window):
            continue
        letter = _letter(widget.text())
        if not letter:
            continue
        assert letter not in menus, f"{key}: {widget.text()!r} takes a menu's Alt+{letter}"
        assert letter not in seen, (f"{key}: {widget.text()!r} and {seen[letter]!r} "
                                    f"both take Alt+{letter}")
        seen[letter] = widget.text()


def _no_shortcut_twice(window: MainWindow, where: str) -> None:
    """Every dictation key that can fire here is bound once among all the keys that can
    (the window's actions, the shortcuts of visible widgets). (The Notes section's Ctrl+F
    shares its key with Find patient by design: the section's own wins inside it.)"""
    seen: dict[str, str] = {}
    dictation = set(default_keymap().values())

    def take(keys: QKeySequence, what: str) -> None:
        key = keys.toString()
        if not key:
            return
        if key in dictation:
            assert key not in seen, f"{where}: {key} is both {seen[key]!r} and {what!r}"
        seen[key] = what

    actions = [a for top in window.menuBar().actions() if top.menu() is not None
               for a in top.menu().actions()] + window.actions()
    for action in actions:
        if action.isEnabled():
            for keys in action.shortcuts():
                take(keys, action.text())
    for shortcut in window.findChildren(QShortcut):
        parent = shortcut.parent()
        if shortcut.isEnabled() and isinstance(parent, QWidget) and parent.isVisible():
            take(shortcut.key(), f"{parent.objectName() or type(parent).__name__} shortcut")


class _Desk:
    def __init__(self, window: MainWindow, presenters: object) -> None:
        self.window, self.presenters = window, presenters


_ = date
