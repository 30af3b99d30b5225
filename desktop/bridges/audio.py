"""The recorder and the player on the GUI thread.

``AudioBridge`` polls ``DictationRecorder.status()`` with a QTimer (~30 Hz) only while the
recorder captures (or a watcher asks for it), and emits each status. ``status()`` only
reads what the writer thread left in memory, so a poll costs microseconds; the calls that
may block (``record()`` opens the device, ``stop()`` flushes the last segment) are run on
the TaskRunner's write pool by the presenter.

``AudioPlayer`` plays OGG/Opus bytes with QtMultimedia (QMediaPlayer + QAudioOutput, the
source a QBuffer): made on first use, since loading the multimedia backend takes a while.
"""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QObject, Qt, QTimer, QUrl, Signal

from backend_client.dictation.api import DictationRecorder
from backend_client.dictation.dto import RecorderStatus

log = logging.getLogger(__name__)

POLL_MS = 33


class AudioBridge(QObject):
    """Signals:
        status_changed(object): a ``RecorderStatus``, ~30 times a second while capturing,
            and once after each ``poll_now``.
    """

    status_changed = Signal(object)

    def __init__(self, recorder: DictationRecorder, parent: QObject | None = None, *,
                 interval_ms: int = POLL_MS) -> None:
        super().__init__(parent)
        self.recorder = recorder
        self.status: RecorderStatus = recorder.status()
        self.polls = 0
        self._timer = QTimer(self)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self.poll_now)
        self._held = 0   # watchers that want polling even when not capturing

    def polling(self) -> bool:
        return self._timer.isActive()

    def poll_now(self) -> RecorderStatus:
        """Read the status now and emit it; the timer runs while capture runs."""
        try:
            status = self.recorder.status()
        except Exception as exc:  # a recorder bug must not stop the event loop
            log.warning("reading the recorder's status failed: %s", type(exc).__name__)
            return self.status
        self.polls += 1
        self.status = status
        if status.state == "recording" or self._held:
            if not self._timer.isActive():
                self._timer.start()
        elif self._timer.isActive():
            self._timer.stop()
        self.status_changed.emit(status)
        return status

    def hold(self) -> None:
        """Keep polling until ``release`` (the recorder is about to start)."""
        self._held += 1
        if not self._timer.isActive():
            self._timer.start()

    def release(self) -> None:
        self._held = max(0, self._held - 1)
        self.poll_now()

    def stop(self) -> None:
        self._held = 0
        self._timer.stop()


class AudioPlayer(QObject):
    """Plays one recording's bytes at a time.

    Signals:
        position_changed(int, int): position and length in ms while playing.
        playing_changed(bool)
        failed(str): a sentence (the audio could not be decoded, no output device).
    """

    position_changed = Signal(int, int)
    playing_changed = Signal(bool)
    failed = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._player: Any = None
        self._output: Any = None
        self._buffer: QBuffer | None = None
        self.source_id: str | None = None
        self.playing = False

    def warm_up(self) -> None:
        """Make the player now (~70 ms on the GUI thread the first time: QtMultimedia's
        backend loads), at a quiet moment, rather than when the user presses Play."""
        self._ensure()

    def _ensure(self) -> Any:
        if self._player is None:
            from PySide6.QtMultimedia import QAudioOutput, QMediaPlayer

            self._player = QMediaPlayer(self)
            self._output = QAudioOutput(self)
            self._player.setAudioOutput(self._output)
            self._player.positionChanged.connect(self._on_position)
            self._player.playbackStateChanged.connect(self._on_state)
            self._player.errorOccurred.connect(self._on_error)
        return self._player

    def load(self, source_id: str, data: bytes) -> None:
        """``data`` (OGG/Opus) is the source from now on, at 0, not yet playing."""
        player = self._ensure()
        player.stop()
        buffer = QBuffer(self)
        buffer.setData(QByteArray(data))
        buffer.open(QIODevice.OpenModeFlag.ReadOnly)
        player.setSourceDevice(buffer, QUrl(f"{source_id}.ogg"))
        if self._buffer is not None:
            self._buffer.deleteLater()
        self._buffer = buffer
        self.source_id = source_id

    def play(self, position_ms: int = 0) -> None:
        player = self._ensure()
        if position_ms:
            player.setPosition(position_ms)
        player.play()

    def pause(self) -> None:
        if self._player is not None:
            self._player.pause()

    def stop(self) -> None:
        if self._player is not None:
            self._player.stop()
        self.source_id = None

    def seek(self, position_ms: int) -> None:
        if self._player is not None:
            self._player.setPosition(position_ms)

    def position(self) -> int:
        return int(self._player.position()) if self._player is not None else 0

    def duration(self) -> int:
        return int(self._player.duration()) if self._player is not None else 0

    def _on_position(self, position: int) -> None:
        self.position_changed.emit(int(position), self.duration())

    def _on_state(self, state: Any) -> None:
        from PySide6.QtMultimedia import QMediaPlayer

        playing = state == QMediaPlayer.PlaybackState.PlayingState
        if playing != self.playing:
            self.playing = playing
            self.playing_changed.emit(playing)

    def _on_error(self, _error: Any, text: str) -> None:
        del text  # the backend's words name files, not what a user can do
        self.failed.emit("This recording cannot be played on this computer (its audio "
                         "could not be decoded or there is no sound output).")
