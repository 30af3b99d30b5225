"""Book or move despite warnings: each warning listed, and why (required, recorded)."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ui.scheduling.booking_dialog import STYLE, error_label, required_reason, sentence

REASON_REQUIRED = "Say why it should be booked anyway; the reason is kept with the appointment."


class OverrideDialog(QDialog):
    """Signals:
        override_requested(str): go ahead, for this reason (never blank).
    """

    override_requested = Signal(str)

    def __init__(self, parent: QWidget | None, warnings: Sequence[object], *,
                 action: str = "Book anyway") -> None:
        super().__init__(parent)
        self.setObjectName("override-dialog")
        self.setWindowTitle("Book despite warnings?" if action.startswith("Book")
                            else "Move despite warnings?")
        self.setStyleSheet(STYLE)
        intro = QLabel("This can be done, but check first:", self)
        intro.setWordWrap(True)
        self.warning_labels: list[QLabel] = []
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        for w in warnings:
            text = sentence(str(getattr(w, "sentence", w)))
            label = QLabel("⚠ " + text, self)
            label.setObjectName("override-warning")
            label.setTextFormat(Qt.TextFormat.PlainText)
            label.setWordWrap(True)
            label.setAccessibleName(f"Warning: {text}")
            label.setStyleSheet("color: #4e3400; background: #fff8e1; padding: 4px 8px; "
                                "border: 1px solid #f9a825; border-radius: 3px;")
            self.warning_labels.append(label)
            layout.addWidget(label)
        caption = QLabel("&Why go ahead? (required)", self)
        self.reason = QLineEdit(self)
        self.reason.setAccessibleName("Why go ahead despite the warnings")
        self.reason.setPlaceholderText("For example: patient asked for this time, doctor agreed")
        caption.setBuddy(self.reason)
        self.error = error_label(self)
        layout.addSpacing(6)
        layout.addWidget(caption)
        layout.addWidget(self.reason)
        layout.addWidget(self.error)
        self.back_button = QPushButton("Go back", self)
        self.back_button.setAutoDefault(False)
        self.back_button.clicked.connect(self.reject)
        self.go_button = QPushButton(action, self)
        self.go_button.setObjectName("override-go")
        self.go_button.setDefault(True)
        self.go_button.clicked.connect(self.on_go_button_clicked)
        QShortcut(QKeySequence("Ctrl+Return"), self, self.on_go_button_clicked)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.back_button)
        buttons.addWidget(self.go_button)
        layout.addStretch(1)
        layout.addLayout(buttons)
        self.resize(520, self.sizeHint().height())
        self.reason.setFocus()

    @Slot()
    def on_go_button_clicked(self) -> None:
        reason = required_reason(self.reason, self.error, REASON_REQUIRED)
        if not reason:
            return
        self.accept()
        self.override_requested.emit(reason)
