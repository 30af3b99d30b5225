"""The upload queue: each recording waiting to be delivered, being delivered, failed, or
delivered in the last hour — its patient, priority, state, size, progress and problem —
and Retry for a failed one."""

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

from backend_client.dictation.dto import PRIORITY_LABELS, QueueItem

ID_ROLE = Qt.ItemDataRole.UserRole + 1
STATE_TEXT = {"waiting": "waiting to upload", "uploading": "uploading",
              "registering": "being filed", "done": "delivered", "failed": "failed"}


def size_text(n: int) -> str:
    if n >= 1_000_000:
        return f"{n / 1_000_000:.1f} MB"
    if n >= 1000:
        return f"{n / 1000:.0f} kB"
    return f"{n} bytes"


def item_text(item: QueueItem, sent: int | None = None) -> str:
    sent = item.sent_bytes if sent is None else sent
    parts = [PRIORITY_LABELS.get(item.priority, item.priority),
             STATE_TEXT.get(item.state, item.state), size_text(item.size_bytes)]
    if item.state in ("uploading", "waiting") and item.size_bytes and 0 < sent:
        parts.append(f"{100 * sent // item.size_bytes} % sent")
    if item.attempts > 1 and item.state != "done":
        parts.append(f"tried {item.attempts} times")
    text = f"{item.patient_caption}\n{' · '.join(parts)}"
    if item.state == "waiting" and item.next_attempt_at is not None and item.attempts:
        text += "\nTries again by itself " + \
            item.next_attempt_at.astimezone().strftime("at %H:%M:%S")
    if item.problem:
        text += f"\n{item.problem}"
    return text


class QueuePanel(QDialog):
    """Signals:
        retry_requested(str): the failed recording's id.
    """

    retry_requested = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("queuePanel")
        self.setWindowTitle("Upload queue")
        self.items: list[QueueItem] = []
        self.sent: dict[str, int] = {}
        self.heading = QLabel(self)
        self.heading.setObjectName("queueHeading")
        self.heading.setWordWrap(True)
        self.list = QListWidget(self)
        self.list.setObjectName("queueList")
        self.list.setAccessibleName("Recordings in the upload queue")
        self.list.setWordWrap(True)
        self.list.setResizeMode(QListView.ResizeMode.Adjust)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.setSpacing(3)
        self.list.setAlternatingRowColors(True)  # one recording from the next
        self.list.currentRowChanged.connect(lambda _r: self._enable())
        self.message = QLabel(self)
        self.message.setObjectName("queueMessage")
        self.message.setWordWrap(True)
        self.message.hide()
        self.retry_button = QPushButton("&Retry", self)
        self.retry_button.setObjectName("retryButton")
        self.retry_button.setToolTip("Try the chosen failed recording again now")
        self.retry_button.clicked.connect(self.on_retry)
        close = QPushButton("Close", self)
        close.clicked.connect(self.accept)
        buttons = QHBoxLayout()
        buttons.addWidget(self.retry_button)
        buttons.addStretch(1)
        buttons.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.heading)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.message)
        layout.addLayout(buttons)
        self.resize(560, 420)
        self.show_items(())

    def show_items(self, items: tuple[QueueItem, ...]) -> None:
        chosen = self.chosen()
        self.items = list(items)
        waiting = sum(1 for i in items if i.state != "done")
        failed = sum(1 for i in items if i.state == "failed")
        if not items:
            self.heading.setText("Nothing waits to be uploaded: every recording made on this "
                                 "computer has been delivered.")
        else:
            self.heading.setText(
                f"{waiting} recording{'s' if waiting != 1 else ''} not yet delivered"
                + (f", {failed} of them failed (choose one and press Retry)" if failed
                   else "") + ". They go by themselves whenever the network allows, also "
                "after a restart.")
        self.list.clear()
        for item in items:
            row = QListWidgetItem(item_text(item, self.sent.get(item.recording_id)))
            row.setData(ID_ROLE, item.recording_id)
            if item.state == "failed":
                row.setForeground(Qt.GlobalColor.darkRed)
            self.list.addItem(row)
        again = next((i for i, it in enumerate(items) if it.recording_id == chosen), 0)
        if items:
            self.list.setCurrentRow(again)
        self._enable()

    def show_progress(self, recording_id: str, sent: int, total: int) -> None:
        self.sent[recording_id] = sent
        for i, item in enumerate(self.items):
            if item.recording_id == recording_id:
                shown = item if item.state != "waiting" else \
                    QueueItem(**{**item.__dict__, "state": "uploading"})
                row = self.list.item(i)
                if row is not None:
                    row.setText(item_text(shown, sent))
        del total

    def show_message(self, sentence: str) -> None:
        self.message.setText(sentence)
        self.message.setVisible(bool(sentence))

    def chosen(self) -> str | None:
        row = self.list.currentItem()
        return str(row.data(ID_ROLE)) if row is not None else None

    def _enable(self) -> None:
        chosen = self.chosen()
        item = next((i for i in self.items if i.recording_id == chosen), None)
        self.retry_button.setEnabled(item is not None and item.state == "failed")

    @Slot()
    def on_retry(self) -> None:
        chosen = self.chosen()
        if chosen is not None:
            self.retry_requested.emit(chosen)
