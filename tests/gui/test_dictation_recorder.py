"""The recorder in the chart's Recordings section, by keyboard only: record, pause, rewind,
overwrite and insert, stop → queued → delivered; no microphone; the device lost; the disk
full; discard asks; a paused recording stays for its author through the lock."""

from __future__ import annotations

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from backend_client.dictation.dto import RecordingTarget
from desktop.presenters.dictation_section import RecordingsSection
from desktop.tasks import TaskRunner
from tests.gui.dictation_support import dictation_desk, focus, open_recordings
from tests.gui.fake_dictation import NO_MICROPHONE
from ui.dictation.recorder_view import RecorderView


def _section(qtbot: QtBot, dd: object) -> RecordingsSection:
    chart = open_recordings(qtbot, dd)  # type: ignore[arg-type]
    section = chart.section("recordings")
    assert isinstance(section, RecordingsSection)
    return section


def _key(qtbot: QtBot, dd: object, key: Qt.Key,
         mod: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier) -> None:
    qtbot.keyClick(focus(dd.desk.window), key, mod)  # type: ignore[attr-defined]


def _shows(qtbot: QtBot, view: RecorderView, time_text: str) -> None:
    qtbot.waitUntil(lambda: view.time_label.text() == time_text, timeout=1000)


def test_record_pause_overwrite_insert_stop_by_keyboard(qtbot: QtBot) -> None:
    dd = dictation_desk(qtbot)
    dd.queue.hold = True   # the network is down: the recording waits in the queue
    section = _section(qtbot, dd)
    assert section.recorder is not None
    view = section.recorder.view
    assert view.banner.text().startswith("Müller, Anna · born 12 Mar 1984")
    assert view.state_label.text() == "Ready to record"
    assert not view.stop_button.isEnabled()

    _key(qtbot, dd, Qt.Key.Key_F9)
    assert dd.recorder.calls[:3] == ["new", "mode append", "record"]
    assert view.state_label.text() == "● Recording"
    assert view.record_button.text() == "Pa&use"
    assert dd.recorder.rec is not None
    assert dd.recorder.rec.target.patient_id == dd.desk.clinic.muller
    dd.recorder.advance(3000, level=0.6)
    _shows(qtbot, view, "00:03 / 00:03")
    assert view.meter.level == 0.6
    assert view.mode_badge.text() == "APPEND · new speech goes at the end"

    _key(qtbot, dd, Qt.Key.Key_F9)                      # pause
    assert view.state_label.text() == "Paused"
    assert view.record_button.text() == "&Resume"
    _key(qtbot, dd, Qt.Key.Key_F7)                      # back 5 s: to the start
    _shows(qtbot, view, "00:00 / 00:03")
    _key(qtbot, dd, Qt.Key.Key_O, Qt.KeyboardModifier.ControlModifier
         | Qt.KeyboardModifier.ShiftModifier)           # append → overwrite
    assert view.mode() == "overwrite"
    assert view.mode_badge.text() == "OVERWRITE · replaces what follows 00:00"
    _key(qtbot, dd, Qt.Key.Key_F9)
    dd.recorder.advance(1000)
    _shows(qtbot, view, "00:01 / 00:03")                # overwriting: no longer
    _key(qtbot, dd, Qt.Key.Key_F9)
    _key(qtbot, dd, Qt.Key.Key_O, Qt.KeyboardModifier.ControlModifier
         | Qt.KeyboardModifier.ShiftModifier)           # overwrite → insert
    assert view.mode_badge.text() == "INSERT · goes in at 00:01, the rest moves later"
    _key(qtbot, dd, Qt.Key.Key_F9)
    dd.recorder.advance(2000)
    _shows(qtbot, view, "00:03 / 00:05")                # inserting: longer
    _key(qtbot, dd, Qt.Key.Key_F9)
    assert dd.recorder.takes == [("append", 0, 3000), ("overwrite", 0, 1000),
                                 ("insert", 1000, 2000)]

    _key(qtbot, dd, Qt.Key.Key_F10)                     # stop → registered and queued
    assert view.state_label.text() == "Ready to record"
    assert "Stopped at 00:05: queued for upload" in view.note_label.text()
    rec_id = next(iter(dd.queue.rows))
    assert rec_id in dd.recordings.pending
    badge = dd.screens.badge
    dd.screens.hub.worker.kick()
    assert badge.isVisible() and badge.text() == "1 recording waiting to upload"
    lines = [section.view.list.item(i).text() for i in range(section.view.list.count())]
    assert lines[0].startswith("Routine · Note · 00:05 — you\n")
    assert lines[0].endswith("on this computer — waiting to upload")

    dd.queue.hold = False                               # the network is back
    dd.screens.hub.worker.kick()
    assert dd.queue.rows[rec_id].state == "done"
    assert badge.isHidden()
    lines = [section.view.list.item(i).text() for i in range(section.view.list.count())]
    assert lines == ["Routine · Note · 00:05 — Dr Anna Demo\n"
                     + lines[0].split("\n")[1]]
    assert lines[0].endswith("ready to transcribe")


