"""Break the glass: open a restricted chart after saying why.

Asked when the service refuses a chart with ``PermissionDenied(break_glass=True)``. The
user picks a reason (and describes it when it is "Other reason"); the caller retries
with :meth:`BreakGlassDialog.reason`, which the service records for review.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import (
    QButtonGroup,
    QDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

REASONS = (
    "Emergency care",
    "Covering for a colleague's patient",
    "The patient asked me to",
    "Other reason",
)
OTHER = len(REASONS) - 1
MIN_OTHER_DETAILS = 10
MAX_DETAILS = 500

STYLE = """
QFrame#break-glass-banner { background: #fff4e5; border: 1px solid #ef8f00;
    border-left: 6px solid #e65100; border-radius: 4px; }
QLabel#break-glass-title { font-size: 17px; font-weight: bold; color: #7a2e00; }
QLabel#break-glass-sentence { font-size: 13px; color: #4e2600; }
QLabel#break-glass-question { font-size: 14px; font-weight: bold; color: #263238; }
QLabel#break-glass-hint { color: #546e7a; }
QLabel#break-glass-audit { color: #37474f; background: #eef2f5; border-radius: 4px;
    padding: 8px 10px; }
QRadioButton { font-size: 13px; padding: 2px 0; }
QPushButton#open-chart:enabled { font-weight: bold; color: #ffffff; background: #c62828;
    border: 1px solid #8e1b13; border-radius: 4px; padding: 6px 14px; }
QPushButton#open-chart:enabled:hover { background: #a31f1f; }
QPushButton#open-chart:enabled:focus { border: 2px solid #4a0d08; }
"""


def _label(parent: QWidget, name: str, text: str) -> QLabel:
    label = QLabel(text, parent)
    label.setObjectName(name)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setWordWrap(True)
    return label


class BreakGlassDialog(QDialog):
    """Why the user needs a restricted chart. Accepted only with a complete reason.

    ``exec()`` returns ``Accepted`` when the user chose "Open the chart"; then
    :meth:`reason` is the text to send with the retry.
    """

    def __init__(self, sentence: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("break-glass-dialog")
        self.setWindowTitle("Restricted chart")
        self.setStyleSheet(STYLE)

        banner = QFrame(self)
        banner.setObjectName("break-glass-banner")
        title = _label(banner, "break-glass-title", "⚠ This chart is restricted")
        title.setAccessibleName("This chart is restricted")
        self.sentence_label = _label(banner, "break-glass-sentence", sentence)
        box = QVBoxLayout(banner)
        box.setContentsMargins(14, 10, 14, 12)
        box.setSpacing(4)
        box.addWidget(title)
        box.addWidget(self.sentence_label)

        question = _label(self, "break-glass-question", "Why do you need to open it?")
        self.reason_group = QButtonGroup(self)
        self.reason_buttons: list[QRadioButton] = []
        for index, text in enumerate(REASONS):
            button = QRadioButton(text, self)
            self.reason_group.addButton(button, index)
            self.reason_buttons.append(button)
        self.reason_group.idToggled.connect(self.on_reason_group_id_toggled)

        self.details_caption = QLabel(self)
        self.details_edit = QPlainTextEdit(self)
        self.details_edit.setObjectName("break-glass-details")
        self.details_edit.setAccessibleName("Details of the reason")
        self.details_edit.setTabChangesFocus(True)
        self.details_edit.setFixedHeight(84)
        self.details_caption.setBuddy(self.details_edit)
        self.details_edit.textChanged.connect(self.on_details_edit_text_changed)
        self.hint = _label(self, "break-glass-hint", "")

        audit = _label(self, "break-glass-audit",
                       "Your name, the time and your reason are recorded and reviewed by the "
                       "clinic's administrator.")

        self.open_button = QPushButton("Open the chart", self)
        self.open_button.setObjectName("open-chart")
        # Opening is deliberate: Enter never does it by accident.
        self.open_button.setAutoDefault(False)
        self.open_button.clicked.connect(self.accept)
        self.cancel_button = QPushButton("Cancel", self)
        self.cancel_button.setAutoDefault(False)
        self.cancel_button.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.open_button)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(20, 18, 20, 16)
        layout.setSpacing(6)
        layout.addWidget(banner)
        layout.addSpacing(10)
        layout.addWidget(question)
        for button in self.reason_buttons:
            layout.addWidget(button)
        layout.addSpacing(6)
        layout.addWidget(self.details_caption)
        layout.addWidget(self.details_edit)
        layout.addWidget(self.hint)
        layout.addSpacing(8)
        layout.addWidget(audit)
        layout.addSpacing(6)
        layout.addLayout(buttons)
        self.setMinimumWidth(500)
        self.resize(520, self.sizeHint().height())
        self._update()

    def reason(self) -> str:
        """The chosen reason, then ": <details>" when details were typed ("" if none)."""
        chosen = self.reason_group.checkedId()
        if chosen < 0:
            return ""
        details = self._details()
        return f"{REASONS[chosen]}: {details}" if details else REASONS[chosen]

    def is_complete(self) -> bool:
        chosen = self.reason_group.checkedId()
        if chosen < 0:
            return False
        return chosen != OTHER or len(self._details()) >= MIN_OTHER_DETAILS

    # ------------------------------------------------------------------ slots

    @Slot(int, bool)
    def on_reason_group_id_toggled(self, button_id: int, checked: bool) -> None:
        if checked:
            self._update()

    @Slot()
    def on_details_edit_text_changed(self) -> None:
        self._update()

    # -------------------------------------------------------------- internals

    def _details(self) -> str:
        return self.details_edit.toPlainText().strip()[:MAX_DETAILS]

    def _update(self) -> None:
        other = self.reason_group.checkedId() == OTHER
        self.details_caption.setText("Details (required)" if other else "Details (optional)")
        typed = len(self.details_edit.toPlainText().strip())
        if typed > MAX_DETAILS:
            hint = f"Only the first {MAX_DETAILS} characters are kept."
        elif other and typed < MIN_OTHER_DETAILS:
            hint = f"Describe the reason in at least {MIN_OTHER_DETAILS} characters."
        elif self.reason_group.checkedId() < 0:
            hint = "Choose a reason to open the chart."
        else:
            hint = ""
        # Always there (blank when all is well), so the dialog does not jump as one types.
        self.hint.setText(hint)
        self.open_button.setEnabled(self.is_complete())
