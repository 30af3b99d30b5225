"""The status bar's count of recordings not yet delivered: "2 recordings waiting to
upload" (short "⇪ 2" in a narrow window), hidden at 0; a click (or its key, Ctrl+Shift+U by
default) opens the upload queue."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Signal
from PySide6.QtWidgets import QPushButton, QWidget

COMPACT_BELOW = 900
STYLE = ("QPushButton#upload-badge { border: 1px solid #6a1b9a; border-radius: 9px;"
         " padding: 1px 8px; color: #4a148c; background: #f3e5f5; font-weight: bold; }"
         " QPushButton#upload-badge:focus { border: 2px solid #4a148c; }")


def badge_text(count: int, compact: bool) -> str:
    if compact:
        return f"⇪ {count}"
    return f"{count} recording{'s' if count != 1 else ''} waiting to upload"


class UploadBadge(QPushButton):
    """Signals:
        changed(): shown or hidden (the status bar makes room).
    (``clicked`` opens the queue panel.)
    """

    changed = Signal()

    def __init__(self, parent: QWidget | None = None, *, keys: str = "Ctrl+Shift+U") -> None:
        super().__init__(parent)
        self.setObjectName("upload-badge")
        self.setStyleSheet(STYLE)
        self.setFlat(True)
        self.setToolTip(f"Recordings not yet delivered: open the upload queue ({keys})")
        self.count = 0
        self.compact = False
        self._watched: QWidget | None = None
        self.hide()

    def set_count(self, count: int) -> None:
        shown = count > 0
        changed = shown == self.isHidden()
        self.count = count
        self._render()
        self.setVisible(shown)
        if changed:
            self.changed.emit()

    def set_compact(self, compact: bool) -> None:
        if compact != self.compact:
            self.compact = compact
            self._render()

    def full_width(self) -> int:
        return self.fontMetrics().horizontalAdvance(badge_text(self.count, False)) + 24

    def follow_width_of(self, window: QWidget) -> None:
        self._watched = window
        window.installEventFilter(self)
        self.set_compact(window.width() < COMPACT_BELOW)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt API)
        if watched is self._watched and event.type() == QEvent.Type.Resize:
            self.set_compact(self._watched.width() < COMPACT_BELOW)
        return False

    def _render(self) -> None:
        self.setText(badge_text(self.count, self.compact))
        self.setAccessibleName(badge_text(self.count, False) + ": open the upload queue")
