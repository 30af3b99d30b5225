"""The chart's Recordings section (a ``SectionFactory``) and the recorder in the note
editor ("Dictate").

The section lists the patient's stored recordings (``RecordingsApi.recordings``: roles with
``recording.read``) and this author's recordings of the patient not yet delivered (paused
ones from ``LocalDictations``, queued ones from the upload queue); Listen plays a stored one
from the object store (audited by the service) or a local one from this computer. Those who
may record (``recording.create``) have the recorder above the list. Reception
(no ``recording.read``) gets a sentence and never a list. The transcription worklist
(``WorklistPresenter``) is at the end.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date
from typing import Any

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QPushButton, QWidget

from backend_client.dictation.dto import (
    LocalRecording,
    QueueItem,
    RecordingTarget,
    StoredRecording,
)
from backend_client.dto import PatientRecord
from desktop.presenters.chart_section import SectionFactory
from desktop.presenters.dictation import DictationHub, RecorderPresenter
from desktop.presenters.messages import failure_sentence
from ui.chart.banner import patient_caption
from ui.dictation.recorder_view import RecorderView
from ui.dictation.recordings_view import RecordingsView, stored_line
from ui.dictation.worklist import WorklistDialog

NO_ROLE = ("Recordings are for clinical staff: your role does not include listening to "
           "them.")
CANNOT_LIST = "The recordings cannot be listed right now"


def queued_as_local(item: QueueItem, rec: LocalRecording | None) -> LocalRecording:
    """A queued item shown in the list as a local recording."""
    state = "stopped" if item.state == "waiting" else item.state
    if rec is not None:
        return LocalRecording(rec.id, rec.author_id, rec.target, rec.started_at,
                              rec.duration_ms, rec.size_bytes, state)
    target = RecordingTarget(0, item.patient_caption, priority=item.priority)
    return LocalRecording(item.recording_id, item.author_id, target, item.queued_at, 0,
                          item.size_bytes, state)


class RecordingsSection(QObject):
    key = "recordings"
    title = "Re&cordings"

    def __init__(self, record: PatientRecord, caption: str, hub: DictationHub, *,
                 encounter_id: Callable[[], int | None] = lambda: None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.record, self.caption, self.hub = record, caption, hub
        self.patient_id = record.id
        self.can_read = hub.can("recording.read")
        self.can_create = hub.can("recording.create")
        self._encounter_id = encounter_id
        recorder_view = RecorderView(caption, keymap=hub.keymap) if self.can_create else None
        self.view = RecordingsView(recorder_view)
        self.view.setObjectName("chart-recordings")
        self.recorder: RecorderPresenter | None = None
        if recorder_view is not None:
            self.recorder = RecorderPresenter(hub, recorder_view, self.target, host=self.view,
                                              parent=self)
        self.view.listen_requested.connect(self.on_listen)
        self.view.continue_requested.connect(self.on_continue)
        self.view.player.toggle_requested.connect(self.on_player_toggle)
        self.view.player.seek_requested.connect(hub.player.seek)
        hub.local_changed.connect(self.reload)
        hub.worker.item_changed.connect(self.on_item_changed)
        self._token = 0
        self._closed = False
        self._local: dict[str, LocalRecording] = {}
        self._what = ""
        if not self.can_read:
            self.view.show_only_message(NO_ROLE)

    def target(self) -> RecordingTarget:
        return RecordingTarget(self.patient_id, self.caption, self._encounter_id())

    def widget(self) -> QWidget:
        return self.view

    def load(self, done: Callable[[], None]) -> None:
        self.reload(done)

    def refresh(self, actions: frozenset[str]) -> None:
        if not actions or "recording" in actions:
            self.reload()

    def close(self) -> bool:
        self._closed = True
        if self.recorder is not None:
            self.recorder.detach()
        if self.hub.player_owner is self:
            self.hub.player.stop()
            self.hub.player_owner = None
        return True

    def reload(self, done: Callable[[], None] | None = None) -> None:
        if self._closed or not self.can_read:
            if done is not None:
                done()
            return
        self._token += 1
        token, hub, pid, caption = self._token, self.hub, self.patient_id, self.caption
        author = hub.author_id()
        # The one open in the recorder is listed as such, with its length now.
        status = hub.bridge.status

        def work() -> tuple[tuple[StoredRecording, ...], tuple[LocalRecording, ...]]:
            stored = hub.recordings.recordings(pid)
            if author is None:
                return stored, ()
            local = [r for r in hub.local.recordings(author) if r.target.patient_id == pid]
            local = [replace(r, state="open", duration_ms=status.duration_ms)
                     if r.id == status.recording_id else r for r in local]
            known = {r.id: r for r in local}
            for item in hub.queue.items():
                if item.author_id == author and item.state != "done" and \
                        item.patient_caption == caption and item.recording_id not in known:
                    local.append(queued_as_local(item, hub.queued_here.get(item.recording_id)))
            return stored, tuple(local)

        def listed(result: tuple[tuple[StoredRecording, ...],
                                 tuple[LocalRecording, ...]]) -> None:
            if token == self._token and not self._closed:
                stored, local = result
                self._local = {r.id: r for r in local}
                self.view.show_message("")
                self.view.show_recordings(stored, local)
            if done is not None:
                done()

        def failed(exc: BaseException) -> None:
            if token == self._token and not self._closed:
                self.view.show_message(failure_sentence(exc, CANNOT_LIST))
            if done is not None:
                done()

        hub.tasks.run(work, listed, failed, pool="read")

    # ------------------------------------------------------------ listening

    def on_listen(self, kind: str, rec_id: str) -> None:
        hub = self.hub
        author = hub.author_id()
        if kind == "local" and author is None:
            return
        item = self.view.list.currentItem()
        what = item.text().split("\n")[0] if item is not None else "Recording"

        def fetch() -> bytes:
            if kind == "stored":
                return hub.recordings.audio(rec_id)
            assert author is not None
            return hub.local.audio(rec_id, author)

        def loaded(data: bytes) -> None:
            if self._closed:
                return
            player = hub.take_player(self)
            player.load(rec_id, data)
            self._what = f"Playing: {what}"
            self.view.player.show_playing(self._what, True, 0, 0)
            player.play()

        def failed(exc: BaseException) -> None:
            self.view.show_message(failure_sentence(exc, "The recording cannot be played"))

        hub.tasks.run(fetch, loaded, failed, pool="read")

    def player_position(self, position: int, duration: int) -> None:
        self.view.player.show_playing(self._what, self.hub.player.playing, position, duration)

    def player_playing(self, playing: bool) -> None:
        player = self.hub.player
        self.view.player.show_playing(self._what, playing, player.position(),
                                      player.duration())

    def player_failed(self, sentence: str) -> None:
        self.view.show_message(sentence)

    def on_item_changed(self, _item: object) -> None:
        self.reload()

    def playback_stopped(self) -> None:
        self.view.player.hide()

    def on_player_toggle(self) -> None:
        player = self.hub.player
        if self.hub.player_owner is not self:
            return
        if player.playing:
            player.pause()
        else:
            player.play(player.position())

    def on_continue(self, rec_id: str) -> None:
        rec = self._local.get(rec_id)
        if rec is None or self.recorder is None:
            return
        if rec.state not in ("paused", "interrupted"):
            self.view.show_message("This recording is finished and queued for upload; it "
                                   "can be listened to, not continued.")
            return
        self.recorder.open_recording(rec)


def recordings_factory(hub: DictationHub, *,
                       encounter_id: Callable[[int], int | None] = lambda _p: None
                       ) -> SectionFactory:
    """The chart's Recordings section (replaces the placeholder of that key)."""
    return SectionFactory(RecordingsSection.key, RecordingsSection.title,
                          lambda record, caption: RecordingsSection(
                              record, caption, hub,
                              encounter_id=lambda: encounter_id(record.id)))


