"""How the main window's status bar fits its indicators side by side (issue 13: at 700 px
with every indicator up, they overlapped and clipped).

Shortened one step at a time until everything fits without overlapping or clipping:

1. four store indicators and "Signed in as …", when they fit beside the others and the
   room kept for passing messages;
2. one store summary, the name alone, the short wording of the other indicators;
3. the clock warning in two words (both times stay in its tooltip), the room for passing
   messages given up (the banner says what is wrong);
4. the name cut short with "…" (whole in its tooltip and accessible name).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QStatusBar

from ui.store_status import ClockWarningView, StoreStatusView
from ui.sync_status import SyncStatusView

# Room kept on the status bar's left for its passing messages ("Connected").
STATUS_MESSAGE_ROOM = 120
# The size grip and the status bar's own margins, on the right.
STATUS_GRIP_ROOM = 28
# The passing words the window itself shows (others' messages are left alone).
PASSING = ("Connected", "Connection problem")
# A name cut short to fit the status bar keeps at least this much of itself.
MIN_NAME_ROOM = 72


class StatusBarFit:
    """The status bar's permanent indicators and the rules that fit them to a width.

    Args:
        bar: the window's status bar (its passing messages are shown only where they fit).
        user, stores, clock, sync: the indicators the window always has.
    """

    def __init__(self, bar: QStatusBar, user: QLabel, stores: StoreStatusView,
                 clock: ClockWarningView, sync: SyncStatusView) -> None:
        self.bar, self.user, self.stores, self.clock, self.sync = bar, user, stores, clock, sync
        # Other indicators (the task inbox's count, uploads waiting): each has
        # ``full_width()`` and is counted before the store labels shrink.
        self.indicators: list[Any] = []
        self.who: str | None = None
        self._user_room: int | None = None  # pixels for the name when it must be cut short

    def fit(self, width: int) -> None:
        """Choose each indicator's wording for a window ``width`` pixels wide."""
        fm = self.user.fontMetrics()
        who = f"Signed in as {self.who}" if self.who else "Not signed in"
        needed = (self.stores.full_width() + fm.horizontalAdvance(who) + 24
                  + (self.clock.full_width() + 12 if not self.clock.isHidden() else 0)
                  + (self.sync.full_width() + 12 if not self.sync.isHidden() else 0)
                  + sum(w.full_width() + 12 for w in self.indicators if not w.isHidden()))
        compact = needed > width - STATUS_MESSAGE_ROOM
        if compact != self.stores.compact:
            self.stores.set_compact(compact)
        self.sync.set_compact(compact)
        self.clock.set_compact(False)
        self._user_room = None
        self.render_user()
        room = width - STATUS_GRIP_ROOM
        if compact and self.needed() > room:
            self.clock.set_compact(True)
        excess = self.needed() - room
        if compact and excess > 0:
            self._user_room = max(MIN_NAME_ROOM, self.user.sizeHint().width() - excess)
            self.render_user()
        message = self.bar.currentMessage()
        if message in PASSING and not self.message_fits(message, width):
            self.bar.clearMessage()

    def needed(self) -> int:
        """The width the shown indicators ask for now, with their gaps."""
        shown = [w for w in (self.sync, self.clock, *self.indicators) if not w.isHidden()]
        return (self.stores.needed_width() + self.user.sizeHint().width() + 24
                + sum(w.sizeHint().width() + 12 for w in shown))

    def render_user(self) -> None:
        who = self.who
        if who is None:
            text = "Not signed in"
        else:
            text = who if self.stores.compact else f"Signed in as {who}"
        if self._user_room is not None:
            text = self.user.fontMetrics().elidedText(text, Qt.TextElideMode.ElideRight,
                                                      self._user_room)
        self.user.setText(text)
        self.user.setToolTip(f"Signed in as {who}" if who else "")
        self.user.setAccessibleName(f"Signed in as {who}" if who else "Not signed in")

    def show_passing(self, text: str, width: int, timeout: int = 0) -> None:
        """A passing word on the left that repeats what the indicators and the banner say:
        shown only where it fits whole (the status bar would cut it)."""
        if self.message_fits(text, width):
            self.bar.showMessage(text, timeout)
        else:
            self.bar.clearMessage()

    def message_fits(self, text: str, width: int) -> bool:
        free = width - STATUS_GRIP_ROOM - self.needed()
        return self.bar.fontMetrics().horizontalAdvance(text) + 16 <= free
