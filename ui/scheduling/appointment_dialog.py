"""Open an appointment: who, when, with whom, what for, and its status with only the legal
next steps as buttons; change its time, cancel it, or open the patient."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, time, timedelta, tzinfo

from PySide6.QtCore import Qt, QTime, Signal, Slot
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QTimeEdit,
    QVBoxLayout,
    QWidget,
)

from backend_client.dto import APPOINTMENT_TRANSITIONS, AppointmentInfo, ProviderInfo
from ui.patients.formatting import format_date
from ui.scheduling.booking_dialog import (
    STYLE,
    error_label,
    from_qdate,
    show_error,
    to_qdate,
)
from ui.scheduling.booking_text import (
    TRANSITION_LABELS,
    appointment_line,
    aware,
    local,
    status_label,
)


def next_steps(status: str) -> tuple[str, ...]:
    """The status buttons: the legal moves except cancelling (it has its own button,
    because it asks for a reason)."""
    return tuple(s for s in APPOINTMENT_TRANSITIONS.get(status, ()) if s != "cancelled")


class AppointmentDialog(QDialog):
    """Signals:
        status_requested(str): move the appointment to this status.
        change_time_requested(): the user chose "Change time…".
        cancel_requested(): the user chose "Cancel appointment…".
        open_patient_requested(int): open this patient's chart.
    """

    status_requested = Signal(str)
    change_time_requested = Signal()
    cancel_requested = Signal()
    open_patient_requested = Signal(int)

    def __init__(self, parent: QWidget | None, appointment: AppointmentInfo, *,
                 provider_name: str = "", zone: tzinfo | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("appointment-dialog")
        self.setWindowTitle("Appointment")
        self.setStyleSheet(STYLE)
        self._zone = zone
        self._provider_name = provider_name
        self.appointment = appointment
        self.patient = QLabel(self)
        self.patient.setObjectName("appointment-patient")
        self.patient.setTextFormat(Qt.TextFormat.PlainText)
        self.patient.setStyleSheet("font-size: 15px; font-weight: bold;")
        self.patient.setWordWrap(True)
        self.when = QLabel(self)
        self.type = QLabel(self)
        self.reason = QLabel(self)
        self.status = QLabel(self)
        self.status.setObjectName("appointment-status")
        for label in (self.when, self.type, self.reason, self.status):
            label.setTextFormat(Qt.TextFormat.PlainText)
            label.setWordWrap(True)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByKeyboard |
                                          Qt.TextInteractionFlag.TextSelectableByMouse)
        form = QFormLayout()
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        form.addRow("When:", self.when)
        form.addRow("Type:", self.type)
        form.addRow("Reason:", self.reason)
        form.addRow("Status:", self.status)

        self.steps = QGroupBox("Mark as", self)
        self._steps_layout = QHBoxLayout(self.steps)
        self._steps_layout.addStretch(1)  # buttons go before it, at their own width
        self.status_buttons: dict[str, QPushButton] = {}
        self.error = error_label(self)
        self.notice = QLabel(self)
        self.notice.setObjectName("appointment-notice")
        self.notice.setTextFormat(Qt.TextFormat.PlainText)
        self.notice.setWordWrap(True)
        self.notice.setStyleSheet("background: #e3f2fd; color: #0d47a1; padding: 4px 8px; "
                                  "border: 1px solid #90caf9; border-radius: 3px;")
        self.notice.hide()

        self.change_time_button = QPushButton("Change &time…", self)
        self.change_time_button.clicked.connect(self.change_time_requested)
        self.cancel_button = QPushButton("&Cancel appointment…", self)
        self.cancel_button.clicked.connect(self.cancel_requested)
        self.open_patient_button = QPushButton("Open &patient", self)
        self.open_patient_button.clicked.connect(
            lambda: self.open_patient_requested.emit(self.appointment.patient_id))
        self.close_button = QPushButton("Close", self)
        self.close_button.clicked.connect(self.reject)
        for button in (self.change_time_button, self.cancel_button, self.open_patient_button,
                       self.close_button):
            button.setAutoDefault(False)
        actions = QHBoxLayout()
        actions.addWidget(self.change_time_button)
        actions.addWidget(self.cancel_button)
        actions.addWidget(self.open_patient_button)
        actions.addStretch(1)
        actions.addWidget(self.close_button)

        layout = QVBoxLayout(self)
        layout.addWidget(self.notice)
        layout.addWidget(self.patient)
        layout.addLayout(form)
        layout.addWidget(self.steps)
        layout.addWidget(self.error)
        layout.addStretch(1)
        layout.addLayout(actions)
        self.load(appointment)
        self.resize(600, self.sizeHint().height())

    def load(self, appt: AppointmentInfo, provider_name: str | None = None) -> None:
        if provider_name is not None:
            self._provider_name = provider_name
        self.appointment = appt
        born = (f"born {format_date(appt.patient_birth_date)} · "
                if appt.patient_birth_date else "")
        self.patient.setText(f"{appt.patient_name}\n{born}MRN {appt.patient_mrn}")
        self.when.setText(appointment_line(appt, self._provider_name, self._zone)
                          + (" (repeats)" if appt.series_id is not None else ""))
        self.type.setText(appt.type_name or "No particular type")
        self.reason.setText(appt.reason or "—")
        extra = f" — {appt.cancel_reason}" if appt.status == "cancelled" and \
            appt.cancel_reason else ""
        self.status.setText(status_label(appt.status) + extra)
        for button in self.status_buttons.values():
            button.deleteLater()
        self.status_buttons = {}
        steps = next_steps(appt.status)
        for step in steps:
            button = QPushButton(TRANSITION_LABELS.get(step, status_label(step)), self.steps)
            button.setObjectName(f"status-{step}")
            button.setAutoDefault(False)
            button.setAccessibleName(f"Mark as {TRANSITION_LABELS.get(step, step)}")
            button.clicked.connect(lambda _=False, s=step: self.status_requested.emit(s))
            self._steps_layout.insertWidget(self._steps_layout.count() - 1, button)
            self.status_buttons[step] = button
        self.steps.setVisible(bool(steps))
        legal = APPOINTMENT_TRANSITIONS.get(appt.status, ())
        self.cancel_button.setEnabled("cancelled" in legal)
        self.change_time_button.setEnabled(appt.status in ("booked", "checked_in"))
        show_error(self.error, "")

    def set_busy(self, busy: bool) -> None:
        for button in self.status_buttons.values():
            button.setEnabled(not busy)

    def show_failure(self, text: str) -> None:
        show_error(self.error, text)

    def show_notice(self, text: str) -> None:
        self.notice.setText(text)
        self.notice.setAccessibleName(text)
        self.notice.setVisible(bool(text))


class ChangeTimeDialog(QDialog):
    """New provider, day, time and length for one appointment.

    Signals:
        move_requested(int, object, object): provider id, new start and end (aware).
    """

    move_requested = Signal(int, object, object)

    def __init__(self, parent: QWidget | None, appointment: AppointmentInfo,
                 providers: Sequence[ProviderInfo], *, zone: tzinfo | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("change-time-dialog")
        self.setWindowTitle("Change time")
        self.setStyleSheet(STYLE)
        self._zone = zone
        start = local(appointment.starts_at, zone)
        self.provider = QComboBox(self)
        self.provider.setAccessibleName("Provider")
        for p in providers:
            self.provider.addItem(p.display_name, p.id)
        self.provider.setCurrentIndex(max(self.provider.findData(appointment.provider_id), 0))
        self.day = QDateEdit(to_qdate(start.date()), self)
        self.day.setDisplayFormat("ddd d MMM yyyy")
        self.day.setCalendarPopup(True)
        self.day.setAccessibleName("Date")
        self.time = QTimeEdit(QTime(start.hour, start.minute), self)
        self.time.setDisplayFormat("HH:mm")
        self.time.setAccessibleName("Start time")
        self.minutes = QSpinBox(self)
        self.minutes.setRange(5, 600)
        self.minutes.setSingleStep(5)
        self.minutes.setSuffix(" min")
        self.minutes.setValue(appointment.minutes)
        self.minutes.setAccessibleName("Length in minutes")
        self.error = error_label(self)
        form = QFormLayout()
        form.addRow("Pro&vider", self.provider)
        form.addRow("&Date", self.day)
        form.addRow("&Time", self.time)
        form.addRow("&Length", self.minutes)
        cancel = QPushButton("Cancel", self)
        cancel.setAutoDefault(False)
        cancel.clicked.connect(self.reject)
        self.move_button = QPushButton("Move", self)
        self.move_button.setDefault(True)
        self.move_button.clicked.connect(self.on_move_button_clicked)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(cancel)
        buttons.addWidget(self.move_button)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(appointment.patient_name, self))
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addLayout(buttons)
        self.time.setFocus()

    def starts_at(self) -> datetime:
        t = self.time.time()
        return aware(datetime.combine(from_qdate(self.day.date()), time(t.hour(), t.minute())),
                     self._zone)

    def show_failure(self, text: str) -> None:
        show_error(self.error, text)

    @Slot()
    def on_move_button_clicked(self) -> None:
        start = self.starts_at()
        self.accept()
        self.move_requested.emit(int(self.provider.currentData()), start,
                                 start + timedelta(minutes=self.minutes.value()))
