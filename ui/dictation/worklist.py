"""The transcription worklist: delivered recordings not yet transcribed, STAT first, then
urgent, then routine, oldest first within each; Listen plays the chosen one."""

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

from backend_client.dictation.dto import StoredRecording
from ui.dictation.recordings_view import PlayerBar, stored_line

ID_ROLE = Qt.ItemDataRole.UserRole + 1


class WorklistDialog(QDialog):
    """Signals:
        listen_requested(str): the chosen recording's id.
    """

    listen_requested = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("worklist")
        self.setWindowTitle("Transcription worklist")
        self.recordings: list[StoredRecording] = []
        self.heading = QLabel(self)
        self.heading.setObjectName("worklistHeading")
        self.heading.setWordWrap(True)
        self.list = QListWidget(self)
        self.list.setObjectName("worklistItems")
        self.list.setAccessibleName("Recordings to transcribe")
        self.list.setWordWrap(True)
        self.list.setResizeMode(QListView.ResizeMode.Adjust)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.setSpacing(2)
        self.list.setAlternatingRowColors(True)
        self.list.itemActivated.connect(lambda _i: self.on_listen())
        self.message = QLabel(self)
        self.message.setObjectName("worklistMessage")
        self.message.setWordWrap(True)
        self.message.hide()
        self.player = PlayerBar(self)
        self.listen_button = QPushButton("Liste&n", self)
        self.listen_button.setObjectName("listenButton")
        self.listen_button.clicked.connect(self.on_listen)
        close = QPushButton("Close", self)
        close.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        buttons.addWidget(self.listen_button)
        buttons.addStretch(1)
        buttons.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.heading)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.message)
        layout.addWidget(self.player)
        layout.addLayout(buttons)
        self.resize(600, 480)
        self.show_recordings(())

    def show_recordings(self, recordings: tuple[StoredRecording, ...]) -> None:
        self.recordings = list(recordings)
        n = len(recordings)
        self.heading.setText(f"{n} recording{'s' if n != 1 else ''} to transcribe, STAT and "
                             "urgent first." if n else "Nothing waits to be transcribed.")
        self.list.clear()
        for rec in recordings:
            item = QListWidgetItem(f"{rec.patient_caption}\n{stored_line(rec)}")
            item.setData(ID_ROLE, rec.id)
            self.list.addItem(item)
        if recordings:
            self.list.setCurrentRow(0)
        self.listen_button.setEnabled(bool(recordings))

    def show_message(self, sentence: str) -> None:
        self.message.setText(sentence)
        self.message.setVisible(bool(sentence))

    @Slot()
    def on_listen(self) -> None:
        item = self.list.currentItem()
        if item is not None and item.data(ID_ROLE):
            self.listen_requested.emit(str(item.data(ID_ROLE)))
