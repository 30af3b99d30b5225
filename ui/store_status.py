"""The status-bar indicators for the four stores."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QWidget

from backend_client.dto import STORE_LABELS, STORES, StoreHealth

GREEN = "#2e7d32"
RED = "#c62828"
GREY = "#757575"


class StoreIndicator(QLabel):
    """A coloured dot and a word, so the state does not rest on colour alone."""

    def __init__(self, store: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.setObjectName(f"store-{store}")
        self.setTextFormat(Qt.TextFormat.RichText)
        self.state = "checking"
        # Reserve the widest state's width so "down" is never clipped in the status bar.
        widths = []
        for word in ("ok", "down", "checking…"):
            self._render(GREY, word)
            widths.append(self.sizeHint().width())
        self.setMinimumWidth(max(widths))
        self._render(GREY, "checking…")
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
    """Four indicators side by side."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 0, 4, 0)
        layout.setSpacing(14)
        self.indicators = {s: StoreIndicator(s, self) for s in STORES}
        for s in STORES:
            layout.addWidget(self.indicators[s])

    def show_health(self, health: StoreHealth) -> None:
        self.indicators[health.store].show_health(health)