def test_priority_and_work_type_go_with_the_recording(qtbot: QtBot) -> None:
    dd = dictation_desk(qtbot)
    section = _section(qtbot, dd)
    assert section.recorder is not None
    view = section.recorder.view
    view.priority_combo.setFocus()
    qtbot.keyClick(view.priority_combo, Qt.Key.Key_End)      # STAT
    view.work_type_combo.setFocus()
    qtbot.keyClick(view.work_type_combo, Qt.Key.Key_Home)    # Letter
    _key(qtbot, dd, Qt.Key.Key_F9)
    dd.recorder.advance(1500)
    _key(qtbot, dd, Qt.Key.Key_F10)
    item = next(iter(dd.recordings.stored.values()))
    assert (item.priority, item.work_type) == ("stat", "letter")
    assert section.view.list.item(0).text().startswith("STAT · Letter · 00:01")


def test_no_microphone_disables_record_and_says_so(qtbot: QtBot) -> None:
    dd = dictation_desk(qtbot, no_microphone=True)
    section = _section(qtbot, dd)
    assert section.recorder is not None
    view = section.recorder.view
    assert not view.record_button.isEnabled()
    assert view.problem_label.isVisible() and view.problem_label.text() == NO_MICROPHONE
    _key(qtbot, dd, Qt.Key.Key_F9)
    assert dd.recorder.calls == []
    # One is plugged in: the next check (every 5 s while there is none) enables Record.
    assert dd.screens.hub._mic_timer.isActive()  # noqa: SLF001
    dd.recorder.no_microphone = False
    dd.screens.hub.check_microphone()
    assert view.record_button.isEnabled() and view.problem_label.isHidden()
    assert not dd.screens.hub._mic_timer.isActive()  # noqa: SLF001
    _key(qtbot, dd, Qt.Key.Key_F9)
    assert dd.recorder.state == "recording"


def test_device_lost_says_what_was_kept(qtbot: QtBot) -> None:
    dd = dictation_desk(qtbot)
    section = _section(qtbot, dd)
    assert section.recorder is not None
    view = section.recorder.view
    _key(qtbot, dd, Qt.Key.Key_F9)
    dd.recorder.advance(4000)
    dd.recorder.lose_device()
    qtbot.waitUntil(lambda: view.state_label.text() == "Paused", timeout=1000)
    assert view.problem_label.isVisible()
    assert view.problem_label.text().startswith(
        "The microphone was disconnected. The 00:04 recorded so far are kept")
    assert view.time_label.text() == "00:04 / 00:04"
    assert not section.recorder.hub.bridge.polling(), "no polling while nothing captures"
    # Pressing Record again goes on (the device is back) and the sentence goes away.
    _key(qtbot, dd, Qt.Key.Key_F9)
    assert view.state_label.text() == "● Recording"
    assert view.problem_label.isHidden()


def test_disk_full_keeps_what_was_written(qtbot: QtBot) -> None:
    dd = dictation_desk(qtbot)
    section = _section(qtbot, dd)
    assert section.recorder is not None
    view = section.recorder.view
    _key(qtbot, dd, Qt.Key.Key_F9)
    dd.recorder.advance(6000)
    dd.recorder.fill_disk()
    qtbot.waitUntil(lambda: view.problem_label.isVisible(), timeout=1000)
    assert "The disk is full" in view.problem_label.text()
    assert "00:06 recorded so far are kept" in view.problem_label.text()
    assert view.stop_button.isEnabled(), "what was kept can still be finished and sent"


def test_discard_asks_and_a_no_keeps_it(qtbot: QtBot) -> None:
    dd = dictation_desk(qtbot, confirm=False)
    section = _section(qtbot, dd)
    assert section.recorder is not None
    view = section.recorder.view
    _key(qtbot, dd, Qt.Key.Key_F9)
    dd.recorder.advance(2000)
    asked: list[str] = []

    def answer(_w: object, _t: str, question: str) -> bool:
        asked.append(question)
        return len(asked) > 1

    dd.screens.hub.confirm = answer
    _key(qtbot, dd, Qt.Key.Key_D, Qt.KeyboardModifier.ControlModifier
         | Qt.KeyboardModifier.ShiftModifier)
    assert "discard" not in dd.recorder.calls and view.state_label.text() == "Paused"
    assert asked[0].startswith("Throw away this recording of 00:02 for Müller, Anna")
    _key(qtbot, dd, Qt.Key.Key_D, Qt.KeyboardModifier.ControlModifier
         | Qt.KeyboardModifier.ShiftModifier)
    assert "discard" in dd.recorder.calls
    assert view.note_label.text() == "The recording was discarded."
    assert dd.local.rows == {}


