"""The main window: menu, a banner for outages, the patient list and the open patient,
the store status bar."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from backend_client.dto import StoreHealth
from ui.patients.patient_header import PatientHeaderView
from ui.patients.patient_list_view import PatientListView
from ui.store_status import StoreStatusView

BANNER_STYLE = (
    "QLabel#outage-banner { background: #fdecea; color: #7f1d1d; border: 1px solid #f5c2c0;"
    " border-radius: 4px; padding: 8px 12px; }"
)


class MainWindow(QMainWindow):
    """Signals:
        refresh_requested(): the user asked to check the stores now.
        register_patient_requested(): menu, Ctrl+N or the list's button.
    """

    refresh_requested = Signal()
    register_patient_requested = Signal()

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

        self.patient_list = PatientListView(central)
        self.patient_list.register_requested.connect(self.register_patient_requested)
        self.patient_header = PatientHeaderView(central)
        # The chart (notes, encounters, orders) grows below the header in later issues.
        self.patient_area = QWidget(central)
        self.patient_area.setObjectName("patient-area")
        area = QVBoxLayout(self.patient_area)
        area.setContentsMargins(0, 0, 0, 0)
        area.addWidget(self.patient_header)
        area.addStretch(1)
        self.splitter = QSplitter(Qt.Orientation.Horizontal, central)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.addWidget(self.patient_list)
        self.splitter.addWidget(self.patient_area)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        self.splitter.setSizes([640, 420])
        layout.addWidget(self.splitter, 1)
        self.setCentralWidget(central)

        self.store_status = StoreStatusView(self)
        self.statusBar().addPermanentWidget(self.store_status)
        self.statusBar().showMessage("Connecting to the clinic's data…")
        self._build_menu()
        self.set_patients_available(False)
        self.patient_list.search_box.setFocus()

    def _build_menu(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        quit_action = QAction("&Quit", self)
        quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)
        file_menu.addAction(quit_action)

        patient_menu = self.menuBar().addMenu("&Patient")
        self.register_action = QAction("&Register new patient…", self)
        self.register_action.setShortcut(QKeySequence("Ctrl+N"))
        self.register_action.triggered.connect(self.register_patient_requested)
        patient_menu.addAction(self.register_action)
        self.find_action = QAction("&Find patient", self)
        self.find_action.setShortcut(QKeySequence("Ctrl+F"))
        self.find_action.triggered.connect(self.patient_list.focus_search)
        patient_menu.addAction(self.find_action)

        view_menu = self.menuBar().addMenu("&View")
        refresh = QAction("Check &connections now", self)
        refresh.setShortcut(QKeySequence("F5"))
        refresh.triggered.connect(self.refresh_requested)
        view_menu.addAction(refresh)

        help_menu = self.menuBar().addMenu("&Help")
        about = QAction("&About Dr. Assistant", self)
        about.triggered.connect(self._show_about)
        help_menu.addAction(about)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt API)
        # An open form with typing in it asks before it goes; if the user keeps editing,
        # the window stays too (otherwise the form would float without its window).
        for dialog in self.findChildren(QDialog, options=Qt.FindChildOption.FindDirectChildrenOnly):
            if dialog.isVisible() and not dialog.close():
                event.ignore()
                return
        super().closeEvent(event)

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

    def set_patients_available(self, available: bool) -> None:
        """Registering needs the patient registry; until it is ready the actions wait.
        (Typing in the search box is kept and searched once it is.)"""
        self.register_action.setEnabled(available)
        self.patient_list.set_register_enabled(available)

    def show_startup_error(self, sentence: str) -> None:
        self.banner.setText(f"<b>Dr. Assistant could not start its data stores.</b><br>{sentence}")
        self.banner.show()
        self.statusBar().showMessage("Not connected")
        self.patient_list.show_error("Patients cannot be searched: the clinic's data could not "
                                     "be opened (see the message above).")
