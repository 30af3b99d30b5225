"""The chart's Recordings section: the recorder (for those who may record), then the
patient's recordings — the stored ones (newest first: priority, work type, author, length,
status) and this author's not yet delivered ("on this computer — waiting to upload") — and
a player bar for the one being listened to. A role that may not listen (reception) sees a
sentence and no list at all."""

from __future__ import annotations

from datetime import datetime

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListView,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from backend_client.dictation.dto import (
    PRIORITY_LABELS,
    WORK_TYPE_LABELS,
    LocalRecording,
    StoredRecording,
)
from ui.dictation.recorder_view import RecorderView, mmss

ID_ROLE = Qt.ItemDataRole.UserRole + 1
KIND_ROLE = Qt.ItemDataRole.UserRole + 2      # "stored" or "local"
STATUS_TEXT = {"uploaded": "ready to transcribe", "transcribing": "being transcribed",
               "transcribed": "transcribed", "failed": "transcription failed"}
LOCAL_TEXT = {"paused": "on this computer — paused, not finished",
              "stopped": "on this computer — waiting to upload",
              "interrupted": "on this computer — interrupted",
              "recording": "on this computer — recording now",
              "open": "on this computer — open in the recorder",
              "uploading": "on this computer — uploading",
              "registering": "on this computer — being filed",
              "failed": "on this computer — upload failed (see the upload queue)"}


def _when(at: datetime) -> str:
    return at.astimezone().strftime("%d %b %Y %H:%M")


def stored_line(r: StoredRecording) -> str:
    return (f"{PRIORITY_LABELS[r.priority]} · {WORK_TYPE_LABELS[r.work_type]} · "
            f"{mmss(r.duration_ms)} — {r.author_name}\n{_when(r.recorded_at)} · "
            f"{STATUS_TEXT.get(r.status, r.status)}")


def local_line(r: LocalRecording) -> str:
    # A queued recording from an earlier run of the app: the queue knows no length; the
    # one open in the recorder shows its length there, live.
    length = f" · {mmss(r.duration_ms)}" if (r.duration_ms or r.state == "paused") \
        and r.state != "open" else ""
    return (f"{PRIORITY_LABELS[r.target.priority]} · {WORK_TYPE_LABELS[r.target.work_type]}"
            f"{length} — you\n{_when(r.started_at)} · {LOCAL_TEXT.get(r.state, r.state)}")


class PlayerBar(QWidget):
    """What is playing, its position (a slider) and Pause/Play.

    Signals:
        toggle_requested(), seek_requested(int)
    """

    toggle_requested = Signal()
    seek_requested = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("playerBar")
        self.label = QLabel(self)
        self.label.setObjectName("playerLabel")
        self.label.setWordWrap(True)
        self.slider = QSlider(Qt.Orientation.Horizontal, self)
        self.slider.setObjectName("playerSlider")
        self.slider.setAccessibleName("Playback position")
        self.slider.setPageStep(5000)
        self.time_label = QLabel("00:00 / 00:00", self)
        self.time_label.setObjectName("playerTime")
        self.button = QPushButton("&Pause", self)
        self.button.setObjectName("playerButton")
        self.button.clicked.connect(self.toggle_requested)
        self._updating = False
        self.slider.valueChanged.connect(self._on_value)
        row = QHBoxLayout()
        row.addWidget(self.slider, 1)
        row.addWidget(self.time_label)
        row.addWidget(self.button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.label)
        layout.addLayout(row)
        self.hide()

    def show_playing(self, what: str, playing: bool, position: int, duration: int) -> None:
        self.label.setText(what)
        # "&Pause" would take Alt+P, the Patient menu's: the bar says it in words instead.
        self.button.setText("Pause" if playing else "Play")
        self._updating = True
        try:
            self.slider.setRange(0, max(0, duration))
            self.slider.setValue(position)
        finally:
            self._updating = False
        self.time_label.setText(f"{mmss(position)} / {mmss(duration)}")
        self.show()

    def _on_value(self, value: int) -> None:
        if not self._updating:
            self.seek_requested.emit(value)


