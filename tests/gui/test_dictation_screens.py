"""The dictation screens around the recorder: who sees the chart's recordings (reception
sees a sentence, no list), listening to a stored one, the upload queue panel and Retry,
the status bar count, My dictations, interrupted recordings offered at sign-in, the
recorder in the note editor, and the upload worker on its own pool."""

from __future__ import annotations

import threading
from dataclasses import replace

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from backend_client.dictation.dto import RecordingTarget
from desktop.bridges.uploads import UploadWorker
from desktop.presenters.chart_section import SectionFactory
from desktop.presenters.dictation_section import NO_ROLE, RecordingsSection
from desktop.presenters.notes import make_notes_section
from desktop.tasks import InlineTaskRunner, TaskRunner
from tests.gui.chart_support import TODAY
from tests.gui.dictation_support import (
    NURSE,
    RECEPTION,
    actor,
    dictation_desk,
    focus,
    open_recordings,
)
from tests.gui.fake_dictation import FakeUploadQueue
from tests.gui.fake_notes import FakeNotesApi


def _target(dd: object, caption: str = "Müller, Anna · born 12 Mar 1984",
            **kw: object) -> RecordingTarget:
    return RecordingTarget(dd.desk.clinic.muller, caption, **kw)  # type: ignore[attr-defined]


def test_reception_sees_a_sentence_and_no_list(qtbot: QtBot) -> None:
    dd = dictation_desk(qtbot, permissions=RECEPTION)
    dd.recordings.add(_target(dd))
    chart = open_recordings(qtbot, dd)
    section = chart.section("recordings")
    assert isinstance(section, RecordingsSection)
    view = section.view
    assert view.message.isVisible() and view.message.text() == NO_ROLE
    assert view.list.isHidden() and view.listen_button.isHidden()
    assert view.recorder is None, "no recorder for a role that may not record"
    assert dd.recordings.played == []


# The player's audio output: this machine's test sessions have no sound server.
def test_a_nurse_lists_and_listens_but_does_not_record(qtbot: QtBot) -> None:
    dd = dictation_desk(qtbot, permissions=NURSE)
    older = dd.recordings.add(_target(dd, priority="stat", work_type="letter"),
                              duration_ms=125_000, author="Dr Ben Okafor")
    newer = dd.recordings.add(_target(dd), duration_ms=65_000)
    chart = open_recordings(qtbot, dd)
    section = chart.section("recordings")
    assert isinstance(section, RecordingsSection)
    view = section.view
    assert view.recorder is None and view.continue_button.isHidden()
    lines = [view.list.item(i).text() for i in range(view.list.count())]
    assert [line.split("\n")[0] for line in lines] == [
        "Routine · Note · 01:05 — Dr Anna Demo", "STAT · Letter · 02:05 — Dr Ben Okafor"]
    assert lines[0].endswith("ready to transcribe")
    view.list.setFocus()
    view.list.setCurrentRow(1)
    qtbot.keyClick(view.list, Qt.Key.Key_Return)
    assert dd.recordings.played == [older.id]
    assert view.player.isVisible()
    assert view.player.label.text() == "Playing: STAT · Letter · 02:05 — Dr Ben Okafor"
    del newer


def test_queue_panel_shows_states_and_retry_delivers(qtbot: QtBot) -> None:
    dd = dictation_desk(qtbot)
    author = actor().user_id or 0
    ok = dd.local.add(author, _target(dd), state="stopped", duration_ms=40_000)
    bad = dd.local.add(author, _target(dd, priority="urgent"), state="stopped")
    dd.queue.hold = True
    dd.queue.enqueue(ok)
    item = dd.queue.enqueue(bad)
    dd.queue.put(replace(item, state="failed", attempts=1,
                         problem="The object store refused the upload (access denied). "
                                 "Tell your administrator; press Retry once it is fixed."))
    dd.screens.hub.worker.kick()
    badge = dd.screens.badge
    assert badge.isVisible() and badge.text() == "2 recordings waiting to upload"
    open_recordings(qtbot, dd)   # working in a chart
    qtbot.keyClick(focus(dd.desk.window), Qt.Key.Key_U, Qt.KeyboardModifier.ControlModifier
                   | Qt.KeyboardModifier.ShiftModifier)
    panel = dd.screens.panel
    assert panel is not None and panel.isVisible()
    texts = [panel.list.item(i).text() for i in range(panel.list.count())]
    assert texts[0].split("\n")[1] == "Routine · waiting to upload · 80 kB"
    assert texts[1].split("\n")[1] == "Urgent · failed · 60 kB"
    assert texts[1].endswith("press Retry once it is fixed.")
    assert panel.heading.text().startswith("2 recordings not yet delivered, 1 of them failed")
    panel.list.setCurrentRow(0)
    assert not panel.retry_button.isEnabled(), "only a failed one is retried by hand"
    panel.list.setCurrentRow(1)
    dd.queue.hold = False
    qtbot.keyClick(panel.retry_button, Qt.Key.Key_Space)
    assert {i.state for i in dd.queue.items()} == {"done"}
    texts = [panel.list.item(i).text() for i in range(panel.list.count())]
    assert all("· delivered ·" in t for t in texts)
    assert badge.isHidden()
    panel.reject()


