"""The status bar's count of my open tasks: "3 tasks" (short "☑ 3" in a narrow window),
hidden at 0; a click (or Ctrl+Shift+I anywhere) opens the inbox."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Signal
from PySide6.QtWidgets import QPushButton, QWidget

# A window narrower than this shows the short wording (the status bar is crowded there).
COMPACT_BELOW = 900
STYLE = ("QPushButton#inbox-badge { border: 1px solid #1565c0; border-radius: 9px;"
         " padding: 1px 8px; color: #0d47a1; background: #e3f2fd; font-weight: bold; }"
         " QPushButton#inbox-badge:focus { border: 2px solid #0d47a1; }")


def badge_text(count: int, compact: bool) -> str:
    if compact:
        return f"☑ {count}"
    return f"{count} task{'s' if count != 1 else ''}"


class InboxBadge(QPushButton):
    """Signals:
        changed(): shown or hidden (the status bar makes room).
    (``clicked`` opens the inbox.)
    """

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("inbox-badge")
        self.setStyleSheet(STYLE)
        self.setFlat(True)
        self.setToolTip("My open tasks: open the inbox (Ctrl+Shift+I)")
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
        """Pick the wording from ``window``'s width as it is resized."""
        self._watched = window
        window.installEventFilter(self)
        self.set_compact(window.width() < COMPACT_BELOW)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt API)
        if watched is self._watched and event.type() == QEvent.Type.Resize:
            self.set_compact(self._watched.width() < COMPACT_BELOW)
        return False

    def _render(self) -> None:
        self.setText(badge_text(self.count, self.compact))
        n = self.count
        self.setAccessibleName(f"{n} open task{'s' if n != 1 else ''}: open the inbox")
