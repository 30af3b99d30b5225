"""My dictations: the signed-in author's recordings on this computer (paused, interrupted,
queued) with Continue, Finish and upload, Discard; continuing shows the recorder here. The
same dialog offers the interrupted ones at sign-in (no Continue there)."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QListView,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from backend_client.dictation.dto import PRIORITY_LABELS, WORK_TYPE_LABELS, LocalRecording
from ui.dictation.recorder_view import mmss

ID_ROLE = Qt.ItemDataRole.UserRole + 1
STATE_TEXT = {"paused": "paused, not finished", "interrupted": "interrupted (the app closed)",
              "stopped": "finished, waiting to upload", "recording": "recording now",
              "waiting": "waiting to upload", "uploading": "uploading",
              "registering": "being filed", "failed": "upload failed", "done": "delivered"}


def recording_line(rec: LocalRecording) -> str:
    when = rec.started_at.astimezone().strftime("%d %b %H:%M")
    t = rec.target
    return (f"{t.patient_caption}\n{PRIORITY_LABELS[t.priority]} · "
            f"{WORK_TYPE_LABELS[t.work_type]} · {mmss(rec.duration_ms)} · started {when} · "
            f"{STATE_TEXT.get(rec.state, rec.state)}")


class DictationListDialog(QDialog):
    """Signals:
        continue_requested(str), finish_requested(str), discard_requested(str): a
            recording's id.
    """

    continue_requested = Signal(str)
    finish_requested = Signal(str)
    discard_requested = Signal(str)

    def __init__(self, parent: QWidget | None = None, *, offer: bool = False) -> None:
        super().__init__(parent)
        self.offer = offer
        self.setObjectName("interruptedDialog" if offer else "dictationList")
        self.setWindowTitle("Interrupted recordings" if offer else "My dictations")
        self.recordings: list[LocalRecording] = []
        self.heading = QLabel(self)
        self.heading.setObjectName("dictationHeading")
        self.heading.setWordWrap(True)
        self.list = QListWidget(self)
        self.list.setObjectName("dictationItems")
        self.list.setAccessibleName("My recordings on this computer")
        self.list.setWordWrap(True)
        self.list.setResizeMode(QListView.ResizeMode.Adjust)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.setSpacing(2)
        self.list.setAlternatingRowColors(True)  # one recording from the next
        self.list.currentRowChanged.connect(lambda _r: self._enable())
        self.message = QLabel(self)
        self.message.setObjectName("dictationMessage")
        self.message.setWordWrap(True)
        self.message.hide()
        self.continue_button = QPushButton("&Continue", self)
        self.continue_button.setObjectName("continueButton")
        self.continue_button.clicked.connect(lambda: self._act(self.continue_requested))
        self.finish_button = QPushButton("&Finish and upload", self)
        self.finish_button.setObjectName("finishButton")
        self.finish_button.clicked.connect(lambda: self._act(self.finish_requested))
        self.discard_button = QPushButton("&Discard…", self)
        self.discard_button.setObjectName("discardButton")
        self.discard_button.clicked.connect(lambda: self._act(self.discard_requested))
        close = QPushButton("&Later" if offer else "Close", self)
        close.clicked.connect(self.reject)
        self.continue_button.setVisible(not offer)
        buttons = QHBoxLayout()
        for b in (self.continue_button, self.finish_button, self.discard_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        buttons.addWidget(close)
        self.recorder_box = QVBoxLayout()
        layout = QVBoxLayout(self)
        layout.addWidget(self.heading)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.message)
        layout.addLayout(buttons)
        layout.addLayout(self.recorder_box)
        self.resize(600, 420)
        self.show_recordings(())

    def show_recordings(self, recordings: tuple[LocalRecording, ...]) -> None:
        chosen = self.chosen()
        self.recordings = list(recordings)
        n = len(recordings)
        if self.offer:
            self.heading.setText(
                f"{n} recording{'s were' if n != 1 else ' was'} interrupted (the app closed "
                "while recording). What was recorded is kept on this computer: finish it "
                "(it is queued for upload) or discard it.")
        elif n:
            self.heading.setText(f"{n} recording{'s' if n != 1 else ''} of yours on this "
                                 "computer, not yet delivered.")
        else:
            self.heading.setText("No recordings of yours wait on this computer.")
        self.list.clear()
        for rec in recordings:
            item = QListWidgetItem(recording_line(rec))
            item.setData(ID_ROLE, rec.id)
            self.list.addItem(item)
        again = next((i for i, r in enumerate(recordings) if r.id == chosen), 0)
        if recordings:
            self.list.setCurrentRow(again)
        self._enable()
        if self.offer and not recordings:
            self.accept()

    def show_message(self, sentence: str) -> None:
        self.message.setText(sentence)
        self.message.setVisible(bool(sentence))

    def chosen(self) -> str | None:
        item = self.list.currentItem()
        return str(item.data(ID_ROLE)) if item is not None else None

    def _enable(self) -> None:
        chosen = next((r for r in self.recordings if r.id == self.chosen()), None)
        open_ = chosen is not None and chosen.state in ("paused", "interrupted")
        self.continue_button.setEnabled(open_)
        self.finish_button.setEnabled(open_)
        self.discard_button.setEnabled(open_)

    @Slot()
    def _act(self, signal: object) -> None:
        chosen = self.chosen()
        if chosen is not None:
            signal.emit(chosen)  # type: ignore[attr-defined]
