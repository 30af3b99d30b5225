"""The start screen: who is signing in at this workstation.

A pure view: it checks only that both fields are filled, then passes the pair up in
:attr:`SignInView.sign_in_requested`. The password lives in its line edit and nowhere
else; it is never logged, kept in an attribute or put in an error message.

The card, fields and messages are shared with the lock screen (``AUTH_STYLE``), so the
two screens look like one product.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

CARD_WIDTH = 420

AUTH_STYLE = """
QWidget#sign-in-view, QWidget#lock-screen { background: #e8edf1; }
QFrame#auth-card { background: #ffffff; border: 1px solid #c5d0d6; border-radius: 10px; }
QLabel#auth-title { font-size: 26px; font-weight: bold; color: #1c313a; }
QLabel#auth-subtitle { font-size: 15px; color: #455a64; }
QLabel#auth-identity { font-size: 16px; font-weight: bold; color: #263238; }
QLabel#auth-sentence { font-size: 14px; color: #37474f; }
QLabel[role="caption"] { font-size: 13px; font-weight: bold; color: #37474f; }
QFrame#auth-card QLineEdit { font-size: 14px; color: #1c313a; background: #ffffff;
    border: 1px solid #90a4ae; border-radius: 4px; padding: 6px 8px; }
QFrame#auth-card QLineEdit:focus { border: 1px solid #1565c0; background: #f7fbff; }
QFrame#auth-card QLineEdit:disabled { background: #eceff1; color: #78909c; }
QPushButton[kind="primary"] { font-size: 14px; font-weight: bold; color: #ffffff;
    background: #1565c0; border: 2px solid #1565c0; border-radius: 4px; padding: 7px 16px; }
QPushButton[kind="primary"]:hover { background: #0d47a1; border-color: #0d47a1; }
QPushButton[kind="primary"]:focus { border-color: #0a2f5c; }
QPushButton[kind="primary"]:disabled { background: #90a4ae; border-color: #90a4ae;
    color: #eceff1; }
QPushButton[kind="link"] { font-size: 13px; color: #1565c0; background: transparent;
    border: none; padding: 2px 0; text-align: left; }
QPushButton[kind="link"]:hover, QPushButton[kind="link"]:focus { text-decoration: underline; }
QPushButton[kind="link"]:disabled { color: #90a4ae; }
QLabel#auth-error { font-size: 13px; color: #7f1d1d; background: #fdecea;
    border: 1px solid #e57373; border-radius: 4px; padding: 8px 10px; }
QLabel#auth-notice { font-size: 13px; color: #1c3d5a; background: #e8f0f7;
    border: 1px solid #b0c4d8; border-radius: 4px; padding: 8px 10px; }
QLabel#auth-warning { font-size: 13px; color: #4e3400; background: #fff8e1;
    border: 1px solid #f9a825; border-radius: 4px; padding: 8px 10px; }
QFrame#auth-rule { background: #e0e6ea; border: none; max-height: 1px; }
QLabel#auth-footer { font-size: 12px; color: #607d8b; }
"""


def auth_card(parent: QWidget) -> tuple[QFrame, QVBoxLayout]:
    """A white card of fixed width, centred in ``parent`` (which gets a grid layout)."""
    card = QFrame(parent)
    card.setObjectName("auth-card")
    card.setFixedWidth(CARD_WIDTH)
    layout = QVBoxLayout(card)
    layout.setContentsMargins(36, 32, 36, 24)
    layout.setSpacing(6)
    outer = QGridLayout(parent)
    outer.setContentsMargins(24, 24, 24, 24)
    outer.addWidget(card, 0, 0, Qt.AlignmentFlag.AlignCenter)
    return card, layout


def text_label(parent: QWidget, name: str, text: str = "") -> QLabel:
    """Plain text only: names and sentences from elsewhere are never read as HTML."""
    label = QLabel(text, parent)
    label.setObjectName(name)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setWordWrap(True)
    return label


def message_label(parent: QWidget, name: str, accessible_name: str) -> QLabel:
    """A boxed sentence (error, notice, warning) that takes no room while empty."""
    label = text_label(parent, name)
    label.setAccessibleName(accessible_name)
    label.hide()
    return label


def caption(parent: QWidget, text: str, buddy: QWidget) -> QLabel:
    label = QLabel(text, parent)
    label.setProperty("role", "caption")
    label.setBuddy(buddy)
    return label


def line_edit(parent: QWidget, accessible_name: str, *, password: bool = False) -> QLineEdit:
    edit = QLineEdit(parent)
    edit.setAccessibleName(accessible_name)
    if password:
        edit.setEchoMode(QLineEdit.EchoMode.Password)
    return edit


def primary_button(parent: QWidget, text: str) -> QPushButton:
    button = QPushButton(text, parent)
    button.setProperty("kind", "primary")
    button.setCursor(Qt.CursorShape.PointingHandCursor)
    return button


def link_button(parent: QWidget, text: str) -> QPushButton:
    button = QPushButton(text, parent)
    button.setProperty("kind", "link")
    button.setAutoDefault(False)
    button.setCursor(Qt.CursorShape.PointingHandCursor)
    return button


def rule(parent: QWidget) -> QFrame:
    line = QFrame(parent)
    line.setObjectName("auth-rule")
    line.setFixedHeight(1)
    return line


def set_message(label: QLabel, sentence: str) -> None:
    label.setText(sentence)
    label.setVisible(bool(sentence))


class SignInView(QWidget):
    """The full-window sign-in screen: a centred card on a calm background.

    Signals:
        sign_in_requested(str, str): user name (stripped) and password, both non-empty.
    """

    sign_in_requested = Signal(str, str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("sign-in-view")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.setStyleSheet(AUTH_STYLE)
        self._busy = False

        card, layout = auth_card(self)
        self.card = card
        title = text_label(card, "auth-title", "Dr. Assistant")
        subtitle = text_label(card, "auth-subtitle", "Sign in to continue")
        self.error_label = message_label(card, "auth-error", "sign-in error")
        self.notice_label = message_label(card, "auth-notice", "sign-in notice")

        self.username_edit = line_edit(card, "User name")
        self.username_edit.setObjectName("sign-in-username")
        self.password_edit = line_edit(card, "Password", password=True)
        self.password_edit.setObjectName("sign-in-password")
        self.sign_in_button = primary_button(card, "Sign in")
        self.sign_in_button.setObjectName("sign-in-button")
        self.sign_in_button.setDefault(True)
        self.footer = text_label(card, "auth-footer")
        self.footer.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.footer.hide()

        layout.addWidget(title)
        layout.addWidget(subtitle)
        layout.addSpacing(16)
        layout.addWidget(self.error_label)
        layout.addWidget(self.notice_label)
        layout.addSpacing(4)
        layout.addWidget(caption(card, "User name", self.username_edit))
        layout.addWidget(self.username_edit)
        layout.addSpacing(8)
        layout.addWidget(caption(card, "Password", self.password_edit))
        layout.addWidget(self.password_edit)
        layout.addSpacing(18)
        layout.addWidget(self.sign_in_button)
        layout.addSpacing(18)
        layout.addWidget(rule(card))
        layout.addSpacing(4)
        layout.addWidget(self.footer)

        # Not a dialog, so the default button does not fire on Enter by itself.
        self.username_edit.returnPressed.connect(self.on_sign_in_button_clicked)
        self.password_edit.returnPressed.connect(self.on_sign_in_button_clicked)
        self.sign_in_button.clicked.connect(self.on_sign_in_button_clicked)
        self.setFocusProxy(self.username_edit)

    # --------------------------------------------------------------- for presenters

    def set_workstation(self, name: str) -> None:
        self.footer.setText(f"Workstation: {name}")
        self.footer.setVisible(bool(name))

    def set_busy(self, busy: bool) -> None:
        """While the sign-in is checked nothing can be typed or pressed twice."""
        self._busy = busy
        self.username_edit.setEnabled(not busy)
        self.password_edit.setEnabled(not busy)
        self.sign_in_button.setEnabled(not busy)
        self.sign_in_button.setText("Signing in…" if busy else "Sign in")

    def show_error(self, sentence: str) -> None:
        """A refused sign-in: say why, keep the user name, ask for the password again."""
        set_message(self.error_label, sentence)
        self.password_edit.clear()
        self.password_edit.setFocus()

    def show_notice(self, sentence: str) -> None:
        """Something neutral, e.g. "You signed out." or why a session ended."""
        set_message(self.notice_label, sentence)

    def clear_messages(self) -> None:
        set_message(self.error_label, "")
        set_message(self.notice_label, "")

    def reset(self) -> None:
        """Ready for the next person: empty fields, no messages, not busy."""
        self.set_busy(False)
        self.username_edit.clear()
        self.password_edit.clear()
        self.clear_messages()
        self.username_edit.setFocus()

    # ------------------------------------------------------------------ slots

    @Slot()
    def on_sign_in_button_clicked(self) -> None:
        if self._busy:
            return
        username = self.username_edit.text().strip()
        if not username:
            set_message(self.error_label, "Enter your user name.")
            self.username_edit.setFocus()
            return
        if not self.password_edit.text():
            set_message(self.error_label, "Enter your password.")
            self.password_edit.setFocus()
            return
        set_message(self.error_label, "")
        self.sign_in_requested.emit(username, self.password_edit.text())
