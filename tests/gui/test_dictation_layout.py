"""The dictation screens at 1280×800 and at 700 px wide: nothing clipped (labels, buttons,
the recorder's choosers), the lists wrap; Help > Keyboard lists the window's keys and the
recorder's. Screenshots to look at in /tmp/shots-dictation."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QComboBox, QListWidget, QWidget
from pytestqt.qtbot import QtBot

from desktop.presenters.dictation_section import RecordingsSection
from tests.gui.dictation_support import dictation_desk, focus, open_recordings
from tests.gui.fake_dictation import NO_MICROPHONE
from tests.gui.test_chart_layout import _clipped

SHOTS = Path("/tmp/shots-dictation")


def _cut(root: QWidget) -> list[str]:
    """What _clipped finds, and combo boxes and list rows narrower than their text."""
    out = _clipped(root)
    for combo in root.findChildren(QComboBox):
        if combo.isVisibleTo(root) and combo.width() < combo.minimumSizeHint().width():
            out.append(f"{combo.objectName()}: {combo.width()} < "
                       f"{combo.minimumSizeHint().width()}")
    for lst in root.findChildren(QListWidget):
        if not lst.isVisibleTo(root):
            continue
        room = lst.viewport().width()
        for i in range(lst.count()):
            rect = lst.visualItemRect(lst.item(i))
            if rect.width() > room + 1:
                out.append(f"{lst.objectName()} row {i}: {rect.width()} > {room}")
    return out


def _shot(widget: QWidget, name: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    QApplication.processEvents()  # test only: let the layouts settle before the picture
    assert widget.grab().save(str(SHOTS / name))


@pytest.mark.parametrize("size", [(1280, 800), (700, 800)])
def test_the_recorder_in_the_chart_fits(qtbot: QtBot, size: tuple[int, int]) -> None:
    dd = dictation_desk(qtbot, size=size)
    c = dd.desk.clinic
    from backend_client.dictation.dto import RecordingTarget

    caption = "Müller, Anna · born 12 Mar 1984 (42 y) · MRN M0000001"
    dd.recordings.add(RecordingTarget(c.muller, caption, priority="stat", work_type="letter"),
                      duration_ms=312_000, author="Dr Benedict Okafor-Whitfield")
    dd.recordings.add(RecordingTarget(c.muller, caption), duration_ms=65_000)
    dd.local.add(11, RecordingTarget(c.muller, caption, priority="urgent"), state="paused",
                 duration_ms=42_000)
    chart = open_recordings(qtbot, dd)
    section = chart.section("recordings")
    assert isinstance(section, RecordingsSection) and section.recorder is not None
    view = section.recorder.view
    qtbot.keyClick(focus(dd.desk.window), Qt.Key.Key_F9)
    dd.recorder.advance(83_000, level=0.72)
    qtbot.waitUntil(lambda: view.time_label.text() == "01:23 / 01:23", timeout=1000)
    assert dd.desk.window.width() == size[0]
    QApplication.processEvents()  # test only: layouts settle before measuring
    assert _cut(section.view) == []
    _shot(dd.desk.window, f"recorder-chart-{size[0]}.png")
    # Paused, rewound, in overwrite mode, with a problem sentence: still nothing cut.
    qtbot.keyClick(focus(dd.desk.window), Qt.Key.Key_F9)
    qtbot.keyClick(focus(dd.desk.window), Qt.Key.Key_F7)
    qtbot.keyClick(focus(dd.desk.window), Qt.Key.Key_O, Qt.KeyboardModifier.ControlModifier
                   | Qt.KeyboardModifier.ShiftModifier)
    dd.recorder.problem = ("The microphone was disconnected. The 01:23 recorded so far are "
                           "kept; connect it and press Record to go on.")
    dd.screens.hub.bridge.poll_now()
    assert view.mode_badge.text() == "OVERWRITE · replaces what follows 01:18"
    QApplication.processEvents()
    assert _cut(section.view) == []
    _shot(dd.desk.window, f"recorder-chart-overwrite-{size[0]}.png")


def test_no_microphone_at_700(qtbot: QtBot) -> None:
    dd = dictation_desk(qtbot, size=(700, 800), no_microphone=True)
    chart = open_recordings(qtbot, dd)
    section = chart.section("recordings")
    assert isinstance(section, RecordingsSection) and section.recorder is not None
    QApplication.processEvents()
    assert section.recorder.view.problem_label.text() == NO_MICROPHONE
    assert _cut(section.view) == []
    _shot(section.view, "recorder-no-microphone-700.png")


@pytest.mark.parametrize("width", [560, 420])
def test_the_queue_panel_fits(qtbot: QtBot, width: int) -> None:
    from dataclasses import replace

    from backend_client.dictation.dto import RecordingTarget

    dd = dictation_desk(qtbot)
    caption = "Müller, Anna · born 12 Mar 1984 (42 y) · MRN M0000001"
    dd.queue.hold = True
    for i, (priority, state, problem) in enumerate((
            ("stat", "uploading", ""),
            ("routine", "waiting", "The object store cannot be reached (connection "
                                   "refused); tries again by itself."),
            ("urgent", "failed", "The object store refused the upload (access denied). "
                                 "Tell your administrator; press Retry once it is fixed."))):
        rec = dd.local.add(11, RecordingTarget(1, caption, priority=priority), state="stopped",
                           duration_ms=(i + 1) * 400_000)
        item = dd.queue.enqueue(rec)
        dd.queue.put(replace(item, state=state, problem=problem, attempts=i + 1,
                             sent_bytes=item.size_bytes // 3 if state == "uploading" else 0))
    dd.screens.show_queue()
    panel = dd.screens.panel
    assert panel is not None
    panel.resize(width, 460)
    qtbot.waitExposed(panel)
    panel.list.setCurrentRow(2)
    QApplication.processEvents()
    assert panel.retry_button.isEnabled()
    assert _cut(panel) == []
    _shot(panel, f"queue-panel-{width}.png")
    panel.reject()


def test_help_keyboard_lists_every_key(qtbot: QtBot) -> None:
    dd = dictation_desk(qtbot, size=(700, 800))
    open_recordings(qtbot, dd)
    qtbot.keyClick(focus(dd.desk.window), Qt.Key.Key_F1)
    help_ = dd.screens.help
    assert help_ is not None and help_.isVisible()
    keys = {k: what for _h, rows in help_.groups for k, what in rows}
    assert keys["F9"] == "Record, or pause while recording"
    assert keys["Ctrl+W"] == "Close chart" and keys["Ctrl+L"] == "Lock screen"
    assert "Alt+1 … Alt+0" in keys
    # Each key once: none is given to two things.
    every = [k for _h, rows in help_.groups for k, _w in rows]
    assert len(every) == len(set(every))
    assert "Keyboard shortcuts" in [a.text().replace("&", "").rstrip("…")
                                    for a in dd.desk.window.help_menu.actions()]
    qtbot.waitExposed(help_)
    assert _cut(help_) == []
    _shot(help_, "help-keyboard.png")
    help_.reject()


def test_the_dictation_keys_can_be_changed_and_bad_ones_are_named(qtbot: QtBot) -> None:
    from ui.dictation.keymap import parse_keymap
    from ui.dictation.recorder_view import RecorderView

    keys, problems = parse_keymap("record=Ctrl+F9, stop = F12, shout=F2, play=F10, "
                                  "rewind=Nonsense+Key")
    assert keys["record"] == "Ctrl+F9" and keys["stop"] == "F12" and keys["play"] == "F10"
    assert keys["rewind"] == "F7"
    assert problems[0].startswith("“shout” is not a dictation action")
    assert problems[1] == "“Nonsense+Key” is not a key Dr. Assistant understands."
    view = RecorderView("Müller, Anna", keymap=keys)
    qtbot.addWidget(view)
    view.install_shortcuts(view)
    assert view.shortcuts["record"].key().toString() == "Ctrl+F9"
    assert view.record_button.toolTip() == "Record, or pause while recording (Ctrl+F9)"
    assert view.keys_label.text().startswith("Keys: Ctrl+F9 record/pause · F12 stop")


def test_the_recorder_in_a_note_at_700(qtbot: QtBot) -> None:
    from desktop.presenters.chart_section import SectionFactory
    from desktop.presenters.notes import make_notes_section
    from desktop.tasks import InlineTaskRunner
    from tests.gui.chart_support import TODAY
    from tests.gui.fake_notes import FakeNotesApi

    notes = FakeNotesApi()
    dd = dictation_desk(qtbot, size=(700, 800))
    note = notes.add_note(dd.desk.clinic.muller, texts={"subjective": "Cough for 2 weeks"})
    runner, hook = InlineTaskRunner(), dd.screens.note_editor_hook()
    dd.desk.presenters.charts.section_factories.insert(0, SectionFactory(  # type: ignore[union-attr]
        "notes", "&Notes", lambda r, _c: make_notes_section(
            r, notes, runner, None, today=TODAY, user_id=11,
            permissions=frozenset({"note.write", "note.sign"}), on_editor=hook)))
    chart = open_recordings(qtbot, dd)
    section = chart.section("notes")
    chart.view.show_section("notes", focus=True)
    section.on_view_open_requested(note.id)  # type: ignore[attr-defined]
    editor = section.editor  # type: ignore[attr-defined]
    editor.dictation.button.click()
    qtbot.keyClick(editor.view.texts["subjective"], Qt.Key.Key_F9)
    dd.recorder.advance(7000, level=0.45)
    qtbot.waitUntil(lambda: editor.dictation.recorder_view.time_label.text()
                    == "00:07 / 00:07", timeout=1000)
    QApplication.processEvents()
    assert _cut(editor.view) == []
    assert dd.desk.window.width() == 700, "the recorder does not widen the window"
    _shot(dd.desk.window, "recorder-note-700.png")