def test_lock_pauses_and_keeps_the_recording_for_its_author(qtbot: QtBot) -> None:
    dd = dictation_desk(qtbot)
    section = _section(qtbot, dd)
    assert section.recorder is not None
    view = section.recorder.view
    _key(qtbot, dd, Qt.Key.Key_F9)
    dd.recorder.advance(2500)
    rec_id = dd.recorder.rec.id if dd.recorder.rec else ""
    dd.session.locked.emit()
    assert dd.recorder.calls[-1] == "close"
    assert dd.local.rows[rec_id].state == "paused" and dd.local.rows[rec_id].duration_ms == 2500
    assert "kept on this computer for you" in view.note_label.text()
    # Continue it from the list, where it shows as paused.
    dd.session.unlocked.emit()
    section.reload()
    assert "paused, not finished" in section.view.list.item(0).text()
    section.view.continue_button.setFocus()   # Tab from the list in the app
    qtbot.keyClick(section.view.continue_button, Qt.Key.Key_Space)
    assert dd.recorder.calls[-1] == "open"
    assert view.time_label.text() == "00:02 / 00:02"
    _key(qtbot, dd, Qt.Key.Key_F9)
    dd.recorder.advance(1000)
    _key(qtbot, dd, Qt.Key.Key_F10)
    assert dd.recordings.stored[rec_id].duration_ms == 3500


def test_play_what_was_recorded_with_the_same_slider(qtbot: QtBot) -> None:
    dd = dictation_desk(qtbot)
    section = _section(qtbot, dd)
    assert section.recorder is not None
    view = section.recorder.view
    assert not view.play_button.isEnabled(), "nothing recorded yet"
    _key(qtbot, dd, Qt.Key.Key_F9)
    dd.recorder.advance(2000)
    assert not view.play_button.isEnabled(), "not while capturing"
    _key(qtbot, dd, Qt.Key.Key_F9)
    _key(qtbot, dd, Qt.Key.Key_F7)                      # from the start
    _key(qtbot, dd, Qt.Key.Key_F9, Qt.KeyboardModifier.ShiftModifier)
    rec_id = dd.recorder.rec.id if dd.recorder.rec else ""
    assert dd.local.audio_calls == [rec_id]
    assert view.state_label.text() == "▶ Playing"
    assert view.play_button.text() == "Pause p&layback"
    qtbot.waitUntil(lambda: view.slider.value() > 0, timeout=3000)   # it moves
    _key(qtbot, dd, Qt.Key.Key_F9, Qt.KeyboardModifier.ShiftModifier)
    assert view.play_button.text() == "P&lay"
    assert view.state_label.text() == "Paused"
    # Re-record from where playback paused (overwrite), as dictation products do.
    at = dd.recorder.position
    assert 0 < at < 2000 and view.slider.value() == at
    view.mode_combo.setCurrentIndex(1)
    view.mode_chosen.emit("overwrite")
    _key(qtbot, dd, Qt.Key.Key_F9)
    assert dd.recorder.state == "recording" and dd.recorder._take_at == at  # noqa: SLF001


def test_opening_the_device_never_holds_the_gui_thread(qtbot: QtBot, runner: TaskRunner
                                                       ) -> None:
    import threading

    from desktop.presenters.dictation import DictationHub, RecorderPresenter
    from tests.gui.dictation_support import actor
    from tests.gui.fake_dictation import (
        FakeLocalDictations,
        FakeRecorder,
        FakeRecordingsApi,
        FakeUploadQueue,
    )

    local = FakeLocalDictations()
    recorder = FakeRecorder(local)
    gate = threading.Event()
    recorder.record_gate = gate
    hub = DictationHub(recorder, local, FakeUploadQueue(local), FakeRecordingsApi(), runner,
                       actor)
    view = RecorderView("Müller, Anna · born 12 Mar 1984")
    qtbot.addWidget(view)
    RecorderPresenter(hub, view, lambda: RecordingTarget(1, "Müller, Anna"), parent=hub)
    view.show()
    qtbot.waitExposed(view)
    qtbot.keyClick(view.record_button, Qt.Key.Key_Space)   # returns: the device opens elsewhere
    assert view.state_label.text() == "Ready to record"
    gate.set()
    qtbot.waitUntil(lambda: view.state_label.text() == "● Recording", timeout=3000)
    assert recorder.record_thread is not threading.main_thread()
    assert hub.bridge.polling()
    qtbot.keyClick(view.record_button, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: view.state_label.text() == "Paused", timeout=3000)
    qtbot.waitUntil(lambda: not hub.bridge.polling(), timeout=3000)


def test_a_recording_in_the_chart_is_linked_to_its_open_encounter(qtbot: QtBot) -> None:
    dd = dictation_desk(qtbot)
    chart = open_recordings(qtbot, dd)
    assert chart.header is not None and chart.header.open_encounter is not None
    _key(qtbot, dd, Qt.Key.Key_F9)
    dd.recorder.advance(1500)
    _key(qtbot, dd, Qt.Key.Key_F10)
    item = next(iter(dd.recordings.stored.values()))
    assert (item.patient_id, item.encounter_id) == (
        chart.patient_id, chart.header.open_encounter.id)