def test_progress_reaches_the_panel(qtbot: QtBot) -> None:
    dd = dictation_desk(qtbot)
    rec = dd.local.add(11, _target(dd), state="stopped", duration_ms=500_000)
    dd.queue.hold = True
    dd.queue.enqueue(rec)
    dd.screens.show_queue()
    panel = dd.screens.panel
    assert panel is not None
    panel.show_progress(rec.id, 400_000, 1_000_000)
    assert panel.list.item(0).text().split("\n")[1] == \
        "Routine · uploading · 1.0 MB · 40 % sent"
    panel.reject()


def test_interrupted_recordings_are_offered_at_sign_in(qtbot: QtBot) -> None:
    dd = dictation_desk(qtbot)
    first = dd.local.add(11, _target(dd), state="interrupted", duration_ms=95_000)
    second = dd.local.add(11, _target(dd, work_type="letter"), state="interrupted")
    dd.local.add(12, _target(dd), state="interrupted")         # another author's
    dd.session.signed_in.emit(dd.session.actor)
    offer = dd.screens.offer
    assert offer is not None and offer.isVisible()
    assert offer.heading.text().startswith("2 recordings were interrupted")
    assert offer.list.count() == 2
    offer.list.setCurrentRow(next(i for i in range(2)
                                  if "01:35" in offer.list.item(i).text()))
    qtbot.keyClick(offer.finish_button, Qt.Key.Key_Space)
    assert dd.recorder.calls[-2:] == ["open", "stop"]
    assert dd.recordings.stored[first.id].duration_ms == 95_000   # delivered
    assert offer.list.count() == 1
    qtbot.keyClick(offer.discard_button, Qt.Key.Key_Space)       # confirmed (fake says yes)
    assert second.id in dd.local.discarded
    assert not offer.isVisible()


def test_my_dictations_continue_and_finish(qtbot: QtBot) -> None:
    dd = dictation_desk(qtbot)
    paused = dd.local.add(11, _target(dd), state="paused", duration_ms=12_000)
    open_recordings(qtbot, dd)
    qtbot.keyClick(focus(dd.desk.window), Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier
                   | Qt.KeyboardModifier.ShiftModifier)
    dialog = dd.screens.dictations
    assert dialog is not None and dialog.isVisible()
    assert "paused, not finished" in dialog.list.item(0).text()
    qtbot.keyClick(dialog.continue_button, Qt.Key.Key_Space)
    presenter = dd.screens.list_recorder
    assert presenter is not None
    view = presenter.view
    assert view.banner.text() == paused.target.patient_caption
    assert view.time_label.text() == "00:12 / 00:12"
    dialog.activateWindow()
    qtbot.waitUntil(lambda: focus(dd.desk.window) is view.record_button, timeout=1000)
    qtbot.keyClick(view.record_button, Qt.Key.Key_F9)
    dd.recorder.advance(3000)
    qtbot.keyClick(view.record_button, Qt.Key.Key_F10)
    assert dd.recordings.stored[paused.id].duration_ms == 15_000
    assert dialog.list.count() == 0
    dialog.reject()


def test_dictate_in_the_note_editor(qtbot: QtBot) -> None:
    notes = FakeNotesApi()
    dd = dictation_desk(qtbot)
    c = dd.desk.clinic
    note = notes.add_note(c.muller, texts={"subjective": "Cough"})
    runner = InlineTaskRunner()
    hook = dd.screens.note_editor_hook()
    dd.desk.presenters.charts.section_factories.insert(0, SectionFactory(  # type: ignore[union-attr]
        "notes", "&Notes", lambda r, _c: make_notes_section(
            r, notes, runner, None, today=TODAY, user_id=11,
            permissions=frozenset({"note.write", "note.sign"}), on_editor=hook)))
    chart = open_recordings(qtbot, dd)
    section = chart.section("notes")
    chart.view.show_section("notes", focus=True)
    section.on_view_open_requested(note.id)  # type: ignore[attr-defined]
    editor = section.editor  # type: ignore[attr-defined]
    dictation = editor.dictation
    assert dictation.button.isVisible() and dictation.recorder_view.isHidden()
    qtbot.keyClick(dictation.button, Qt.Key.Key_Space)
    assert dictation.recorder_view.isVisible()
    text = editor.view.texts["subjective"]
    text.setFocus()
    qtbot.keyClick(text, Qt.Key.Key_F9)          # while typing in the note
    assert dd.recorder.rec is not None
    assert dd.recorder.rec.target.note_id == note.id
    assert dd.recorder.rec.target.patient_id == c.muller
    dd.recorder.advance(2000)
    qtbot.keyClick(text, Qt.Key.Key_F10)
    assert text.toPlainText() == "Cough", "the keys are not typed into the note"
    stored = next(iter(dd.recordings.stored.values()))
    assert stored.note_id == note.id


