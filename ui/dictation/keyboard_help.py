"""Help > Keyboard: every shortcut of the app in one table (the window's menus, the
chart's sections, the recorder)."""

from __future__ import annotations

import html

from PySide6.QtWidgets import QDialog, QLabel, QPushButton, QTextBrowser, QVBoxLayout, QWidget


class KeyboardHelp(QDialog):
    def __init__(self, groups: list[tuple[str, list[tuple[str, str]]]],
                 parent: QWidget | None = None) -> None:
        """``groups``: (heading, [(keys, what they do)])."""
        super().__init__(parent)
        self.setObjectName("keyboardHelp")
        self.setWindowTitle("Keyboard shortcuts")
        intro = QLabel("Every action has a key. The dictation keys can be changed with the "
                       "DRA_DICTATION_KEYS setting (for example “record=F9,stop=F10”).", self)
        intro.setObjectName("keyboardIntro")
        intro.setWordWrap(True)
        self.browser = QTextBrowser(self)
        self.browser.setObjectName("keyboardTable")
        self.browser.setOpenLinks(False)
        rows = []
        for heading, keys in groups:
            rows.append(f"<tr><th colspan='2' align='left' style='padding-top:8px'>"
                        f"{html.escape(heading)}</th></tr>")
            for key, what in keys:
                rows.append(f"<tr><td style='padding-right:16px; white-space:nowrap'><b>"
                            f"{html.escape(key)}</b></td><td>{html.escape(what)}</td></tr>")
        self.browser.setHtml(f"<table cellspacing='2'>{''.join(rows)}</table>")
        self.groups = groups
        close = QPushButton("Close", self)
        close.clicked.connect(self.accept)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.browser, 1)
        layout.addWidget(close)
        self.resize(560, 600)
