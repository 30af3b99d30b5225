"""Cancel an appointment (reason required, scope for a series), and the small scope
chooser a move of a series occurrence asks first."""

from __future__ import annotations

from datetime import tzinfo

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QButtonGroup,
    QDialog,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from backend_client.dto import AppointmentInfo
from ui.scheduling.booking_dialog import STYLE, error_label, required_reason, show_error
from ui.scheduling.booking_text import appointment_line

QUICK_REASONS = ("Patient cancelled", "Patient unwell", "Clinician unavailable",
                 "Booked in error", "Rescheduled")
REASON_REQUIRED = "Say why it is cancelled: pick a common reason or type one."


class ScopeChooser(QGroupBox):
    """"This appointment only" / "This and following", arrow keys between them."""

    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(title, parent)
        self.one = QRadioButton("This appointment &only", self)
        self.following = QRadioButton("This and &following appointments of the series", self)
        self.one.setChecked(True)
        group = QButtonGroup(self)
        group.addButton(self.one)
        group.addButton(self.following)
        layout = QVBoxLayout(self)
        layout.addWidget(self.one)
        layout.addWidget(self.following)

    def scope(self) -> str:
        return "following" if self.following.isChecked() else "one"


class ScopeDialog(QDialog):
    """Asks which occurrences a move applies to.

    Signals:
        scope_chosen(str): "one" or "following".
    """

    scope_chosen = Signal(str)

    def __init__(self, parent: QWidget | None, *, verb: str = "Move") -> None:
        super().__init__(parent)
        self.setObjectName("scope-dialog")
        self.setWindowTitle(f"{verb} a repeating appointment")
        text = QLabel("This appointment is one of a series. Which appointments should "
                      "change?", self)
        text.setWordWrap(True)
        self.chooser = ScopeChooser(f"{verb}:", self)
        cancel = QPushButton("Cancel", self)
        cancel.setAutoDefault(False)
        cancel.clicked.connect(self.reject)
        self.go_button = QPushButton(verb, self)
        self.go_button.setDefault(True)
        self.go_button.clicked.connect(self.on_go_button_clicked)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(cancel)
        buttons.addWidget(self.go_button)
        layout = QVBoxLayout(self)
        layout.addWidget(text)
        layout.addWidget(self.chooser)
        layout.addLayout(buttons)
        self.chooser.one.setFocus()

    @Slot()
    def on_go_button_clicked(self) -> None:
        self.accept()
        self.scope_chosen.emit(self.chooser.scope())


class CancelDialog(QDialog):
    """Signals:
        cancel_requested(str, str): the reason (never blank) and the scope.
    """

    cancel_requested = Signal(str, str)

    def __init__(self, parent: QWidget | None, appointment: AppointmentInfo, *,
                 provider_name: str = "", zone: tzinfo | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("cancel-dialog")
        self.setWindowTitle("Cancel appointment")
        self.setStyleSheet(STYLE)
        self.appointment = appointment
        what = QLabel(f"{appointment.patient_name}\n"
                      f"{appointment_line(appointment, provider_name, zone)}", self)
        what.setObjectName("cancel-what")
        what.setTextFormat(Qt.TextFormat.PlainText)
        what.setWordWrap(True)
        picks = QGroupBox("Common reasons", self)
        grid = QGridLayout(picks)
        self.quick_buttons: list[QPushButton] = []
        for i, reason in enumerate(QUICK_REASONS):
            button = QPushButton(reason, picks)
            button.setAutoDefault(False)
            button.clicked.connect(lambda _=False, r=reason: self._pick(r))
            grid.addWidget(button, i // 3, i % 3)
            self.quick_buttons.append(button)
        caption = QLabel("&Reason (required)", self)
        self.reason = QLineEdit(self)
        self.reason.setAccessibleName("Reason for cancelling")
        self.reason.setPlaceholderText("Pick one above or type the reason")
        caption.setBuddy(self.reason)
        self.error = error_label(self)
        self.scope: ScopeChooser | None = None
        layout = QVBoxLayout(self)
        layout.addWidget(what)
        layout.addWidget(picks)
        layout.addWidget(caption)
        layout.addWidget(self.reason)
        layout.addWidget(self.error)
        if appointment.series_id is not None:
            self.scope = ScopeChooser("Cancel:", self)
            layout.addWidget(self.scope)
        self.keep_button = QPushButton("Keep appointment", self)
        self.keep_button.setAutoDefault(False)
        self.keep_button.clicked.connect(self.reject)
        self.cancel_button = QPushButton("Cancel appointment", self)
        self.cancel_button.setObjectName("confirm-cancel")
        self.cancel_button.setDefault(True)
        self.cancel_button.clicked.connect(self.on_cancel_button_clicked)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.keep_button)
        buttons.addWidget(self.cancel_button)
        layout.addStretch(1)
        layout.addLayout(buttons)
        self.reason.setFocus()

    def _pick(self, reason: str) -> None:
        self.reason.setText(reason)
        show_error(self.error, "")
        self.reason.setFocus()

    def set_busy(self, busy: bool) -> None:
        self.cancel_button.setEnabled(not busy)
        self.cancel_button.setText("Cancelling…" if busy else "Cancel appointment")

    def show_failure(self, text: str) -> None:
        show_error(self.error, text)

    @Slot()
    def on_cancel_button_clicked(self) -> None:
        reason = required_reason(self.reason, self.error, REASON_REQUIRED)
        if not reason:
            return
        self.cancel_requested.emit(reason, self.scope.scope() if self.scope else "one")
