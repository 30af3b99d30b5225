"""The status bar's indicators: the four stores (one each, or one summary when the window
is narrow) and a warning when this computer's clock disagrees with the database's."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QWidget

from backend_client.dto import STORE_LABELS, STORES, ClockReading, StoreHealth

GREEN = "#2e7d32"
RED = "#c62828"
GREY = "#757575"
AMBER = "#8a5a00"
CLOCK_OFF_SHORT = "\u26a0 Clock off"


class StoreIndicator(QLabel):
    """A coloured dot and a word, so the state does not rest on colour alone."""

    def __init__(self, store: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.setObjectName(f"store-{store}")
        self.setTextFormat(Qt.TextFormat.RichText)
        self.state = "checking"
        # Reserve the widest state's width so "down" is never clipped in the status bar.
        # (Before the first answer the word is an ellipsis; the tooltip says "Checking".)
        widths = []
        for word in ("ok", "down", "…"):
            self._render(GREY, word)
            widths.append(self.sizeHint().width())
        self.setMinimumWidth(max(widths))
        self._render(GREY, "…")
        self.setToolTip(f"Checking {STORE_LABELS[store]}…")

    def _render(self, colour: str, word: str) -> None:
        self.setText(
            f'<span style="color:{colour}; font-size:14px">&#9679;</span> '
            f"{STORE_LABELS[self.store]} <span style=\"color:{colour}\">{word}</span>"
        )

    def show_health(self, health: StoreHealth) -> None:
        self.state = "ok" if health.ok else "down"
        self._render(GREEN if health.ok else RED, "ok" if health.ok else "down")
        self.setToolTip(health.sentence())
        self.setAccessibleName(health.sentence())


class StoreStatusView(QWidget):
    """Four indicators side by side; in a narrow window one summary ("Stores ok",
    "Redis down") whose tooltip has every store's sentence."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 0, 4, 0)
        layout.setSpacing(14)
        self.indicators = {s: StoreIndicator(s, self) for s in STORES}
        for s in STORES:
            layout.addWidget(self.indicators[s])
        self.summary = QLabel(self)
        self.summary.setObjectName("store-summary")
        self.summary.setTextFormat(Qt.TextFormat.RichText)
        self.summary.hide()
        layout.addWidget(self.summary)
        self._health: dict[str, StoreHealth] = {}
        self.compact = False
        self._render_summary()

    def show_health(self, health: StoreHealth) -> None:
        self._health[health.store] = health
        self.indicators[health.store].show_health(health)
        self._render_summary()

    def full_width(self) -> int:
        """What the four indicators need side by side."""
        layout = self.layout()
        spacing = layout.spacing() if layout is not None else 0
        margins = layout.contentsMargins() if layout is not None else None
        edges = margins.left() + margins.right() if margins is not None else 0
        return (sum(max(i.sizeHint().width(), i.minimumWidth())
                    for i in self.indicators.values())
                + spacing * (len(self.indicators) - 1) + edges)

    def set_compact(self, compact: bool) -> None:
        self.compact = compact
        for indicator in self.indicators.values():
            indicator.setVisible(not compact)
        self.summary.setVisible(compact)

    def _render_summary(self) -> None:
        down = [STORE_LABELS[s] for s in STORES if s in self._health and not self._health[s].ok]
        if down:
            colour = RED
            word = f"{down[0]} down" if len(down) == 1 else f"{len(down)} stores down"
        elif len(self._health) < len(STORES):
            colour, word = GREY, "Checking stores…"
        else:
            colour, word = GREEN, "Stores ok"
        self.summary.setText(f'<span style="color:{colour}; font-size:14px">&#9679;</span> '
                             f'<span style="color:{colour}">{word}</span>')
        details = " ".join(self._health[s].sentence() for s in STORES if s in self._health)
        self.summary.setToolTip(details or "Checking the clinic's data stores…")
        self.summary.setAccessibleName(details or word)

    def needed_width(self) -> int:
        """What the indicators need as they are shown now (four, or the summary)."""
        if not self.compact:
            return self.full_width()
        layout = self.layout()
        margins = layout.contentsMargins() if layout is not None else None
        edges = margins.left() + margins.right() if margins is not None else 0
        return self.summary.sizeHint().width() + edges


class ClockWarningView(QLabel):
    """Hidden while this computer's clock agrees with the database's (within 2 minutes);
    otherwise both times, in amber, with the whole story in the tooltip.

    Signals:
        changed(): shown, hidden or reworded (the status bar makes room).
    """

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.compact = False
        self._full = ""
        self.setObjectName("clock-warning")
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setStyleSheet(f"QLabel#clock-warning {{ color: {AMBER}; font-weight: bold; }}")
        self.reading: ClockReading | None = None
        self.hide()

    def show_clock(self, reading: ClockReading) -> None:
        self.reading = reading
        if not reading.skewed:
            self.hide()
            self.changed.emit()
            return
        here, there = reading.workstation.astimezone(), reading.store_time.astimezone()
        self._full = (f"\u26a0 Clock off: here {here.day} {here:%b %H:%M}, "
                      f"database {there.day} {there:%b %H:%M}")
        self.setText(CLOCK_OFF_SHORT if self.compact else self._full)
        self.setToolTip(reading.sentence())
        self.setAccessibleName(reading.sentence())
        self.show()
        self.changed.emit()

    def full_width(self) -> int:
        """Room the wording with both times needs."""
        return self.fontMetrics().horizontalAdvance(self._full) + 4

    def set_compact(self, compact: bool) -> None:
        """Two words in a crowded status bar; both times stay in the tooltip (and the
        accessible name), so nothing is lost but room."""
        if compact != self.compact:
            self.compact = compact
            if self.reading is not None:
                self.setText(CLOCK_OFF_SHORT if compact else self._full)
