"""A note's free-text box with text expanders: typing ".sob" then space, Enter or Tab
replaces it with "shortness of breath"."""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QKeyEvent, QTextCursor
from PySide6.QtWidgets import QPlainTextEdit, QSizePolicy, QWidget

MAX_LINES = 20

_TRIGGERS = {Qt.Key.Key_Space: " ", Qt.Key.Key_Return: "\n", Qt.Key.Key_Enter: "\n",
             Qt.Key.Key_Tab: ""}


class ExpandingTextEdit(QPlainTextEdit):
    """Tab moves the focus on (keyboard path through the note) unless it just expanded an
    abbreviation."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.expanders: dict[str, str] = {}
        self.setTabChangesFocus(True)
        # Grows with its text (3 to 20 lines), so a note reads as one page in the
        # editor's scroll area instead of boxes with their own scroll bars.
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        layout = self.document().documentLayout()
        layout.documentSizeChanged.connect(lambda _size: self._fit())
        self._fit()

    def _fit(self) -> None:
        lines = self.document().documentLayout().documentSize().height()
        lines = min(max(3.0, lines), float(MAX_LINES))
        margins = self.contentsMargins()
        height = (lines * self.fontMetrics().lineSpacing()
                  + 2 * self.document().documentMargin() + margins.top() + margins.bottom())
        self.setFixedHeight(int(height) + 2)

    def event(self, event: QEvent) -> bool:
        # With tabChangesFocus, Tab never reaches keyPressEvent: QWidget.event moves the
        # focus first. An abbreviation before the cursor takes the Tab instead.
        if (event.type() == QEvent.Type.KeyPress and isinstance(event, QKeyEvent)
                and event.key() == Qt.Key.Key_Tab
                and event.modifiers() == Qt.KeyboardModifier.NoModifier
                and not self.isReadOnly() and self._expand()):
            return True
        return super().event(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 (Qt API)
        key = Qt.Key(event.key())
        plain = event.modifiers() in (Qt.KeyboardModifier.NoModifier,
                                      Qt.KeyboardModifier.KeypadModifier)
        if key in _TRIGGERS and plain and not self.isReadOnly() and self._expand():
            if _TRIGGERS[key]:
                self.insertPlainText(_TRIGGERS[key])
            return
        super().keyPressEvent(event)

    def _expand(self) -> bool:
        cursor = self.textCursor()
        if cursor.hasSelection():
            return False
        block = cursor.block().text()[: cursor.positionInBlock()]
        word = block.split()[-1] if block and not block[-1].isspace() else ""
        expansion = self.expanders.get(word) or self.expanders.get(word.lower())
        if not word.startswith(".") or expansion is None:
            return False
        cursor.movePosition(QTextCursor.MoveOperation.Left,
                            QTextCursor.MoveMode.KeepAnchor, len(word))
        cursor.insertText(expansion)  # one undo step
        self.setTextCursor(cursor)
        return True
