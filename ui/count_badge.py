"""A count in the status bar (open tasks, recordings waiting to upload): a flat button,
hidden at 0, whose wording shortens when the window is narrow; a click opens its list.
Subclasses say the words (``text``, ``accessible``) and the colours (object name, style)."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Signal
from PySide6.QtWidgets import QPushButton, QWidget

# A window narrower than this shows the short wording (the status bar is crowded there).
COMPACT_BELOW = 900


class CountBadge(QPushButton):
    """Signals:
        changed(): shown or hidden (the status bar makes room).
    (``clicked`` opens the list it counts.)
    """

    changed = Signal()

    def __init__(self, name: str, style: str, tooltip: str,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(name)
        self.setStyleSheet(style)
        self.setFlat(True)
        self.setToolTip(tooltip)
        self.count = 0
        self.compact = False
        self._watched: QWidget | None = None
        self.hide()

    def text_for(self, count: int, compact: bool) -> str:
        raise NotImplementedError

    def accessible_for(self, count: int) -> str:
        raise NotImplementedError

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
        return self.fontMetrics().horizontalAdvance(self.text_for(self.count, False)) + 24

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
        self.setText(self.text_for(self.count, self.compact))
        self.setAccessibleName(self.accessible_for(self.count))
