"""Dictation on the GUI thread: the shared pieces (``DictationHub``) and the recorder's
presenter (``RecorderPresenter``), one per recorder on screen (a chart's Recordings
section, a note editor, the dictation list).

There is one microphone and one ``DictationRecorder``: at most one recording is open. The
recorder on screen that opened it *owns* it and shows its live status (``AudioBridge``
polls ~30 Hz while capturing); when another recorder starts a new recording, the owner's
is paused first and stays on this computer for its author (My dictations lists it).

Calls that may block — ``new`` (writes the manifest), ``record`` (opens the device),
``pause``/``stop`` (flush the last segment), ``discard`` — run on the TaskRunner's
"write" pool, one after the other; ``seek``/``set_mode``/``status`` are in-memory and run
here. Stop registers the recording (``RecordingsApi.register``, write pool) and queues it
(``UploadQueueApi.enqueue``); the upload worker (desktop/bridges/uploads.py) delivers it.

``build_dictation`` (at the end) makes all of it for desktop/bootstrap.py.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QMessageBox, QWidget

from backend_client.dictation.api import (
    DictationRecorder,
    LocalDictations,
    RecordingsApi,
    UploadQueueApi,
)
from backend_client.dictation.dto import LocalRecording, RecorderStatus, RecordingTarget
from backend_client.dto import Actor
from backend_client.errors import DeviceProblem
from desktop.bridges.audio import AudioBridge, AudioPlayer
from desktop.bridges.uploads import UploadWorker
from desktop.presenters.messages import failure_sentence
from desktop.tasks import InlineTaskRunner, TaskRunner
from ui.dictation.keymap import default_keymap
from ui.dictation.recorder_view import RecorderView, mmss

log = logging.getLogger(__name__)

MIC_RECHECK_MS = 5000
IDLE = RecorderStatus("idle", None, 0, 0, 0.0, "append")
KEPT = ("Paused: the recording is kept on this computer for you. Continue it from "
        "My dictations (View menu).")


def ask_yes(parent: QWidget, title: str, question: str) -> bool:
    answer = QMessageBox.question(parent, title, question,
                                  QMessageBox.StandardButton.Yes
                                  | QMessageBox.StandardButton.Cancel,
                                  QMessageBox.StandardButton.Cancel)
    return answer == QMessageBox.StandardButton.Yes


class DictationHub(QObject):
    """What every recorder and dictation screen of the running app shares.

    Signals:
        local_changed(): a recording was made, stopped, queued or discarded here (lists
            read again).
        queued(object): a ``LocalRecording`` just queued for upload.
        microphone_changed(str): the microphone's problem sentence ("" once one works).
    """

    local_changed = Signal()
    queued = Signal(object)
    microphone_changed = Signal(str)

    def __init__(self, recorder: DictationRecorder, local: LocalDictations,
                 queue: UploadQueueApi, recordings: RecordingsApi,
                 tasks: TaskRunner | InlineTaskRunner, actor: Callable[[], Actor | None], *,
                 keymap: dict[str, str] | None = None,
                 confirm: Callable[[QWidget, str, str], bool] = ask_yes,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.recorder, self.local, self.queue, self.recordings = (recorder, local, queue,
                                                                   recordings)
        self.tasks = tasks
        self.actor = actor
        self.keymap = keymap or default_keymap()
        self.confirm = confirm
        self.bridge = AudioBridge(recorder, self)
        self.player = AudioPlayer(self)
        self.worker = UploadWorker(queue, tasks, self)
        self.owner: RecorderPresenter | None = None
        self.player_owner: object | None = None
        # Recordings queued by this run of the app: their length and work type for lists
        # (a QueueItem has neither).
        self.queued_here: dict[str, LocalRecording] = {}
        self.bridge.status_changed.connect(self._on_status)
        # Whether a microphone can be opened: asked off the GUI thread (listing devices
        # talks to the sound server), and again every few seconds while there is none, so
        # that plugging one in enables Record by itself.
        self.microphone_problem: str | None = None
        self._checking = False
        self._mic_timer = QTimer(self)
        self._mic_timer.setInterval(MIC_RECHECK_MS)
        self._mic_timer.timeout.connect(self.check_microphone)
        # The player's news goes to whoever plays now (one connection, not one per screen).
        self.player.position_changed.connect(self._on_player_position)
        self.player.playing_changed.connect(self._on_player_playing)
        self.player.failed.connect(self._on_player_failed)

    def author_id(self) -> int | None:
        actor = self.actor()
        return actor.user_id if actor is not None else None

    def can(self, permission: str) -> bool:
        actor = self.actor()
        return actor is not None and actor.can(permission)

    def _on_status(self, status: RecorderStatus) -> None:
        if self.owner is not None:
            self.owner.show_status(status)

    def check_microphone(self) -> None:
        if self._checking:
            return
        self._checking = True
        recorder = self.recorder

        def answered(problem: str) -> None:
            self._checking = False
            if problem:
                self._mic_timer.start()
            else:
                self._mic_timer.stop()
            if problem != self.microphone_problem:
                self.microphone_problem = problem
                self.microphone_changed.emit(problem)

        def failed(exc: BaseException) -> None:
            self._checking = False
            log.warning("checking the microphone failed: %s", type(exc).__name__)

        self.tasks.run(recorder.microphone_problem, answered, failed)

    def _on_player_position(self, position: int, duration: int) -> None:
        if self.player_owner is not None:
            self.player_owner.player_position(position, duration)  # type: ignore[attr-defined]

    def _on_player_playing(self, playing: bool) -> None:
        if self.player_owner is not None:
            self.player_owner.player_playing(playing)  # type: ignore[attr-defined]

    def _on_player_failed(self, sentence: str) -> None:
        if self.player_owner is not None:
            self.player_owner.player_failed(sentence)  # type: ignore[attr-defined]

    def take_player(self, who: object) -> AudioPlayer:
        """The player for ``who``; whoever played before is told it stopped."""
        if self.player_owner is not None and self.player_owner is not who:
            self.player.stop()
            stopped = getattr(self.player_owner, "playback_stopped", None)
            if stopped is not None:
                stopped()
        self.player_owner = who
        return self.player

    def leave(self) -> None:
        """Lock, sign-out or exit: the open recording is paused and kept for its author;
        the device is released (write pool: it flushes the last segment)."""
        self.player.stop()
        owner, self.owner = self.owner, None
        if owner is not None:
            owner.released(KEPT)
        self.bridge.stop()
        recorder = self.recorder
        def closed(_r: object) -> None:
            self.bridge.poll_now()

        self.tasks.run(recorder.close, closed,
                       lambda exc: log.warning("closing the recorder failed: %s",
                                               type(exc).__name__), pool="write")

    def queue_recording(self, rec: LocalRecording, done: Callable[[str], None]) -> None:
        """Register (the author's session) and queue a stopped recording; ``done`` gets
        the sentence to show. A failed registration is retried by the queue itself."""
        recordings, queue = self.recordings, self.queue

        def work() -> str:
            problem = ""
            try:
                recordings.register(rec)
            except Exception as exc:  # the queue registers it later (docs/dictation.md)
                problem = " " + failure_sentence(exc, "It could not be registered yet")
            queue.enqueue(rec, registered=not problem)
            return problem

        def ok(registered: str) -> None:
            self.queued_here[rec.id] = rec
            self.worker.kick()
            self.local_changed.emit()
            self.queued.emit(rec)
            done(f"Stopped at {mmss(rec.duration_ms)}: queued for upload; it goes by itself "
                 f"when the network allows.{registered}")

        def failed(exc: BaseException) -> None:
            self.local_changed.emit()
            done(failure_sentence(exc, "The recording is kept on this computer but could "
                                       "not be queued for upload"))

        self.tasks.run(work, ok, failed, pool="write")


class RecorderPresenter(QObject):
    """One recorder on screen. ``target()`` says what a new recording is for (patient,
    encounter, note); the view's choosers add the priority and work type.

    Signals:
        stopped(object): the ``LocalRecording`` stopped and queued here.
    """

    stopped = Signal(object)

    def __init__(self, hub: DictationHub, view: RecorderView,
                 target: Callable[[], RecordingTarget], *, host: QWidget | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.hub = hub
        self.view = view
        self._target = target
        self.busy = False
        self.playing = False
        self.recording_id: str | None = None
        view.install_shortcuts(host or view)
        view.record_requested.connect(self.on_record)
        view.stop_requested.connect(self.on_stop)
        view.discard_requested.connect(self.on_discard)
        view.play_requested.connect(self.on_play)
        view.step_requested.connect(self.on_step)
        view.seek_requested.connect(self.on_seek)
        view.mode_chosen.connect(self.on_mode)
        hub.microphone_changed.connect(view.set_microphone_problem)
        if hub.microphone_problem is None:
            hub.check_microphone()
        else:
            view.set_microphone_problem(hub.microphone_problem)

    @property
    def owns(self) -> bool:
        return self.hub.owner is self

    def show_status(self, status: RecorderStatus) -> None:
        self.view.show_status(status)

    def released(self, sentence: str) -> None:
        """Another recorder (or leaving) took the microphone: ours is paused and kept."""
        self.recording_id = None
        self.playback_stopped()
        self.view.show_status(IDLE)
        self.view.show_note(sentence)

    def playback_stopped(self) -> None:
        if self.playing:
            self.playing = False
            self.view.show_playback(False, self.hub.bridge.status.position_ms,
                                    self.hub.bridge.status.duration_ms)

    def _run(self, fn: Callable[[], Any], ok: Callable[[Any], None] | None = None,
             cannot: str = "The recorder cannot do that right now") -> None:
        """A blocking recorder call on the write pool; the buttons wait for its answer."""
        self.busy = True
        self.hub.bridge.hold()

        def done(result: Any) -> None:
            self.busy = False
            self.hub.bridge.release()
            if ok is not None:
                ok(result)

        def failed(exc: BaseException) -> None:
            self.busy = False
            self.hub.bridge.release()
            sentence = str(exc.message) if isinstance(exc, DeviceProblem) \
                else failure_sentence(exc, cannot)
            self.view.show_problem(sentence)
            if isinstance(exc, DeviceProblem):
                self.hub.check_microphone()   # gone? Record waits until one is back

        self.hub.tasks.run(fn, done, failed, pool="write")

    # ------------------------------------------------------------ the buttons

    def on_record(self) -> None:
        if self.busy:
            return
        hub, recorder = self.hub, self.hub.recorder
        author = hub.author_id()
        if author is None:
            return
        if self.playing:
            self.pause_playback()   # the recording goes on from where playback was
        self.view.show_problem("")
        if self.owns and hub.bridge.status.state == "recording":
            self._run(recorder.pause)
            return
        if self.owns and hub.bridge.status.state == "paused":
            mode = self.view.mode()

            def resume() -> None:
                recorder.set_mode(mode)
                recorder.record()

            self._run(resume, cannot="Recording cannot start right now")
            return
        previous, hub.owner = hub.owner, self
        if previous is not None:
            previous.released(KEPT)
        target = replace(self._target(), priority=self.view.priority(),
                         work_type=self.view.work_type())
        mode = self.view.mode()

        def start() -> LocalRecording:
            if recorder.status().state == "recording":
                recorder.pause()   # another screen's recording: kept, paused
            rec = recorder.new(author, target)
            recorder.set_mode(mode)
            try:
                recorder.record()
            except DeviceProblem:
                recorder.discard()  # an empty recording nobody asked to keep
                raise
            return rec

        def started(rec: LocalRecording) -> None:
            self.recording_id = rec.id
            self.view.show_note("")
            hub.local_changed.emit()

        self._run(start, started, cannot="Recording cannot start right now")

    def open_recording(self, rec: LocalRecording) -> None:
        """Continue one of the author's paused or interrupted recordings here."""
        hub, recorder = self.hub, self.hub.recorder
        author = hub.author_id()
        if author is None or self.busy:
            return
        previous, hub.owner = hub.owner, self
        if previous is not None and previous is not self:
            previous.released(KEPT)

        def work() -> LocalRecording:
            if recorder.status().state == "recording":
                recorder.pause()
            return recorder.open(rec.id, author)

        def opened(got: LocalRecording) -> None:
            self.recording_id = got.id
            self.view.set_target(got.target.priority, got.target.work_type)
            self.view.show_note(f"Continuing the recording of {mmss(got.duration_ms)}: "
                                "press Record to go on, Stop to finish it.")

        self._run(work, opened, cannot="The recording cannot be opened")

    def on_stop(self) -> None:
        if self.busy or not self.owns:
            return
        hub = self.hub
        if self.playing:
            hub.player.stop()
            self.playing = False

        def stopped(rec: LocalRecording) -> None:
            hub.owner = None
            self.recording_id = None
            self.view.show_status(IDLE)
            self.view.show_note("Stopped: queuing for upload…")
            hub.queue_recording(rec, self.view.show_note)
            self.stopped.emit(rec)

        self._run(hub.recorder.stop, stopped, cannot="The recording cannot be stopped")

    def on_discard(self) -> None:
        if self.busy or not self.owns:
            return
        status = self.hub.bridge.poll_now()   # the length asked about is the current one
        if status.state == "recording":
            self._run(self.hub.recorder.pause)
        if not self.hub.confirm(self.view, "Discard recording",
                                f"Throw away this recording of {mmss(status.duration_ms)} "
                                f"for {self._target().patient_caption}? It cannot be "
                                "recovered."):
            return
        hub = self.hub

        def discarded(_r: object) -> None:
            hub.owner = None
            self.recording_id = None
            self.view.show_status(IDLE)
            self.view.show_note("The recording was discarded.")
            hub.local_changed.emit()

        self._run(hub.recorder.discard, discarded, cannot="The recording cannot be discarded")

    def on_step(self, delta_ms: int) -> None:
        if self.playing:
            player = self.hub.player
            player.seek(max(0, min(player.duration(), player.position() + delta_ms)))
            return
        if self.owns and self.hub.bridge.status.state == "paused":
            self.hub.recorder.seek(max(0, self.hub.bridge.status.position_ms + delta_ms))
            self.hub.bridge.poll_now()

    def on_seek(self, position_ms: int) -> None:
        if self.playing:
            self.hub.player.seek(position_ms)
        elif self.owns and self.hub.bridge.status.state == "paused":
            self.hub.recorder.seek(position_ms)
            self.hub.bridge.poll_now()

    def on_mode(self, mode: str) -> None:
        if self.owns:
            self.hub.recorder.set_mode(mode)
            self.hub.bridge.poll_now()
        else:
            self.view.show_status(replace(IDLE, mode=mode))

    def pause_playback(self) -> None:
        """Playback pauses; in overwrite or insert mode the next recording starts where
        it paused (as dictation products do)."""
        hub = self.hub
        position = hub.player.position()
        hub.player.pause()
        self.playing = False
        if self.owns and hub.bridge.status.state == "paused":
            hub.recorder.seek(position)
            hub.bridge.poll_now()
        self.view.show_playback(False, hub.bridge.status.position_ms,
                                hub.bridge.status.duration_ms)

    def on_play(self) -> None:
        hub = self.hub
        if self.playing:
            self.pause_playback()
            return
        author, rec_id = hub.author_id(), self.recording_id
        status = hub.bridge.status
        if not self.owns or rec_id is None or author is None or status.state != "paused":
            return
        start_at = status.position_ms if status.position_ms < status.duration_ms else 0
        local = hub.local

        def loaded(data: bytes) -> None:
            if not self.owns or self.recording_id != rec_id:
                return
            player = hub.take_player(self)
            player.load(rec_id, data)
            self.playing = True
            player.play(start_at)
            self.view.show_playback(True, start_at, status.duration_ms)

        def failed(exc: BaseException) -> None:
            self.view.show_problem(failure_sentence(exc, "The recording cannot be played"))

        hub.tasks.run(lambda: local.audio(rec_id, author), loaded, failed, pool="read")

    def player_position(self, position: int, duration: int) -> None:
        if self.playing:
            self.view.show_playback(True, position,
                                    duration or self.hub.bridge.status.duration_ms)

    def player_playing(self, playing: bool) -> None:
        if not playing and self.playing:   # played to the end
            self.pause_playback()

    def player_failed(self, sentence: str) -> None:
        self.view.show_problem(sentence)

    def detach(self) -> None:
        """The recorder leaves the screen (note editor closed, chart closed): a capture
        in progress is paused and kept for its author."""
        hub = self.hub
        if hub.player_owner is self:
            hub.player.stop()
            hub.player_owner = None
        if hub.owner is self:
            hub.owner = None
            if hub.bridge.status.state == "recording":
                hub.bridge.hold()

                def failed(exc: BaseException) -> None:
                    log.warning("pausing failed: %s", type(exc).__name__)
                    hub.bridge.release()

                hub.tasks.run(hub.recorder.pause, lambda _r: hub.bridge.release(), failed,
                              pool="write")
            hub.local_changed.emit()


def build_dictation(window: Any, charts: Any, recorder: DictationRecorder,
                    local: LocalDictations, queue: UploadQueueApi, recordings: RecordingsApi,
                    tasks: TaskRunner | InlineTaskRunner, session: Any, *,
                    keymap: dict[str, str] | None = None,
                    warm_up_ms: int | None = None) -> Any:
    """Everything dictation shows, wired to the window and the session (see
    desktop/presenters/dictation_app.py); returns the ``DictationScreens``."""
    from desktop.presenters.dictation_app import DictationScreens

    return DictationScreens.build(window, charts, recorder, local, queue, recordings, tasks,
                                  session, keymap=keymap, warm_up_ms=warm_up_ms)
