"""The main window: menu, a banner for outages, the central area, the store status bar."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QLabel,
    QMainWindow,
    QMessageBox,
    QVBoxLayout,
    QWidget,
)

from backend_client.dto import StoreHealth
from ui.store_status import StoreStatusView

BANNER_STYLE = (
    "QLabel#outage-banner { background: #fdecea; color: #7f1d1d; border: 1px solid #f5c2c0;"
    " border-radius: 4px; padding: 8px 12px; }"
)


class MainWindow(QMainWindow):
    """Signals:
        refresh_requested(): the user asked to check the stores now.
    """

    refresh_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Dr. Assistant")
        self.resize(1100, 720)
        self._down: dict[str, StoreHealth] = {}

        central = QWidget(self)
        layout = QVBoxLayout(central)
        layout.setContentsMargins(24, 16, 24, 16)
        self.banner = QLabel(central)
        self.banner.setObjectName("outage-banner")
        self.banner.setStyleSheet(BANNER_STYLE)
        self.banner.setWordWrap(True)
        self.banner.hide()
        layout.addWidget(self.banner)

        self.placeholder = QLabel(central)
        self.placeholder.setObjectName("placeholder")
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.placeholder.setWordWrap(True)
        self.placeholder.setText(
            "<h2 style='color:#37474f'>Dr. Assistant</h2>"
            "<p style='color:#607d8b'>Patients, schedules and notes will appear here.</p>"
        )
        layout.addWidget(self.placeholder, 1)
        self.setCentralWidget(central)

        self.store_status = StoreStatusView(self)
        self.statusBar().addPermanentWidget(self.store_status)
        self.statusBar().showMessage("Connecting to the clinic's data…")
        self._build_menu()

    def _build_menu(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        quit_action = QAction("&Quit", self)
        quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)
        file_menu.addAction(quit_action)

        view_menu = self.menuBar().addMenu("&View")
        refresh = QAction("Check &connections now", self)
        refresh.setShortcut(QKeySequence("F5"))
        refresh.triggered.connect(self.refresh_requested)
        view_menu.addAction(refresh)

        help_menu = self.menuBar().addMenu("&Help")
        about = QAction("&About Dr. Assistant", self)
        about.triggered.connect(self._show_about)
        help_menu.addAction(about)

    def _show_about(self) -> None:
        QMessageBox.about(self, "About Dr. Assistant",
                          "Dr. Assistant — clinical notes, schedules and dictation.")

    # --------------------------------------------------------------- rendering

    def show_health(self, health: StoreHealth) -> None:
        self.store_status.show_health(health)
        if health.ok:
            self._down.pop(health.store, None)
        else:
            self._down[health.store] = health
        self._render_banner()

    def _render_banner(self) -> None:
        if not self._down:
            self.banner.hide()
            self.statusBar().showMessage("Connected", 5000)
            return
        lines = [h.sentence() for h in self._down.values()]
        self.banner.setText(
            "<b>Some of the clinic's data cannot be reached right now.</b> "
            "Work saved on this workstation is kept; the app retries on its own.<br>"
            + "<br>".join(lines)
        )
        self.banner.show()
        self.statusBar().showMessage("Connection problem")

    def show_startup_error(self, sentence: str) -> None:
        self.banner.setText(f"<b>Dr. Assistant could not start its data stores.</b><br>{sentence}")
        self.banner.show()
        self.statusBar().showMessage("Not connected")
