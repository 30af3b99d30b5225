"""The first screen of someone whose role has no patient records (an administrator): what
the role is for and one button per tool, instead of an empty patient list."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QLabel, QPushButton, QVBoxLayout, QWidget

STYLE = """
QFrame#admin-home { background: palette(base); border: 1px solid palette(mid);
    border-radius: 4px; }
QLabel#admin-home-title { font-size: 18px; font-weight: bold; color: #1a2a33; }
QLabel#admin-home-text { color: #455a64; }
"""
TEXT = ("Your role looks after accounts, signed-in sessions and the audit trail; it does "
        "not include patient records. These tools are also in the Admin menu (Alt+A).")


class AdminHomeView(QFrame):
    """A heading, a sentence, and a button for each tool the role may use (the window
    connects their ``clicked`` to its own requests)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("admin-home")
        self.setStyleSheet(STYLE)
        title = QLabel("Administration", self)
        title.setObjectName("admin-home-title")
        text = QLabel(TEXT, self)
        text.setObjectName("admin-home-text")
        text.setWordWrap(True)
        text.setTextFormat(Qt.TextFormat.PlainText)
        self.sessions_button = QPushButton("Signed-in &sessions…", self)
        self.sessions_button.setToolTip("Who is signed in where; end a session")
        self.break_glass_button = QPushButton("&Break-the-glass report…", self)
        self.break_glass_button.setToolTip(
            "Restricted charts opened by breaking the glass, with the reasons given")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 20, 24, 20)
        layout.setSpacing(12)
        layout.addWidget(title)
        layout.addWidget(text)
        for button in (self.sessions_button, self.break_glass_button):
            layout.addWidget(button, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addStretch(1)

    def set_tools(self, *, sessions: bool, audit: bool) -> None:
        """Only the tools this role may use are offered."""
        self.sessions_button.setVisible(sessions)
        self.break_glass_button.setVisible(audit)

    def focus_first(self) -> None:
        for button in (self.sessions_button, self.break_glass_button):
            if not button.isHidden():
                button.setFocus(Qt.FocusReason.OtherFocusReason)
                return
