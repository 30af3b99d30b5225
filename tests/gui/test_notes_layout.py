"""The Notes section, the editor and its dialogs at 1280×800 and 700 px wide: no button
narrower than its text, no field cut off, the editor's sections not squeezed sideways.
Screenshots of each (artifacts/notes-*.png)."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractButton, QApplication, QLabel, QLineEdit, QWidget
from pytestqt.qtbot import QtBot

from backend_client.notes.local_store import LocalNoteStore
from desktop.presenters.notes_recovery import NotesRecoveryPresenter
from desktop.tasks import InlineTaskRunner
from tests.gui.conftest import save_screenshot
from tests.gui.fake_notes import OTHER_DOCTOR, FakeNotesApi, Harness

SIZES = {"wide": (1280, 800), "narrow": (700, 800)}


def _clipped(root: QWidget) -> list[str]:
    out = []
    for widget in root.findChildren(QWidget):
        if not widget.isVisibleTo(root) or widget.width() <= 0:
            continue
        if isinstance(widget, QAbstractButton) and \
                widget.width() < widget.minimumSizeHint().width():
            out.append(f"{widget.text()!r}: {widget.width()} < "
                       f"{widget.minimumSizeHint().width()}")
        if isinstance(widget, QLabel) and not widget.wordWrap() and widget.text() and \
                widget.width() < widget.minimumSizeHint().width():
            out.append(f"label {widget.text()!r}")
        if isinstance(widget, QLineEdit) and widget.width() < 60:
            out.append(f"field {widget.objectName()}: {widget.width()} px")
        right = widget.mapTo(root, widget.rect().topRight()).x()
        if right > root.width() + 1 and widget.window() is root.window() and \
                not _in_scroll(widget):
            out.append(f"{type(widget).__name__} {widget.objectName()} ends at {right}")
    return out


def _in_scroll(widget: QWidget) -> bool:
    parent = widget.parentWidget()
    while parent is not None:
        if parent.objectName() in ("noteScroll", "qt_scrollarea_viewport"):
            return True
        parent = parent.parentWidget()
    return False


def _clinic() -> FakeNotesApi:
    api = FakeNotesApi()
    api.add_note(42, "referral", title="Referral to cardiology — palpitations and presyncope "
                 "on exertion", note_id="n1", texts={"recipient": "Dr Patel",
                                                     "reason": "Palpitations"})
    api.sign("n1", api.summaries["n1"].head_revision)
    api.add_note(42, title="Asthma review", note_id="n2", author=OTHER_DOCTOR,
                 texts={"subjective": "Wheeze at night, worse with cold air. Uses salbutamol "
                        ".sob 3 times a week.", "assessment": "Partly controlled asthma"})
    api.add_note(42, "progress", title="Progress note", note_id="n3",
                 texts={"progress": "Walking 2 km without pain."})
    return api


def _show(qtbot: QtBot, h: Harness, size: tuple[int, int]) -> QWidget:
    h.load()
    widget = h.section.widget()
    qtbot.addWidget(widget)
    widget.resize(*size)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


@pytest.mark.parametrize("name", list(SIZES))
def test_the_notes_list_fits(qtbot: QtBot, name: str) -> None:
    h = Harness(_clinic())
    widget = _show(qtbot, h, SIZES[name])
    assert _clipped(widget) == []
    save_screenshot(widget, f"notes-list-{name}.png")


@pytest.mark.parametrize("name", list(SIZES))
def test_the_editor_fits_with_a_field_error_shown(qtbot: QtBot, name: str) -> None:
    h = Harness(_clinic())
    widget = _show(qtbot, h, SIZES[name])
    h.section.on_view_open_requested("n2")
    view = h.editor.view
    view.fields["vitals"]["systolic"].edit.setText("400")
    view.fields["vitals"]["pulse"].edit.setText("72")
    view.field_problems()
    view.set_status("Saved 10:42 · autosaved locally 10:43")
    QApplication.processEvents()
    assert _clipped(widget) == []
    body = view.note_scroll.widget()
    assert body.width() <= view.note_scroll.viewport().width(), "no sideways scrolling"
    save_screenshot(widget, f"notes-editor-{name}.png")


@pytest.mark.parametrize("name", list(SIZES))
def test_a_signed_letter_fits(qtbot: QtBot, name: str) -> None:
    h = Harness(_clinic())
    h.api.add_addendum("n1", "Holter monitor booked for 3 December.")
    widget = _show(qtbot, h, SIZES[name])
    h.section.on_view_open_requested("n1")
    assert _clipped(widget) == []
    save_screenshot(widget, f"notes-signed-{name}.png")


@pytest.mark.parametrize("name", list(SIZES))
def test_the_merge_and_history_dialogs_fit(qtbot: QtBot, name: str) -> None:
    h = Harness(_clinic())
    _show(qtbot, h, SIZES[name])
    h.section.on_view_open_requested("n2")
    view = h.editor.view
    h.api.save_as(OTHER_DOCTOR, "n2", {"subjective": "Wheeze at night; woke twice this week.",
                                       "plan": "Increase ICS dose"})
    view.texts["subjective"].setPlainText("Wheeze at night, worse with cold air and exercise.")
    view.save_requested.emit()
    dialog = h.editor.merge_dialog
    width = SIZES[name][0] if name == "narrow" else 900
    dialog.resize(width, 700)
    QApplication.processEvents()
    assert _clipped(dialog) == []
    save_screenshot(dialog, f"notes-merge-{name}.png")
    dialog.reject()

    view.history_requested.emit()
    history = h.editor.history_dialog
    history.resize(width, 640)
    QApplication.processEvents()
    assert _clipped(history) == []
    save_screenshot(history, f"notes-history-{name}.png")


def test_the_small_dialogs_fit_at_700_px(qtbot: QtBot, tmp_path: Path) -> None:
    h = Harness(_clinic())
    _show(qtbot, h, SIZES["narrow"])
    qtbot.mouseClick(h.section.view.new_button, Qt.MouseButton.LeftButton)
    new = h.section.new_dialog
    QApplication.processEvents()
    assert _clipped(new) == []
    save_screenshot(new, "notes-new-dialog.png")
    new.reject()

    h.section.on_view_open_requested("n2")
    h.editor.view.expanders_requested.emit()
    expanders = h.editor.expanders_dialog
    expanders.abbreviation.setText("bd")
    expanders.findChild(QAbstractButton, "addExpander").click()
    QApplication.processEvents()
    assert _clipped(expanders) == []
    save_screenshot(expanders, "notes-expanders-dialog.png")

    store = LocalNoteStore(tmp_path / "n.sqlite3", 11, bytes(range(32)))
    doc = h.api.read("n2")
    assert doc.head is not None
    store.put("n2", 42, "Müller, Anna · born 12 Mar 1984 · MRN 000123", "Asthma review",
              doc.head.id, doc.head.content)
    store.put("n7", 43, "García López, María José · born 2 Feb 1990 · MRN 000777",
              "Discharge summary after community-acquired pneumonia", None, doc.head.content)
    recovery = NotesRecoveryPresenter(InlineTaskRunner(), confirm=lambda *_a: True)
    window = QWidget()
    qtbot.addWidget(window)
    recovery.offer(window, store, lambda _n: None)
    dialog = recovery.dialog
    assert dialog is not None
    dialog.resize(700, 320)
    QApplication.processEvents()
    assert _clipped(dialog) == []
    save_screenshot(dialog, "notes-unsaved-offer.png")
    store.close()