class RecordingsView(QWidget):
    """Signals:
        listen_requested(str, str): kind ("stored"/"local") and id of the chosen one.
        continue_requested(str): continue this local recording in the recorder.
    """

    listen_requested = Signal(str, str)
    continue_requested = Signal(str)

    def __init__(self, recorder: RecorderView | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("recordingsView")
        self.recorder = recorder
        self.message = QLabel(self)
        self.message.setObjectName("recordingsMessage")
        self.message.setWordWrap(True)
        self.message.setTextFormat(Qt.TextFormat.PlainText)
        self.message.hide()
        self.heading = QLabel("This patient's recordings", self)
        self.heading.setObjectName("recordingsHeading")
        self.heading.setStyleSheet("font-weight: 600;")
        self.list = QListWidget(self)
        self.list.setObjectName("recordingsList")
        self.list.setAccessibleName("This patient's recordings")
        self.list.setWordWrap(True)
        self.list.setResizeMode(QListView.ResizeMode.Adjust)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.setSpacing(2)
        self.list.setAlternatingRowColors(True)  # one recording from the next
        self.list.itemActivated.connect(lambda _i: self.on_listen())
        self.list.currentRowChanged.connect(lambda _r: self._enable())
        self.listen_button = QPushButton("Liste&n", self)
        self.listen_button.setObjectName("listenButton")
        self.listen_button.setToolTip("Play the chosen recording (Enter in the list)")
        self.listen_button.clicked.connect(self.on_listen)
        self.continue_button = QPushButton("&Continue", self)
        self.continue_button.setObjectName("continueButton")
        self.continue_button.setToolTip("Continue this recording of yours in the recorder")
        self.continue_button.clicked.connect(self.on_continue)
        self.player = PlayerBar(self)
        buttons = QHBoxLayout()
        buttons.addWidget(self.listen_button)
        buttons.addWidget(self.continue_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        if recorder is not None:
            recorder.setParent(self)
            layout.addWidget(recorder)
        layout.addWidget(self.message)
        layout.addWidget(self.heading)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.player)
        layout.addLayout(buttons)
        self._enable()

    def show_only_message(self, sentence: str) -> None:
        """A role that may not see recordings: the sentence, no list, no buttons."""
        for w in (self.heading, self.list, self.listen_button, self.continue_button,
                  self.player):
            w.hide()
        self.show_message(sentence)

    def show_message(self, sentence: str) -> None:
        self.message.setText(sentence)
        self.message.setVisible(bool(sentence))

    def show_recordings(self, stored: tuple[StoredRecording, ...],
                        local: tuple[LocalRecording, ...]) -> None:
        chosen = self.chosen()
        self.list.clear()
        for rec in local:
            self._add(local_line(rec), rec.id, "local")
        for stored_rec in stored:
            self._add(stored_line(stored_rec), stored_rec.id, "stored")
        if not stored and not local:
            item = QListWidgetItem("No recordings yet.")
            item.setFlags(Qt.ItemFlag.NoItemFlags)
            self.list.addItem(item)
        rows = [self.list.item(i) for i in range(self.list.count())]
        again = next((i for i, it in enumerate(rows)
                      if chosen and it.data(ID_ROLE) == chosen[1]), 0)
        self.list.setCurrentRow(again)
        self._enable()

    def _add(self, text: str, rec_id: str, kind: str) -> None:
        item = QListWidgetItem(text)
        item.setData(ID_ROLE, rec_id)
        item.setData(KIND_ROLE, kind)
        self.list.addItem(item)

    def chosen(self) -> tuple[str, str] | None:
        item = self.list.currentItem()
        if item is None or item.data(ID_ROLE) is None:
            return None
        return str(item.data(KIND_ROLE)), str(item.data(ID_ROLE))

    def _enable(self) -> None:
        chosen = self.chosen()
        self.listen_button.setEnabled(chosen is not None)
        self.continue_button.setVisible(self.recorder is not None)
        self.continue_button.setEnabled(chosen is not None and chosen[0] == "local")

    @Slot()
    def on_listen(self) -> None:
        chosen = self.chosen()
        if chosen is not None:
            self.listen_requested.emit(*chosen)

    @Slot()
    def on_continue(self) -> None:
        chosen = self.chosen()
        if chosen is not None and chosen[0] == "local":
            self.continue_requested.emit(chosen[1])