def test_the_upload_worker_runs_off_the_gui_thread(qtbot: QtBot) -> None:
    runner = TaskRunner()
    try:
        queue = FakeUploadQueue(delay=0.01, steps=3)
        threads: list[threading.Thread] = []
        plain = queue.run_once

        def run_once(progress: object = None) -> object:
            threads.append(threading.current_thread())
            return plain(progress)  # type: ignore[arg-type]

        queue.run_once = run_once  # type: ignore[method-assign]
        from tests.gui.fake_dictation import FakeLocalDictations

        local = FakeLocalDictations()
        for _ in range(3):
            queue.enqueue(local.add(11, RecordingTarget(1, "Müller, Anna"), state="stopped"))
        worker = UploadWorker(queue, runner)
        done: list[str] = []
        worker.item_changed.connect(lambda item: done.append(item.state))
        with qtbot.waitSignal(worker.idle, timeout=5000):
            worker.start()
        assert done == ["done", "done", "done"] and worker.waiting == 0
        assert threads and all(t is not threading.main_thread() for t in threads)
        assert worker.sleeping_for() is not None, "it looks again later by itself"
        worker.stop()
        assert worker.sleeping_for() is None
    finally:
        runner.shutdown()


def test_the_transcription_worklist_puts_stat_and_urgent_first(qtbot: QtBot) -> None:
    dd = dictation_desk(qtbot, permissions=NURSE)
    dd.recordings.add(_target(dd, caption="Khan, Aisha"), duration_ms=30_000)
    stat = dd.recordings.add(_target(dd, caption="O'Brien, Seán", priority="stat"))
    dd.recordings.add(_target(dd, caption="Müller, Anna", priority="urgent"))
    dd.recordings.add(_target(dd, caption="Khan, Aisha"), status="transcribed")
    open_recordings(qtbot, dd)
    qtbot.keyClick(focus(dd.desk.window), Qt.Key.Key_K, Qt.KeyboardModifier.ControlModifier
                   | Qt.KeyboardModifier.ShiftModifier)
    worklist = dd.screens.worklist
    assert worklist is not None and worklist.dialog.isVisible()
    dialog = worklist.dialog
    heads = [dialog.list.item(i).text().split("\n")[:2] for i in range(dialog.list.count())]
    assert [h[0] for h in heads] == ["O'Brien, Seán", "Müller, Anna", "Khan, Aisha"]
    assert heads[0][1].startswith("STAT · Note · 01:05")
    assert dialog.heading.text() == "3 recordings to transcribe, STAT and urgent first."
    qtbot.keyClick(dialog.list, Qt.Key.Key_Return)
    assert dd.recordings.played == [stat.id]
    assert dialog.player.label.text().startswith("Playing O'Brien, Seán: STAT")
    dialog.reject()
    assert dd.screens.hub.player_owner is None, "closing the list stops its playback"


def test_the_queue_names_only_my_patients_and_the_lock_closes_it(qtbot: QtBot) -> None:
    dd = dictation_desk(qtbot)
    dd.queue.hold = True
    dd.queue.enqueue(dd.local.add(11, _target(dd), state="stopped"))
    dd.queue.enqueue(dd.local.add(12, _target(dd, caption="Khan, Aisha · born 5 May 1990"),
                                  state="stopped"))
    open_recordings(qtbot, dd)
    dd.screens.show_queue()
    panel = dd.screens.panel
    assert panel is not None and panel.isVisible()
    firsts = [panel.list.item(i).text().split("\n")[0] for i in range(panel.list.count())]
    assert firsts == ["Müller, Anna · born 12 Mar 1984", "Another person's recording"]
    dd.session.locked.emit()
    assert not panel.isVisible(), "no patient's name stays above the lock screen"
