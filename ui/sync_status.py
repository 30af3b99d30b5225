"""The status bar's word on live updates: nothing while changes from other workstations
arrive as they happen; an amber "Live updates paused" while Redis cannot be reached."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import QLabel, QWidget

AMBER = "#8a5a00"
PAUSED = "\u26a0 Live updates paused"
PAUSED_SHORT = "\u26a0 Not live"
PAUSED_TIP = ("Changes made at other workstations show when you reopen or refresh; "
              "Redis cannot be reached.")


class SyncStatusView(QLabel):
    """Hidden while live (and before the first answer: the app starts as if live, and
    says so only when it is not). Bold amber text, so the state does not rest on colour.

    Signals:
        changed(): shown or hidden (the status bar makes room).
    """

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("sync-status")
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setStyleSheet(f"QLabel#sync-status {{ color: {AMBER}; font-weight: bold; }}")
        self.setToolTip(PAUSED_TIP)
        self.setAccessibleName(f"Live updates paused. {PAUSED_TIP}")
        self.compact = False
        self.live = True
        self.setText(PAUSED)
        self.hide()

    @Slot(bool)
    def show_live(self, live: bool) -> None:
        """Connect to ``ChangeNotifications.live_changed``."""
        if live == self.live:
            return
        self.live = live
        self.setVisible(not live)
        self.changed.emit()

    def full_width(self) -> int:
        """Room the long wording needs (the status bar decides on it, whichever wording
        is shown, so that choosing the short one never changes the decision)."""
        return self.fontMetrics().horizontalAdvance(PAUSED) + 12

    def set_compact(self, compact: bool) -> None:
        """The short wording for a narrow window (the tooltip keeps the whole story)."""
        if compact == self.compact:
            return
        self.compact = compact
        self.setText(PAUSED_SHORT if compact else PAUSED)
