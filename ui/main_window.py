"""The main window: menu, a banner for outages, the sign-in page or the work area (the
schedule, and the patient list with the open patient, as two tabs: Ctrl+1 and Ctrl+2;
then one closable tab per open chart: Ctrl+W closes it, Ctrl+Tab and Ctrl+PgDown cycle),
the lock screen over everything, the status bar with who is signed in and the stores'
health."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence, QResizeEvent
from PySide6.QtWidgets import (
    QDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMessageBox,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QTabBar,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from backend_client.dto import StoreHealth
from ui.admin.home import AdminHomeView
from ui.auth.lock_screen import LockScreenView
from ui.auth.sign_in_view import SignInView
from ui.patients.patient_header import PatientHeaderView
from ui.patients.patient_list_view import PatientListView
from ui.scheduling.schedule_view import ScheduleView
from ui.status_bar import StatusBarFit
from ui.store_status import ClockWarningView, StoreStatusView
from ui.sync_status import SyncStatusView

# Narrower than this, the open patient goes below the patient list rather than beside it.
SIDE_BY_SIDE_MIN = 900

BANNER_STYLE = (
    "QLabel#outage-banner { background: #fdecea; color: #7f1d1d; border: 1px solid #f5c2c0;"
    " border-radius: 4px; padding: 8px 12px; }"
)
DRAFTS_STYLE = (
    "QFrame#drafts-bar { background: #fff7e0; border: 1px solid #f0d58c; border-radius: 4px; }"
    " QFrame#drafts-bar QLabel { color: #5c4300; }"
)


class MainWindow(QMainWindow):
    """Signals:
        refresh_requested(): the user asked to check the stores now.
        register_patient_requested(): menu, Ctrl+N or the list's button.
        lock_requested(): File > Lock screen (Ctrl+L).
        sign_out_requested(): File > Sign out.
        sessions_requested(): Admin > Signed-in sessions.
        break_glass_report_requested(): Admin > Break-the-glass report.
        restore_drafts_requested(): the kept-forms bar's Reopen.
        discard_drafts_requested(): the kept-forms bar's Discard.
        chart_close_requested(QWidget): the user wants this chart tab closed (its close
            button, or Ctrl+W on it).
    """

    refresh_requested = Signal()
    register_patient_requested = Signal()
    lock_requested = Signal()
    sign_out_requested = Signal()
    sessions_requested = Signal()
    break_glass_report_requested = Signal()
    restore_drafts_requested = Signal()
    discard_drafts_requested = Signal()
    chart_close_requested = Signal(QWidget)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Dr. Assistant")
        self.resize(1100, 720)
        self._down: dict[str, StoreHealth] = {}
        self._who: str | None = None
        self._new_person = False  # someone else signed in: the next schedule starts them
        self._can_manage_sessions = False
        self._can_find = self._can_register = True
        self._can_read_audit = False
        self._patients_available = False

        central = QWidget(self)
        layout = QVBoxLayout(central)
        layout.setContentsMargins(24, 16, 24, 16)
        self.banner = QLabel(central)
        self.banner.setObjectName("outage-banner")
        self.banner.setStyleSheet(BANNER_STYLE)
        self.banner.setWordWrap(True)
        self.banner.hide()
        layout.addWidget(self.banner)
        self._build_drafts_bar(central)
        layout.addWidget(self.drafts_bar)

        self.pages = QStackedWidget(central)
        self.sign_in_view = SignInView(self.pages)
        self.pages.addWidget(self.sign_in_view)
        work = QWidget(self.pages)
        work.setObjectName("work-area")
        work_layout = QVBoxLayout(work)
        work_layout.setContentsMargins(0, 0, 0, 0)
        self.pages.addWidget(work)
        self.work_area = work

        self.patient_list = PatientListView(work)
        self.patient_list.register_requested.connect(self.register_patient_requested)
        self.patient_header = PatientHeaderView(work)
        # The chart (notes, encounters, orders) grows below the header in later issues.
        self.patient_area = QWidget(work)
        self.patient_area.setObjectName("patient-area")
        area = QVBoxLayout(self.patient_area)
        area.setContentsMargins(0, 0, 0, 0)
        area.addWidget(self.patient_header)
        area.addStretch(1)
        self.splitter = QSplitter(Qt.Orientation.Horizontal, work)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.addWidget(self.patient_list)
        self.splitter.addWidget(self.patient_area)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        self.splitter.setSizes([640, 420])
        # The schedule (the front desk's main screen) and the patients, one tab each; the
        # schedule's tab shows once scheduling is wired up (set_schedule_available).
        self.work_tabs = QTabWidget(work)
        self.work_tabs.setObjectName("work-tabs")
        self.work_tabs.setDocumentMode(True)
        self.schedule_view = ScheduleView(self.work_tabs)
        self.work_tabs.addTab(self.schedule_view, "&Schedule")
        self.work_tabs.addTab(self.splitter, "&Patients")
        self.work_tabs.setTabToolTip(0, "The day sheet, a provider's week, the agenda (Ctrl+1)")
        self.work_tabs.setTabToolTip(1, "Find and open patients (Ctrl+2)")
        self.work_tabs.setTabVisible(0, False)
        self.work_tabs.setCurrentIndex(1)
        # Charts open as closable tabs after these two, which stay (no close button).
        self.work_tabs.setTabsClosable(True)
        self.work_tabs.setMovable(False)
        for fixed in (0, 1):
            self.work_tabs.tabBar().setTabButton(fixed, QTabBar.ButtonPosition.RightSide,
                                                 None)
            self.work_tabs.tabBar().setTabButton(fixed, QTabBar.ButtonPosition.LeftSide,
                                                 None)
        self.work_tabs.tabCloseRequested.connect(self.on_work_tabs_tab_close_requested)
        self.work_tabs.currentChanged.connect(self.on_work_tabs_current_changed)
        self._schedule_available = False
        work_layout.addWidget(self.work_tabs, 1)
        self.admin_home = AdminHomeView(work)
        self.admin_home.sessions_button.clicked.connect(self.sessions_requested)
        self.admin_home.break_glass_button.clicked.connect(self.break_glass_report_requested)
        self.admin_home.hide()
        work_layout.addWidget(self.admin_home, 1)
        layout.addWidget(self.pages, 1)
        self.setCentralWidget(central)

        self.user_label = QLabel(self)
        self.user_label.setObjectName("signed-in-user")
        self.store_status = StoreStatusView(self)
        self.clock_warning = ClockWarningView(self)
        self.clock_warning.changed.connect(self._fit_status_bar)
        self.sync_status = SyncStatusView(self)
        self.sync_status.changed.connect(self._fit_status_bar)
        self.statusBar().addPermanentWidget(self.sync_status)
        self.statusBar().addPermanentWidget(self.clock_warning)
        self.statusBar().addPermanentWidget(self.user_label)
        self.statusBar().addPermanentWidget(self.store_status)
        self._status = StatusBarFit(self.statusBar(), self.user_label, self.store_status,
                                    self.clock_warning, self.sync_status)
        self.statusBar().showMessage("Connecting to the clinic's data…")
        self._build_menu()
        self.set_patients_available(False)
        # Created last so that it stacks above everything else in the window.
        self.lock_screen = LockScreenView(self)
        self.set_signed_in(None)

    def _build_drafts_bar(self, parent: QWidget) -> None:
        bar = QFrame(parent)
        bar.setObjectName("drafts-bar")
        bar.setStyleSheet(DRAFTS_STYLE)
        row = QHBoxLayout(bar)
        row.setContentsMargins(12, 6, 8, 6)
        self.drafts_label = QLabel(bar)
        self.drafts_label.setWordWrap(True)
        self.drafts_label.setTextFormat(Qt.TextFormat.PlainText)
        self.drafts_restore_button = QPushButton("Reopen", bar)
        self.drafts_restore_button.clicked.connect(self.restore_drafts_requested)
        self.drafts_discard_button = QPushButton("Discard", bar)
        self.drafts_discard_button.clicked.connect(self.discard_drafts_requested)
        row.addWidget(self.drafts_label, 1)
        row.addWidget(self.drafts_restore_button)
        row.addWidget(self.drafts_discard_button)
        bar.hide()
        self.drafts_bar = bar

    def _build_menu(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        self.lock_action = QAction("&Lock screen", self)
        self.lock_action.setShortcut(QKeySequence("Ctrl+L"))
        # From any window of the app, a form included (the screen is locked as a whole).
        self.lock_action.setShortcutContext(Qt.ShortcutContext.ApplicationShortcut)
        self.lock_action.triggered.connect(self.lock_requested)
        file_menu.addAction(self.lock_action)
        self.sign_out_action = QAction("Sign &out", self)
        self.sign_out_action.triggered.connect(self.sign_out_requested)
        file_menu.addAction(self.sign_out_action)
        file_menu.addSeparator()
        quit_action = QAction("&Quit", self)
        quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)
        file_menu.addAction(quit_action)

        self.patient_menu = patient_menu = self.menuBar().addMenu("&Patient")
        self.register_action = QAction("&Register new patient…", self)
        self.register_action.setShortcut(QKeySequence("Ctrl+N"))
        self.register_action.triggered.connect(self.register_patient_requested)
        patient_menu.addAction(self.register_action)
        self.find_action = QAction("&Find patient", self)
        self.find_action.setShortcut(QKeySequence("Ctrl+F"))
        self.find_action.triggered.connect(self._find_patient)
        patient_menu.addAction(self.find_action)

        self.view_menu = view_menu = self.menuBar().addMenu("&View")
        self.schedule_action = QAction("&Schedule", self)
        self.schedule_action.setShortcut(QKeySequence("Ctrl+1"))
        self.schedule_action.triggered.connect(self.show_schedule)
        view_menu.addAction(self.schedule_action)
        self.patients_action = QAction("&Patients", self)
        self.patients_action.setShortcut(QKeySequence("Ctrl+2"))
        self.patients_action.triggered.connect(self.show_patients)
        view_menu.addAction(self.patients_action)
        self.close_chart_action = QAction("&Close chart", self)
        self.close_chart_action.setShortcut(QKeySequence("Ctrl+W"))
        self.close_chart_action.triggered.connect(self.close_current_chart)
        self.close_chart_action.setEnabled(False)
        view_menu.addAction(self.close_chart_action)
        self.next_tab_action = QAction("&Next tab", self)
        self.next_tab_action.setShortcuts([QKeySequence("Ctrl+Tab"),
                                           QKeySequence("Ctrl+PgDown")])
        self.next_tab_action.triggered.connect(lambda: self.cycle_tabs(1))
        view_menu.addAction(self.next_tab_action)
        self.previous_tab_action = QAction("P&revious tab", self)
        self.previous_tab_action.setShortcuts([QKeySequence("Ctrl+Shift+Tab"),
                                               QKeySequence("Ctrl+PgUp")])
        self.previous_tab_action.triggered.connect(lambda: self.cycle_tabs(-1))
        view_menu.addAction(self.previous_tab_action)
        view_menu.addSeparator()
        refresh = QAction("Check &connections now", self)
        refresh.setShortcut(QKeySequence("F5"))
        refresh.triggered.connect(self.refresh_requested)
        view_menu.addAction(refresh)

        self.admin_menu = self.menuBar().addMenu("&Admin")
        self.sessions_action = QAction("Signed-in &sessions…", self)
        self.sessions_action.triggered.connect(self.sessions_requested)
        self.admin_menu.addAction(self.sessions_action)
        self.break_glass_action = QAction("&Break-the-glass report…", self)
        self.break_glass_action.triggered.connect(self.break_glass_report_requested)
        self.admin_menu.addAction(self.break_glass_action)

        self.help_menu = help_menu = self.menuBar().addMenu("&Help")
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

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt API)
        super().resizeEvent(event)
        self._fit_patients_tab()
        self._fit_status_bar()

    def _fit_patients_tab(self) -> None:
        """The list beside the open patient in a wide window; in a narrow one the patient
        goes below the list, so the list keeps the columns the desk needs (name, date of
        birth, MRN) and the patient's header its sentences, instead of both being cut."""
        narrow = self.width() < SIDE_BY_SIDE_MIN
        orientation = Qt.Orientation.Vertical if narrow else Qt.Orientation.Horizontal
        if self.splitter.orientation() != orientation:
            self.splitter.setOrientation(orientation)
            total = sum(self.splitter.sizes()) or (640 if narrow else 1060)
            self.splitter.setSizes([total * 3 // 5, total - total * 3 // 5])

    def track_status_indicator(self, widget: Any) -> None:
        """``widget`` (already in the status bar) is counted when deciding whether the
        store labels and the user's name must be shortened so that nothing is clipped."""
        self._status.indicators.append(widget)
        widget.changed.connect(self._fit_status_bar)
        self._fit_status_bar()

    def _fit_status_bar(self) -> None:
        """Shorten the status bar's indicators until they fit (ui/status_bar.py)."""
        self._status.who = self._who
        self._status.fit(self.width())

    def show_health(self, health: StoreHealth) -> None:
        self.store_status.show_health(health)
        if health.clock is not None:
            self.clock_warning.show_clock(health.clock)
        if health.ok:
            self._down.pop(health.store, None)
        else:
            self._down[health.store] = health
        self._render_banner()

    def _render_banner(self) -> None:
        if not self._down:
            self.banner.hide()
            self._show_passing("Connected", 5000)
            return
        lines = [h.sentence() for h in self._down.values()]
        self.banner.setText(
            "<b>Some of the clinic's data cannot be reached right now.</b> "
            "Work saved on this workstation is kept; the app retries on its own.<br>"
            + "<br>".join(lines)
        )
        self.banner.show()
        self._show_passing("Connection problem")

    def _show_passing(self, text: str, timeout: int = 0) -> None:
        self._status.show_passing(text, self.width(), timeout)

    def set_patients_available(self, available: bool) -> None:
        """Registering needs the patient registry; until it is ready the actions wait.
        (Typing in the search box is kept and searched once it is.)"""
        self._patients_available = available
        allowed = available and self._who is not None and self._can_register
        self.register_action.setEnabled(allowed)
        self.patient_list.set_register_enabled(allowed)

    # --------------------------------------------------------------- who is signed in

    def show_sign_in(self, notice: str = "") -> None:
        """The sign-in page instead of the work area (nobody is signed in)."""
        self.set_signed_in(None)
        self.sign_in_view.reset()
        if notice:
            self.sign_in_view.show_notice(notice)
        self.pages.setCurrentWidget(self.sign_in_view)
        self.sign_in_view.username_edit.setFocus()

    def show_work(self) -> None:
        self.pages.setCurrentWidget(self.work_area)
        if not self.admin_home.isHidden():
            self.admin_home.focus_first()
        elif self._schedule_available and self.work_tabs.currentIndex() == 0:
            self.schedule_view.focus_schedule()
        elif self.work_tabs.currentIndex() >= 2:
            # A chart tab the same person had open stays the one they see.
            current = self.work_tabs.currentWidget()
            if current is not None:
                current.setFocus()
        else:
            self.work_tabs.setCurrentIndex(1)
            self.patient_list.search_box.setFocus()

    def set_schedule_available(self, available: bool) -> None:
        """Show the Schedule tab (and make it the current one) once scheduling is wired."""
        newly = available and (not self._schedule_available or self._new_person)
        self._new_person = False
        self._schedule_available = available
        self.work_tabs.setTabVisible(0, available)
        self.schedule_action.setEnabled(available and self._who is not None)
        if newly:
            # Only for someone who has just signed in: the same person back after a lock
            # or an ended session finds the tab they were on ("kept as it was").
            self.work_tabs.setCurrentIndex(0)
            if self.pages.currentWidget() is self.work_area:
                # Signed in just now: the keyboard starts on the day sheet, not nowhere.
                self.schedule_view.focus_schedule()
        elif self.work_tabs.currentIndex() == 0:
            self.work_tabs.setCurrentIndex(1)

    def show_schedule(self) -> None:
        if self._schedule_available:
            self.work_tabs.setCurrentIndex(0)
            self.schedule_view.focus_schedule()

    def show_patients(self) -> None:
        self.work_tabs.setCurrentIndex(1)
        self.patient_list.search_box.setFocus()

    # --------------------------------------------------------------- chart tabs

    def add_chart_tab(self, widget: QWidget, title: str, tooltip: str) -> int:
        """A chart as a closable tab after the others; returns its index."""
        index = self.work_tabs.addTab(widget, title.replace("&", "&&"))
        self.work_tabs.setTabToolTip(index, tooltip)
        return index

    def set_chart_tab_title(self, widget: QWidget, title: str, tooltip: str) -> None:
        index = self.work_tabs.indexOf(widget)
        if index >= 2:
            self.work_tabs.setTabText(index, title.replace("&", "&&"))
            self.work_tabs.setTabToolTip(index, tooltip)

    def show_chart_tab(self, widget: QWidget) -> None:
        self.work_tabs.setCurrentWidget(widget)
        widget.setFocus()

    def remove_chart_tab(self, widget: QWidget) -> None:
        index = self.work_tabs.indexOf(widget)
        if index >= 2:
            self.work_tabs.removeTab(index)

    def chart_tabs(self) -> list[QWidget]:
        tabs = (self.work_tabs.widget(i) for i in range(2, self.work_tabs.count()))
        return [w for w in tabs if w is not None]

    def close_current_chart(self) -> None:
        if self.work_tabs.currentIndex() >= 2:
            self.chart_close_requested.emit(self.work_tabs.currentWidget())

    def cycle_tabs(self, step: int) -> None:
        """The next (or previous) visible tab, round the end."""
        count = self.work_tabs.count()
        index = self.work_tabs.currentIndex()
        for _ in range(count):
            index = (index + step) % count
            if self.work_tabs.isTabVisible(index):
                self.work_tabs.setCurrentIndex(index)
                return

    @Slot(int)
    def on_work_tabs_tab_close_requested(self, index: int) -> None:
        if index >= 2:
            self.chart_close_requested.emit(self.work_tabs.widget(index))

    @Slot(int)
    def on_work_tabs_current_changed(self, index: int) -> None:
        self.close_chart_action.setEnabled(index >= 2)

    def _find_patient(self) -> None:
        self.work_tabs.setCurrentIndex(1)
        self.patient_list.focus_search()

    def set_signed_in(self, who: str | None, *, can_manage_sessions: bool = False,
                      can_find_patients: bool = True, can_register: bool = True,
                      can_read_audit: bool = False) -> None:
        """``who`` is shown in the status bar ("Dr Ann Lee (doctor)"); None: nobody. What
        the person's role allows decides which menus work (the services enforce it too)."""
        if who != self._who:
            self._new_person = who is not None  # they start on the schedule, if any
        self._who, self._can_manage_sessions = who, can_manage_sessions
        self._can_find, self._can_register = can_find_patients, can_register
        self._can_read_audit = can_read_audit
        signed_in = who is not None
        self._fit_status_bar()
        self.lock_action.setEnabled(signed_in)
        self.sign_out_action.setEnabled(signed_in)
        self.schedule_action.setEnabled(signed_in and self._schedule_available)
        self.patients_action.setEnabled(signed_in)
        self.next_tab_action.setEnabled(signed_in)
        self.previous_tab_action.setEnabled(signed_in)
        self.close_chart_action.setEnabled(signed_in and self.work_tabs.currentIndex() >= 2)
        self.patient_menu.menuAction().setVisible(signed_in and can_find_patients)
        self.find_action.setEnabled(signed_in and can_find_patients)
        self.register_action.setEnabled(signed_in and can_register and self._patients_available)
        self.patient_list.set_register_enabled(can_register and self._patients_available)
        self.patient_list.setEnabled(can_find_patients or not signed_in)
        # Someone whose role has no patient records (an administrator) sees their own
        # tools instead of an empty patient list that warns them off.
        administering = signed_in and not can_find_patients
        self.work_tabs.setVisible(not administering)
        self.admin_home.setVisible(administering)
        self.admin_home.set_tools(sessions=can_manage_sessions, audit=can_read_audit)
        self.admin_menu.menuAction().setVisible(signed_in and (can_manage_sessions
                                                               or can_read_audit))
        self.sessions_action.setVisible(can_manage_sessions)
        self.sessions_action.setEnabled(signed_in and can_manage_sessions)
        self.break_glass_action.setVisible(can_read_audit)
        self.break_glass_action.setEnabled(signed_in and can_read_audit)
        if not signed_in:
            self.hide_kept_drafts()

    def _render_user(self) -> None:
        self._status.who = self._who
        self._status.render_user()

    def set_locked(self, locked: bool) -> None:
        """While locked no menu works (on platforms whose menu bar is outside the window
        the overlay cannot cover it)."""
        self.menuBar().setEnabled(not locked)
        if locked:
            for action in (self.lock_action, self.sign_out_action, self.register_action,
                           self.find_action, self.sessions_action, self.break_glass_action,
                           self.schedule_action, self.patients_action,
                           self.close_chart_action, self.next_tab_action,
                           self.previous_tab_action):
                action.setEnabled(False)
        else:
            self.set_signed_in(self._who, can_manage_sessions=self._can_manage_sessions,
                               can_find_patients=self._can_find,
                               can_register=self._can_register,
                               can_read_audit=self._can_read_audit)

    def show_kept_drafts(self, sentence: str) -> None:
        self.drafts_label.setText(sentence)
        self.drafts_bar.show()

    def hide_kept_drafts(self) -> None:
        self.drafts_bar.hide()

    def show_startup_error(self, sentence: str) -> None:
        self.banner.setText(f"<b>Dr. Assistant could not start its data stores.</b><br>{sentence}")
        self.banner.show()
        self.statusBar().showMessage("Not connected")
        self.patient_list.show_error("Patients cannot be searched: the clinic's data could not "
                                     "be opened (see the message above).")
        self.sign_in_view.show_error("Signing in needs the clinic's data, which could not be "
                                     "opened (see the message above).")
