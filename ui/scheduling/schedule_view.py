"""The receptionist's schedule: a toolbar (previous / today / next, a date picker, Day /
Week / Agenda, a provider filter, "Show cancelled") above the day sheet (one column per
provider), a provider's week, or the agenda list. Renders DTOs and passes intents up.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta, tzinfo

from PySide6.QtCore import QDate, QEvent, QModelIndex, QObject, Qt, Signal
from PySide6.QtGui import QKeyEvent, QResizeEvent
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDateEdit,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from backend_client.dto import AppointmentInfo, DaySheet, ProviderInfo
from ui.patients.formatting import MONTHS, MONTHS_LONG
from ui.patients.patient_table_model import row_table
from ui.scheduling import grid_keys
from ui.scheduling.agenda_model import APPOINTMENT_ROLE, AgendaModel
from ui.scheduling.grid_model import GridColumn, working_minutes
from ui.scheduling.schedule_grid import ScheduleGridView

MODES = ("day", "week", "agenda")
WEEKDAYS_LONG = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
STYLE = (
    "QLabel#schedule-message[error=\"true\"] { background: #fdecea; color: #7f1d1d;"
    " border: 1px solid #f5c2c0; border-radius: 4px; padding: 4px 8px; }"
    " QLabel#schedule-message { color: #52606d; }"
    " QLabel#schedule-date { font-weight: bold; }"
    " QLabel#schedule-today { color: #0d47a1; }"
)


def long_date(day: date) -> str:
    return f"{WEEKDAYS_LONG[day.weekday()]} {day.day} {MONTHS_LONG[day.month - 1]} {day.year}"


def short_date(day: date) -> str:
    return f"{WEEKDAYS_LONG[day.weekday()][:3]} {day.day} {MONTHS[day.month - 1]}"


def day_columns(sheet: DaySheet, today: date, badges: dict[int, str] | None,
                zone: tzinfo | None) -> list[GridColumn]:
    """One column per provider of the sheet, in the sheet's order."""
    columns = []
    periods_of: dict[int, list[tuple[datetime, datetime]]] = {}
    for w in sheet.working:
        periods_of.setdefault(w.provider_id, []).append((w.starts_at, w.ends_at))
    appts_of: dict[int, list[AppointmentInfo]] = {}
    for a in sheet.appointments:
        appts_of.setdefault(a.provider_id, []).append(a)
    for provider in sheet.providers:
        periods = periods_of.get(provider.id, [])
        appts = tuple(appts_of.get(provider.id, ()))
        badge = "" if badges is None else badges.get(provider.id, "")
        columns.append(GridColumn(provider.id, sheet.day, provider.display_name,
                                  provider.specialty, working_minutes(periods, sheet.day, zone),
                                  appts, sheet.day == today, badge, provider.display_name))
    return columns


def week_columns(sheets: Sequence[DaySheet], provider: ProviderInfo, today: date,
                 zone: tzinfo | None) -> list[GridColumn]:
    """One column per day of one provider's week."""
    columns = []
    for sheet in sheets:
        periods = [(w.starts_at, w.ends_at) for w in sheet.working
                   if w.provider_id == provider.id]
        appts = tuple(a for a in sheet.appointments if a.provider_id == provider.id)
        booked = sum(1 for a in appts if a.status != "cancelled")
        summary = f"{booked} booked" if booked else "Nothing booked"
        if not periods:
            summary = f"Not working · {booked} booked" if booked else "Not working"
        if sheet.day == today:
            summary = f"Today · {summary}"
        columns.append(GridColumn(provider.id, sheet.day, short_date(sheet.day), summary,
                                  working_minutes(periods, sheet.day, zone), appts,
                                  sheet.day == today, "", provider.display_name))
    return columns