# ---------------------------------------------------------------- the note editor

class NoteDictation(QObject):
    """"Dictat&e" in a note editor: shows a recorder for the note's patient, encounter and
    note (its keys work while typing in the note)."""

    def __init__(self, hub: DictationHub, editor: Any, today: date | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent or editor)
        self.hub, self.editor = hub, editor
        view = editor.view
        record: PatientRecord = editor.ctx.record
        caption = patient_caption(record, today or editor.ctx.today)
        summary = editor.summary
        self.target = RecordingTarget(record.id, caption,
                                      summary.encounter_id if summary else None,
                                      editor.note_id)
        self.button = QPushButton("Dictat&e", view)
        self.button.setObjectName("dictateButton")
        self.button.setCheckable(True)
        self.button.setToolTip("Show the recorder for this note (its keys: "
                               f"{hub.keymap['record']} record/pause, "
                               f"{hub.keymap['stop']} stop)")
        self.recorder_view = RecorderView(caption, view, keymap=hub.keymap)
        self.recorder_view.hide()
        self.recorder = RecorderPresenter(hub, self.recorder_view, lambda: self.target,
                                          host=view, parent=self)
        self.button.toggled.connect(self.on_toggled)
        self.recorder_view.banner.hide()   # the editor's own first line names the patient
        view.top_row.addWidget(self.button)
        view.extras_box.addWidget(self.recorder_view)
        editable = not view.title_edit.isReadOnly()
        self.button.setVisible(editable)
        editor.finished.connect(lambda _s: self.recorder.detach())

    def on_toggled(self, shown: bool) -> None:
        if not shown and self.recorder.owns and self.hub.bridge.status.state == "recording":
            self.recorder.on_record()   # hiding the recorder pauses it (kept)
        self.recorder_view.setVisible(shown)
        if shown:
            self.recorder_view.record_button.setFocus()


