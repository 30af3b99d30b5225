"""Writing a note: autosave every 2 s to this computer and MongoDB, saving revisions
(retries are one revision), expanders, field checks, smart fill, closing saves."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from backend_client.errors import Unavailable
from backend_client.notes.local_store import LocalNoteStore
from desktop.tasks import TaskRunner
from tests.gui.fake_notes import FakeNotesApi, Harness, ManualRunner

KEY = bytes(range(32))


@pytest.fixture
def store(tmp_path: Path) -> LocalNoteStore:
    s = LocalNoteStore(tmp_path / "notes.sqlite3", 11, KEY)
    yield s
    s.close()


def open_note(qtbot: QtBot, h: Harness, note_id: str) -> None:
    h.load()
    widget = h.section.widget()
    qtbot.addWidget(widget)
    widget.resize(900, 700)
    widget.show()
    qtbot.waitExposed(widget)
    widget.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is widget, timeout=2000)
    h.section.on_view_open_requested(note_id)


def type_into(qtbot: QtBot, widget: object, text: str) -> None:
    qtbot.keyClicks(widget, text)


def test_autosave_waits_2_s_from_the_first_change_and_keeps_text_locally_and_in_mongodb(
        qtbot: QtBot, store: LocalNoteStore) -> None:
    api = FakeNotesApi()
    api.add_note(42, texts={"subjective": "Cough"}, note_id="n1")
    h = Harness(api, store)
    open_note(qtbot, h, "n1")
    box = h.editor.view.texts["subjective"]
    box.moveCursor(box.textCursor().MoveOperation.End)

    type_into(qtbot, box, " for three")
    assert h.timer.isActive() and h.timer.starts == [2000]
    assert store.get("n1") is None and "n1" not in api.autosaves  # not before 2 s
    type_into(qtbot, box, " weeks")
    assert h.timer.starts == [2000], "typing on does not push the autosave back"

    h.timer.fire()
    kept = store.get("n1")
    assert kept is not None
    assert kept.content.section("subjective").text == "Cough for three weeks"
    assert api.autosaves["n1"][1].section("subjective").text == "Cough for three weeks"
    assert store.pending() == (), "MongoDB has it: nothing to offer at the next sign-in"
    assert "autosaved locally 10:43" in h.editor.view.status_label.text()

    type_into(qtbot, box, ".")
    assert h.timer.starts == [2000, 2000]


def test_mongodb_down_keeps_the_text_on_this_computer_and_says_so(
        qtbot: QtBot, store: LocalNoteStore) -> None:
    api = FakeNotesApi()
    api.add_note(42, texts={"subjective": ""}, note_id="n1")
    h = Harness(api, store)
    open_note(qtbot, h, "n1")
    api.mongo_down = True
    type_into(qtbot, h.editor.view.texts["subjective"], "Wheeze at night")
    h.timer.fire()
    (pending,) = store.pending()
    assert pending.content.section("subjective").text == "Wheeze at night"
    assert "MongoDB unreachable — kept on this computer" in h.editor.view.status_label.text()

    api.mongo_down = False
    qtbot.keyClick(h.editor.view.texts["subjective"], Qt.Key.Key_S,
                   Qt.KeyboardModifier.ControlModifier)
    assert api.revisions["n1"][-1].content.section("subjective").text == "Wheeze at night"
    assert store.pending() == ()
    assert "Saved" in h.editor.view.status_label.text()
    assert "unreachable" not in h.editor.view.status_label.text()


def test_a_save_whose_answer_was_lost_is_retried_as_the_same_revision(qtbot: QtBot) -> None:
    api = FakeNotesApi()
    api.add_note(42, texts={"subjective": "Cough"}, note_id="n1")
    h = Harness(api)
    open_note(qtbot, h, "n1")
    type_into(qtbot, h.editor.view.texts["subjective"], "Dry ")
    api.lose_answer.add("save")
    h.editor.view.save_requested.emit()
    assert "did not answer in time" in h.editor.view.problem_label.text()
    assert "kept on this computer" in h.editor.view.problem_label.text()
    h.editor.view.save_requested.emit()
    saves = [arg for name, arg in api.calls if name == "save"]
    assert saves[-1] == saves[-2], "the retry reuses the revision id"
    assert len(api.revisions["n1"]) == 3, "one revision, not two"
    assert h.editor.view.problem_label.isHidden() or not h.editor.view.problem_label.text()


def test_unavailable_on_save_says_so_and_keeps_the_text(qtbot: QtBot,
                                                        store: LocalNoteStore) -> None:
    api = FakeNotesApi()
    api.add_note(42, note_id="n1")
    h = Harness(api, store)
    open_note(qtbot, h, "n1")
    type_into(qtbot, h.editor.view.texts["plan"], "Review in 2 weeks")
    api.fail_next["save"] = Unavailable("mongodb", "MongoDB cannot be reached.")
    h.editor.view.save_requested.emit()
    problem = h.editor.view.problem_label.text()
    assert "mongodb cannot be reached" in problem.lower() and "kept on this computer" in problem
    assert store.get("n1").content.section("plan").text == "Review in 2 weeks"


def test_expanders_expand_on_space_enter_and_tab_and_own_ones_can_be_added(
        qtbot: QtBot) -> None:
    api = FakeNotesApi()
    api.add_note(42, note_id="n1")
    h = Harness(api)
    open_note(qtbot, h, "n1")
    box = h.editor.view.texts["subjective"]
    type_into(qtbot, box, "Worse .sob")
    qtbot.keyClick(box, Qt.Key.Key_Space)
    type_into(qtbot, box, "with .cp")
    qtbot.keyClick(box, Qt.Key.Key_Return)
    assert box.toPlainText() == "Worse shortness of breath with chest pain\n"
    type_into(qtbot, box, ".nad")
    qtbot.keyClick(box, Qt.Key.Key_Tab)
    assert box.toPlainText().endswith("no abnormality detected")
    assert box.hasFocus() or not QApplication.focusWidget(), "Tab expanded, focus stayed"

    h.editor.view.expanders_requested.emit()
    dialog = h.editor.expanders_dialog
    dialog.abbreviation.setText("bd")
    dialog.expansion.setText("twice daily")
    qtbot.mouseClick(dialog.findChild(type(dialog.remove), "addExpander"),
                     Qt.MouseButton.LeftButton)
    assert "starts with a dot" in dialog.error.text()
    dialog.abbreviation.setText(".bd")
    qtbot.mouseClick(dialog.findChild(type(dialog.remove), "addExpander"),
                     Qt.MouseButton.LeftButton)
    assert api.personal == {".bd": "twice daily"}
    assert any("twice daily" in dialog.list.item(i).text() and "(yours)" in
               dialog.list.item(i).text() for i in range(dialog.list.count()))
    plan = h.editor.view.texts["plan"]
    type_into(qtbot, plan, "Amoxicillin .bd")
    qtbot.keyClick(plan, Qt.Key.Key_Space)
    assert plan.toPlainText() == "Amoxicillin twice daily "
    # a word that merely contains a dot is left alone
    type_into(qtbot, plan, "e.g.")
    qtbot.keyClick(plan, Qt.Key.Key_Space)
    assert plan.toPlainText().endswith("e.g. ")

    shipped = next(i for i in range(dialog.list.count())
                   if "(yours)" not in dialog.list.item(i).text())
    dialog.list.setCurrentRow(shipped)
    qtbot.mouseClick(dialog.remove, Qt.MouseButton.LeftButton)
    assert "Only your own" in dialog.error.text()
    row = next(i for i in range(dialog.list.count()) if "(yours)" in dialog.list.item(i).text())
    dialog.list.setCurrentRow(row)
    qtbot.mouseClick(dialog.remove, Qt.MouseButton.LeftButton)
    assert api.personal == {}


def test_out_of_range_and_non_numeric_fields_are_named_and_block_saving(
        qtbot: QtBot, store: LocalNoteStore) -> None:
    api = FakeNotesApi()
    api.add_note(42, note_id="n1")
    h = Harness(api, store)
    open_note(qtbot, h, "n1")
    view = h.editor.view
    systolic = view.fields["vitals"]["systolic"]
    type_into(qtbot, systolic.edit, "400")
    assert systolic.error.text() == "Systolic 400 mmHg is above 260"
    assert not systolic.error.isHidden()
    pulse = view.fields["vitals"]["pulse"]
    type_into(qtbot, pulse.edit, "fast")
    assert pulse.error.text() == "Pulse “fast” is not a number"
    temperature = view.fields["vitals"]["temperature"]
    type_into(qtbot, temperature.edit, "36.8")
    assert temperature.error.isHidden()

    saves_before = len(api.revisions["n1"])
    view.save_requested.emit()
    assert len(api.revisions["n1"]) == saves_before
    assert "Systolic 400 mmHg is above 260" in view.problem_label.text()
    # nothing lost meanwhile: the values as typed are kept locally
    kept = store.get("n1").content.section("vitals")
    assert kept.value("systolic") == "400" and kept.value("pulse") == "fast"

    systolic.edit.clear()
    type_into(qtbot, systolic.edit, "140")
    pulse.edit.clear()
    type_into(qtbot, pulse.edit, "88")
    view.save_requested.emit()
    head = api.revisions["n1"][-1].content.section("vitals")
    assert dict(head.values) == {"systolic": "140", "pulse": "88", "temperature": "36.8"}


def test_fill_from_chart_puts_the_current_medications_in(qtbot: QtBot) -> None:
    api = FakeNotesApi()
    api.add_note(42, note_id="n1")
    h = Harness(api)
    open_note(qtbot, h, "n1")
    view = h.editor.view
    view.texts["medications"].clear()
    qtbot.mouseClick(view.fill_buttons["medications"], Qt.MouseButton.LeftButton)
    assert "Ramipril 5 mg once daily" in view.texts["medications"].toPlainText()
    assert h.timer.isActive(), "a fill is a change: it is autosaved"


def test_leaving_the_editor_saves_first(qtbot: QtBot) -> None:
    api = FakeNotesApi()
    api.add_note(42, note_id="n1", title="Follow-up")
    h = Harness(api)
    open_note(qtbot, h, "n1")
    type_into(qtbot, h.editor.view.texts["plan"], "Bloods next week")
    qtbot.mouseClick(h.editor.view.back_button, Qt.MouseButton.LeftButton)
    assert api.revisions["n1"][-1].content.section("plan").text == "Bloods next week"
    assert h.section.editor is None
    assert h.section.view.message.text() == "“Follow-up” saved."


def test_closing_the_chart_tab_saves_and_never_loses_text(
        qtbot: QtBot, store: LocalNoteStore) -> None:
    api = FakeNotesApi()
    api.add_note(42, note_id="n1")
    h = Harness(api, store)
    open_note(qtbot, h, "n1")
    type_into(qtbot, h.editor.view.texts["plan"], "Refer to physio")
    api.mongo_down = True
    api.fail_next["save"] = Unavailable("mongodb", "MongoDB cannot be reached.")
    assert h.section.close() is True
    (pending,) = store.pending()  # offered at the next sign-in
    assert pending.content.section("plan").text == "Refer to physio"


def test_closing_with_a_value_out_of_range_keeps_the_tab_open(qtbot: QtBot) -> None:
    api = FakeNotesApi()
    api.add_note(42, note_id="n1")
    h = Harness(api)
    open_note(qtbot, h, "n1")
    type_into(qtbot, h.editor.view.fields["vitals"]["pulse"].edit, "900")
    assert h.section.close() is False
    assert "Pulse 900 /min is above 250" in h.editor.view.problem_label.text()


def test_text_typed_while_mongodb_is_slow_reaches_it_when_the_call_returns(
        qtbot: QtBot, store: LocalNoteStore) -> None:
    api = FakeNotesApi()
    api.add_note(42, note_id="n1")
    runner = ManualRunner()
    h = Harness(api, store, runner=runner)
    h.section.load(lambda: None)
    runner.finish_all()
    qtbot.addWidget(h.section.widget())
    h.section.on_view_open_requested("n1")
    runner.finish_all()
    box = h.editor.view.texts["plan"]
    box.setPlainText("Bloods")
    h.timer.fire()
    runner.finish(0)  # the local copy; the MongoDB autosave is still in flight
    box.setPlainText("Bloods and ECG")
    h.timer.fire()
    runner.finish_all()
    assert api.autosaves["n1"][1].section("plan").text == "Bloods and ECG"
    assert [name for name, _ in api.calls].count("autosave") == 2
    assert store.pending() == ()


def test_autosave_and_save_off_the_gui_thread_with_the_real_task_runner(
        qtbot: QtBot, store: LocalNoteStore, runner: TaskRunner) -> None:
    api = FakeNotesApi()
    api.add_note(42, note_id="n1")
    h = Harness(api, store, runner=runner)
    h.section.load(lambda: None)
    qtbot.waitUntil(lambda: bool(h.section.templates), timeout=3000)
    qtbot.addWidget(h.section.widget())
    h.section.on_view_open_requested("n1")
    qtbot.waitUntil(lambda: h.section.editor is not None, timeout=3000)
    h.editor.view.texts["plan"].setPlainText("Recheck blood pressure")
    h.timer.fire()
    qtbot.waitUntil(lambda: "autosaved locally" in h.editor.view.status_label.text(),
                    timeout=3000)
    qtbot.waitUntil(lambda: "n1" in api.autosaves, timeout=3000)
    h.editor.view.save_requested.emit()
    qtbot.waitUntil(lambda: h.editor.view.status_label.text().startswith("Saved"),
                    timeout=3000)
    assert api.revisions["n1"][-1].content.section("plan").text == "Recheck blood pressure"
    qtbot.waitUntil(lambda: store.pending() == (), timeout=3000)