class ElidedLabel(QLabel):
    """One line that shortens itself with "…" (the whole text in its tooltip) rather
    than being cut off when the window is narrow."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._full = ""
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.setTextFormat(Qt.TextFormat.PlainText)

    def set_full_text(self, text: str) -> None:
        self._full = text
        self.setToolTip(text)
        self.setAccessibleName(text)
        self._fit()

    def full_text(self) -> str:
        return self._full

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt API)
        super().resizeEvent(event)
        self._fit()

    def _fit(self) -> None:
        self.setText(self.fontMetrics().elidedText(self._full, Qt.TextElideMode.ElideRight,
                                                   max(0, self.width() - 2)))


class ScheduleView(QWidget):
    """Signals:
        day_requested(object): show this date (toolbar, date picker, PageUp/PageDown, T).
        mode_requested(str): "day", "week" or "agenda".
        provider_filter_requested(int): one provider's id, 0 for all.
        book_requested(int, object): book with this provider at this aware datetime.
        open_requested(object): open this AppointmentInfo.
        move_requested(object, int, object, object): appointment, provider, start, end.
        cancel_requested(object): cancel this appointment.
        status_requested(object, str): set this appointment's status.
        waitlist_requested(): show the waitlist.
    """

    day_requested = Signal(object)
    mode_requested = Signal(str)
    provider_filter_requested = Signal(int)
    book_requested = Signal(int, object)
    open_requested = Signal(object)
    move_requested = Signal(object, int, object, object)
    cancel_requested = Signal(object)
    status_requested = Signal(object, str)
    waitlist_requested = Signal()

    def __init__(self, parent: QWidget | None = None, *, zone: tzinfo | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("schedule-view")
        self.setStyleSheet(STYLE)
        self._zone = zone
        self._day = date(2000, 1, 1)
        self._today = self._day
        self._mode = "day"
        self._providers: tuple[ProviderInfo, ...] = ()
        self._badges: dict[int, str] | None = None
        self._sheet: DaySheet | None = None
        self._agenda_all: tuple[AppointmentInfo, ...] = ()
        self._week_name = ""

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        layout.addLayout(self._build_navigation())
        layout.addLayout(self._build_filters())
        self.message = QLabel(self)
        self.message.setObjectName("schedule-message")
        self.message.setWordWrap(True)
        self.message.setTextFormat(Qt.TextFormat.PlainText)
        self.message.hide()
        layout.addWidget(self.message)

        self.stack = QStackedWidget(self)
        self.day_grid = ScheduleGridView(self.stack, zone=zone)
        self.day_grid.setAccessibleName("Day sheet")
        self.week_grid = ScheduleGridView(self.stack, zone=zone, min_column_width=110)
        self.week_grid.setAccessibleName("Week view")
        self.agenda_model = AgendaModel(self, zone=zone)
        self.agenda = row_table(self.stack, self.agenda_model, "agenda", "Agenda", wrap=False)
        self.agenda.horizontalHeader().setStretchLastSection(True)
        self.agenda.activated.connect(self._on_agenda_activated)
        self.agenda.installEventFilter(self)
        for widget in (self.day_grid, self.week_grid, self.agenda):
            self.stack.addWidget(widget)
        for grid in (self.day_grid, self.week_grid):
            grid.book_requested.connect(self.book_requested)
            grid.open_requested.connect(self.open_requested)
            grid.move_requested.connect(self.move_requested)
            grid.cancel_requested.connect(self.cancel_requested)
            grid.status_requested.connect(self.status_requested)
            grid.waitlist_requested.connect(self.waitlist_requested)
            grid.today_requested.connect(lambda: self.day_requested.emit(self._today))
            grid.day_step_requested.connect(self._step)
            grid.selection_changed.connect(self._on_selection_changed)
            grid.notice.connect(lambda text: self.show_message(text))
        layout.addWidget(self.stack, 1)
        self.selection_label = ElidedLabel(self)
        self.selection_label.setObjectName("schedule-selection")
        layout.addWidget(self.selection_label)

    def _build_navigation(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.previous_button = QPushButton("◀", self)
        self.previous_button.setToolTip("Previous day or week (PageUp in the schedule)")
        self.previous_button.setAccessibleName("Previous")
        self.previous_button.clicked.connect(lambda: self._step(-1))
        self.today_button = QPushButton("&Today", self)
        self.today_button.setToolTip("Go to today (Home or T in the schedule)")
        self.today_button.clicked.connect(lambda: self.day_requested.emit(self._today))
        self.next_button = QPushButton("▶", self)
        self.next_button.setToolTip("Next day or week (PageDown in the schedule)")
        self.next_button.setAccessibleName("Next")
        self.next_button.clicked.connect(lambda: self._step(1))
        self.date_edit = QDateEdit(self)
        self.date_edit.setCalendarPopup(True)
        self.date_edit.setDisplayFormat("d MMM yyyy")
        self.date_edit.setAccessibleName("Date")
        self.date_edit.dateChanged.connect(self._on_date_edit_changed)
        self.date_label = ElidedLabel(self)
        self.date_label.setObjectName("schedule-date")
        self.today_label = QLabel(self)
        self.today_label.setObjectName("schedule-today")
        for widget in (self.previous_button, self.today_button, self.next_button):
            widget.setFocusPolicy(Qt.FocusPolicy.TabFocus)
            row.addWidget(widget)
        row.addWidget(self.date_edit)
        row.addWidget(self.date_label, 1)
        row.addWidget(self.today_label)
        return row

    def _build_filters(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.mode_buttons: dict[str, QPushButton] = {}
        self.mode_group = QButtonGroup(self)
        for mode, text in zip(MODES, ("&Day", "&Week", "A&genda"), strict=True):
            button = QPushButton(text, self)
            button.setCheckable(True)
            button.setFocusPolicy(Qt.FocusPolicy.TabFocus)
            button.clicked.connect(lambda _=False, m=mode: self.mode_requested.emit(m))
            self.mode_group.addButton(button)
            self.mode_buttons[mode] = button
            row.addWidget(button)
        self.mode_buttons["day"].setChecked(True)
        row.addSpacing(8)
        self.provider_combo = QComboBox(self)
        self.provider_combo.setAccessibleName("Provider")
        self.provider_combo.setToolTip("Show one provider, or all")
        self.provider_combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.provider_combo.setMinimumContentsLength(12)
        self.provider_combo.addItem("All providers", 0)
        self.provider_combo.activated.connect(self._on_provider_activated)
        row.addWidget(self.provider_combo, 1)
        self.cancelled_check = QCheckBox("Show &cancelled", self)
        self.cancelled_check.toggled.connect(self._on_cancelled_toggled)
        row.addWidget(self.cancelled_check)
        self.waitlist_button = QPushButton("Wait&list…", self)
        self.waitlist_button.clicked.connect(self.waitlist_requested)
        row.addWidget(self.waitlist_button)
        return row

    # ------------------------------------------------------------------ from the presenter

    @property
    def mode(self) -> str:
        return self._mode

    @property
    def day(self) -> date:
        return self._day

    def grid(self) -> ScheduleGridView:
        return self.week_grid if self._mode == "week" else self.day_grid

    def set_today(self, today: date) -> None:
        self._today = today
        self.today_label.setText(f"Today: {short_date(today)} {today.year}")

    def show_date(self, day: date, mode: str) -> None:
        """Which day and view are shown (no signal back)."""
        self._day, self._mode = day, mode
        self.date_edit.blockSignals(True)
        self.date_edit.setDate(QDate(day.year, day.month, day.day))
        self.date_edit.blockSignals(False)
        self.mode_buttons[mode].setChecked(True)
        self.stack.setCurrentIndex(MODES.index(mode))
        if mode == "day":
            text = long_date(day)
        elif mode == "week":
            monday = day - timedelta(days=day.weekday())
            text = f"Week of {short_date(monday)} {monday.year}"
        else:
            end = day + timedelta(days=6)
            text = f"{short_date(day)} – {short_date(end)} {end.year}"
        if mode != "agenda" and (day == self._today if mode == "day"
                                 else 0 <= (self._today - day + timedelta(
                                     days=day.weekday())).days < 7):
            text += " · today"
        if mode == "week" and self._week_name:
            text += f" · {self._week_name}"
        self.date_label.set_full_text(text)

    def set_providers(self, providers: Sequence[ProviderInfo]) -> None:
        self._providers = tuple(providers)
        current = self.provider_filter()
        self.provider_combo.clear()
        self.provider_combo.addItem("All providers", 0)
        for provider in providers:
            label = f"{provider.display_name} ({provider.specialty})" if provider.specialty \
                else provider.display_name
            self.provider_combo.addItem(label, provider.id)
        self.set_provider_filter(current)

    def provider_filter(self) -> int:
        value = self.provider_combo.currentData()
        return int(value) if value else 0

    def set_provider_filter(self, provider_id: int) -> None:
        index = self.provider_combo.findData(provider_id)
        self.provider_combo.setCurrentIndex(max(0, index))

    def show_day_sheet(self, sheet: DaySheet, *, keep_pending: bool = False) -> None:
        first = self._sheet is None or self._sheet.day != sheet.day \
            or [p.id for p in self._sheet.providers] != [p.id for p in sheet.providers]
        self._sheet = sheet
        self.day_grid.set_columns(day_columns(sheet, self._today, self._badges, self._zone),
                                  clear_pending=not keep_pending)
        if first:
            self.day_grid.scroll_to_start()

    def show_week(self, sheets: Sequence[DaySheet], provider: ProviderInfo,
                  *, scroll: bool = True, keep_pending: bool = False) -> None:
        self._week_name = provider.display_name
        self.show_date(self._day, self._mode)
        self.week_grid.set_columns(week_columns(sheets, provider, self._today, self._zone),
                                   clear_pending=not keep_pending)
        if scroll:
            self.week_grid.scroll_to_start()

    def show_agenda(self, appointments: Sequence[AppointmentInfo]) -> None:
        shown = [a for a in appointments
                 if self.cancelled_check.isChecked() or a.status != "cancelled"]
        self.agenda_model.set_rows(shown, {p.id: p.display_name for p in self._providers})
        self.agenda.resizeColumnsToContents()
        self._agenda_all = tuple(appointments)

    def set_presence(self, badges: dict[int, str]) -> None:
        """Provider id → presence state ("signed_out" shows "Not signed in"); providers
        not in it show no badge."""
        self._badges = dict(badges)
        self.day_grid.set_badges(self._badges)

    def set_now(self, now: datetime) -> None:
        self.day_grid.set_now(now)
        self.week_grid.set_now(now)

    def clear_pending(self) -> None:
        self.day_grid.clear_pending()
        self.week_grid.clear_pending()

    def show_message(self, text: str, *, error: bool = False) -> None:
        self.message.setProperty("error", error)
        self.message.style().unpolish(self.message)
        self.message.style().polish(self.message)
        self.message.setText(text)
        self.message.setVisible(bool(text))

    def focus_schedule(self) -> None:
        (self.agenda if self._mode == "agenda" else self.grid()).setFocus()

    # ------------------------------------------------------------------ internals

    def _step(self, direction: int) -> None:
        days = 7 if self._mode in ("week", "agenda") else 1
        self.day_requested.emit(self._day + timedelta(days=direction * days))

    def _on_date_edit_changed(self, value: QDate) -> None:
        self.day_requested.emit(date(value.year(), value.month(), value.day()))

    def _on_provider_activated(self, _index: int) -> None:
        self.provider_filter_requested.emit(self.provider_filter())

    def _on_cancelled_toggled(self, checked: bool) -> None:
        self.day_grid.set_show_cancelled(checked)
        self.week_grid.set_show_cancelled(checked)
        self.show_agenda(self._agenda_all)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt API)
        """The agenda's keys: Delete cancels, Ctrl+Shift+A/I/D/N/U set the status (as in
        the day sheet)."""
        if watched is self.agenda and event.type() == QEvent.Type.KeyPress \
                and isinstance(event, QKeyEvent):
            index = self.agenda.currentIndex()
            appt = index.siblingAtColumn(0).data(APPOINTMENT_ROLE) if index.isValid() else None
            if appt is not None and event.key() == Qt.Key.Key_Delete \
                    and event.modifiers() == Qt.KeyboardModifier.NoModifier:
                if grid_keys.allowed(appt.status, "cancelled"):
                    self.cancel_requested.emit(appt)
                else:
                    self.show_message(f"An appointment that is {appt.status_label} cannot "
                                      "be cancelled.")
                return True
            status = grid_keys.status_for_key(event)
            if appt is not None and status is not None:
                sentence = grid_keys.refusal(appt, status)
                if sentence:
                    self.show_message(sentence)
                else:
                    self.status_requested.emit(appt, status)
                return True
        return super().eventFilter(watched, event)

    def _on_agenda_activated(self, index: QModelIndex) -> None:
        appt = index.siblingAtColumn(0).data(APPOINTMENT_ROLE)
        if appt is not None:
            self.open_requested.emit(appt)

    def _on_selection_changed(self, text: str) -> None:
        self.selection_label.set_full_text(text)