def attach_note_dictation(hub: DictationHub) -> Callable[[Any], None]:
    """For NotesContext.on_editor: each editable note editor gets its Dictate toggle, if the
    person may record."""

    def attach(editor: Any) -> None:
        if hub.can("recording.create"):
            editor.dictation = NoteDictation(hub, editor)

    return attach



# ---------------------------------------------------------------- the worklist

class WorklistPresenter(QObject):
    """The transcription worklist (``recording.read``: doctors, nurses, transcriptionists):
    STAT and urgent first; Listen plays from the object store (audited by the service)."""

    def __init__(self, hub: DictationHub, parent_widget: QWidget,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.hub = hub
        self.dialog = WorklistDialog(parent_widget)
        self.dialog.listen_requested.connect(self.on_listen)
        self.dialog.player.toggle_requested.connect(self.on_player_toggle)
        self.dialog.player.seek_requested.connect(hub.player.seek)
        self.dialog.rejected.connect(self.close)
        self._what = ""

    def show(self) -> None:
        recordings = self.hub.recordings

        def failed(exc: BaseException) -> None:
            self.dialog.show_message(failure_sentence(exc, "The worklist cannot be read "
                                                           "right now"))

        self.hub.tasks.run(recordings.worklist, self.dialog.show_recordings, failed)
        self.dialog.show()
        self.dialog.list.setFocus()

    def on_listen(self, rec_id: str) -> None:
        hub = self.hub
        rec = next((r for r in self.dialog.recordings if r.id == rec_id), None)
        what = f"{rec.patient_caption}: {stored_line(rec).split(chr(10))[0]}" if rec else ""

        def loaded(data: bytes) -> None:
            player = hub.take_player(self)
            player.load(rec_id, data)
            self._what = f"Playing {what}"
            self.dialog.player.show_playing(self._what, True, 0, 0)
            player.play()

        def failed(exc: BaseException) -> None:
            self.dialog.show_message(failure_sentence(exc, "The recording cannot be played"))

        hub.tasks.run(lambda: hub.recordings.audio(rec_id), loaded, failed)

    def on_player_toggle(self) -> None:
        player = self.hub.player
        if self.hub.player_owner is self:
            player.pause() if player.playing else player.play(player.position())

    def player_position(self, position: int, duration: int) -> None:
        self.dialog.player.show_playing(self._what, self.hub.player.playing, position,
                                        duration)

    def player_playing(self, playing: bool) -> None:
        player = self.hub.player
        self.dialog.player.show_playing(self._what, playing, player.position(),
                                        player.duration())

    def player_failed(self, sentence: str) -> None:
        self.dialog.show_message(sentence)

    def playback_stopped(self) -> None:
        self.dialog.player.hide()

    def close(self) -> None:
        if self.hub.player_owner is self:
            self.hub.player.stop()
            self.hub.player_owner = None
