"""The lock screen: an opaque overlay over the whole main window.

Nothing under it may be seen or used while it is shown: it paints a solid background
over its parent's whole area (menu bar included), follows the parent's resizes, keeps the
keyboard focus among its own fields, swallows the mouse, and turns the window's
keyboard shortcuts (Ctrl+N, Ctrl+F, menu mnemonics…) into plain key presses, so that no
action under it can run. Whether a password unlocks is the presenter's business.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, Signal, Slot
from PySide6.QtGui import QColor, QKeyEvent, QMouseEvent, QPainter, QPaintEvent, QWheelEvent
from PySide6.QtWidgets import QApplication, QLineEdit, QVBoxLayout, QWidget

from ui.auth.sign_in_view import (
    AUTH_STYLE,
    auth_card,
    caption,
    line_edit,
    link_button,
    message_label,
    primary_button,
    rule,
    set_message,
    text_label,
)

BACKGROUND = QColor("#e8edf1")


class LockScreenView(QWidget):
    """An overlay child of the main window that hides and blocks everything under it.

    Two modes share the card: *unlock* (the locked user's password) and *switch user*
    (someone else signs in; the presenter keeps the locked user's work as drafts).

    Signals:
        unlock_requested(str): the password typed to unlock (or to sign in again when the
            session can no longer be unlocked); never empty.
        switch_user_requested(str, str): another person's user name (stripped) and
            password, both non-empty.
    """

    unlock_requested = Signal(str)
    switch_user_requested = Signal(str, str)

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setObjectName("lock-screen")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.setAutoFillBackground(True)
        palette = self.palette()
        palette.setColor(self.backgroundRole(), BACKGROUND)
        self.setPalette(palette)
        self.setStyleSheet(AUTH_STYLE)
        self._busy = False
        self._can_unlock = True
        self._focus_before: QWidget | None = None

        card, layout = auth_card(self)
        self.card = card
        self.title_label = text_label(card, "auth-title", "Locked")
        self.identity_label = text_label(card, "auth-identity")
        self.sentence_label = text_label(card, "auth-sentence")
        self.error_label = message_label(card, "auth-error", "unlock error")
        self.switch_warning = message_label(card, "auth-warning",
                                            "What happens to the locked session")

        # Unlock mode.
        self.unlock_page = QWidget(card)
        self.password_edit = line_edit(self.unlock_page, "Password", password=True)
        self.password_edit.setObjectName("unlock-password")
        self.password_caption = caption(self.unlock_page, "Password", self.password_edit)
        self.unlock_button = primary_button(self.unlock_page, "Unlock")
        self.unlock_button.setObjectName("unlock-button")
        self.switch_link = link_button(self.unlock_page, "Sign in as someone else")
        self.switch_link.setObjectName("switch-user-link")
        page = QVBoxLayout(self.unlock_page)
        page.setContentsMargins(0, 0, 0, 0)
        page.setSpacing(6)
        page.addWidget(self.password_caption)
        page.addWidget(self.password_edit)
        page.addSpacing(12)
        page.addWidget(self.unlock_button)
        page.addSpacing(12)
        page.addWidget(rule(self.unlock_page))
        page.addSpacing(2)
        page.addWidget(self.switch_link)

        # Switch-user mode.
        self.switch_page = QWidget(card)
        self.switch_username_edit = line_edit(self.switch_page, "Your user name")
        self.switch_username_edit.setObjectName("switch-username")
        self.switch_password_edit = line_edit(self.switch_page, "Your password", password=True)
        self.switch_password_edit.setObjectName("switch-password")
        self.switch_button = primary_button(self.switch_page, "Sign in")
        self.switch_button.setObjectName("switch-user-button")
        self.back_link = link_button(self.switch_page, "Back")
        self.back_link.setObjectName("back-to-unlock")
        page = QVBoxLayout(self.switch_page)
        page.setContentsMargins(0, 0, 0, 0)
        page.setSpacing(6)
        page.addWidget(caption(self.switch_page, "User name", self.switch_username_edit))
        page.addWidget(self.switch_username_edit)
        page.addSpacing(8)
        page.addWidget(caption(self.switch_page, "Password", self.switch_password_edit))
        page.addWidget(self.switch_password_edit)
        page.addSpacing(12)
        page.addWidget(self.switch_button)
        page.addSpacing(12)
        page.addWidget(rule(self.switch_page))
        page.addSpacing(2)
        page.addWidget(self.back_link)
        self.switch_page.hide()

        layout.addWidget(self.title_label)
        layout.addSpacing(2)
        layout.addWidget(self.identity_label)
        layout.addSpacing(6)
        layout.addWidget(self.sentence_label)
        layout.addSpacing(14)
        layout.addWidget(self.switch_warning)
        layout.addWidget(self.error_label)
        layout.addSpacing(4)
        layout.addWidget(self.unlock_page)
        layout.addWidget(self.switch_page)

        self.password_edit.returnPressed.connect(self.on_unlock_button_clicked)
        self.unlock_button.clicked.connect(self.on_unlock_button_clicked)
        self.switch_link.clicked.connect(self.on_switch_link_clicked)
        self.switch_username_edit.returnPressed.connect(self.on_switch_button_clicked)
        self.switch_password_edit.returnPressed.connect(self.on_switch_button_clicked)
        self.switch_button.clicked.connect(self.on_switch_button_clicked)
        self.back_link.clicked.connect(self.on_back_link_clicked)

        for child in self.findChildren(QWidget):
            if child.focusPolicy() != Qt.FocusPolicy.NoFocus:
                child.installEventFilter(self)
        parent.installEventFilter(self)
        app = QApplication.instance()
        if isinstance(app, QApplication):
            app.focusChanged.connect(self.on_application_focus_changed)
        self.setGeometry(parent.rect())
        self.hide()

    # --------------------------------------------------------------- for presenters

    def show_locked(self, display_name: str, username: str, sentence: str, *,
                    can_unlock: bool = True) -> None:
        """Cover the window and ask for the password.

        Args:
            display_name: the locked user's name as people know it.
            username: their user name, shown next to it so no one unlocks the wrong session.
            sentence: why and since when, e.g. "Locked at 09:41 after 10 minutes without
                activity."
            can_unlock: False when the session cannot resume (revoked, expired): the button
                says "Sign in again"; it still emits :attr:`unlock_requested`.
        """
        self._can_unlock = can_unlock
        # A session that cannot resume is not "locked" any more; say what it is.
        self.title_label.setText("Locked" if can_unlock else "Session ended")
        self.identity_label.setText(f"{display_name} ({username})")
        self.sentence_label.setText(sentence)
        self.sentence_label.setVisible(bool(sentence))
        self.switch_link.setText(f"Not {display_name}? Sign in as someone else")
        self.switch_warning.setText(f"Signing in here keeps {display_name}'s unsaved work as "
                                    "drafts for them and signs them out.")
        self.password_caption.setText("Password" if can_unlock else
                                      f"Password for {username}")
        self.switch_username_edit.clear()
        self._clear_passwords()
        set_message(self.error_label, "")
        self.set_busy(False)
        self._set_switch_mode(False)

        parent = self.parentWidget()
        if parent is not None:
            self.setGeometry(parent.rect())
        if self.isHidden():
            focused = QApplication.focusWidget()
            self._focus_before = (focused if focused is not None
                                  and not self.isAncestorOf(focused) else None)
        self.show()
        self.raise_()
        self.password_edit.setFocus()

    def hide_lock(self) -> None:
        """Uncover the window; the focus goes back where it was before the lock."""
        self._clear_passwords()
        set_message(self.error_label, "")
        self.hide()
        before, self._focus_before = self._focus_before, None
        if before is not None:
            try:
                before.setFocus()
            except RuntimeError:  # the widget was deleted while the screen was locked
                pass

    def set_busy(self, busy: bool) -> None:
        self._busy = busy
        for widget in (self.password_edit, self.unlock_button, self.switch_link,
                       self.switch_username_edit, self.switch_password_edit,
                       self.switch_button, self.back_link):
            widget.setEnabled(not busy)
        self.unlock_button.setText(self._unlock_text(busy))
        self.switch_button.setText("Signing in…" if busy else "Sign in")

    def show_error(self, sentence: str) -> None:
        """A refused password: say why and ask for it again in the current mode."""
        set_message(self.error_label, sentence)
        self._clear_passwords()
        self._current_password_edit().setFocus()

    def is_locked(self) -> bool:
        return not self.isHidden()

    def in_switch_mode(self) -> bool:
        return not self.switch_page.isHidden()

    # ------------------------------------------------------------------ slots

    @Slot()
    def on_unlock_button_clicked(self) -> None:
        if self._busy:
            return
        password = self.password_edit.text()
        if not password:
            self._complain("Enter your password.", self.password_edit)
            return
        set_message(self.error_label, "")
        self.unlock_requested.emit(password)

    @Slot()
    def on_switch_link_clicked(self) -> None:
        self._set_switch_mode(True)

    @Slot()
    def on_back_link_clicked(self) -> None:
        self._set_switch_mode(False)

    @Slot()
    def on_switch_button_clicked(self) -> None:
        if self._busy:
            return
        username = self.switch_username_edit.text().strip()
        if not username:
            self._complain("Enter your user name.", self.switch_username_edit)
            return
        password = self.switch_password_edit.text()
        if not password:
            self._complain("Enter your password.", self.switch_password_edit)
            return
        set_message(self.error_label, "")
        self.switch_user_requested.emit(username, password)

    @Slot(QWidget, QWidget)
    def on_application_focus_changed(self, old: QWidget | None, new: QWidget | None) -> None:
        """While locked, focus given to a widget under the lock (a late callback, a
        shortcut) comes straight back: keys must never reach what cannot be seen."""
        if (not self.is_locked() or new is None or new is self or self.isAncestorOf(new)
                or new.window() is not self.window()):
            return
        if old is not None and self.isAncestorOf(old) and old.isVisible() and old.isEnabled():
            old.setFocus()
        else:
            self._current_field().setFocus()

    # ------------------------------------------------------------- Qt plumbing

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt API)
        kind = event.type()
        if isinstance(watched, QWidget) and watched is self.parentWidget():
            if kind == QEvent.Type.Resize:
                self.setGeometry(watched.rect())
            elif kind == QEvent.Type.ChildAdded and self.is_locked():
                # A widget added to the window while locked would be stacked above us.
                self.raise_()
        elif kind == QEvent.Type.ShortcutOverride and self.is_locked():
            # Accepting the override delivers the keys to our field as a plain key press,
            # so the window's shortcuts and menu mnemonics under the lock never fire.
            event.accept()
            return True
        return super().eventFilter(watched, event)

    def focusNextPrevChild(self, next: bool) -> bool:  # noqa: N802, A002 (Qt API)
        """Tab cycles through the card's own fields; it never reaches the window under it."""
        chain = [w for w in self.findChildren(QWidget)
                 if w.isVisibleTo(self) and w.isEnabled()
                 and w.focusPolicy() & Qt.FocusPolicy.TabFocus == Qt.FocusPolicy.TabFocus]
        if not chain:
            return False
        order = self._tab_order(chain)
        current = QApplication.focusWidget()
        step = 1 if next else -1
        index = order.index(current) + step if current in order else 0
        order[index % len(order)].setFocus(
            Qt.FocusReason.TabFocusReason if next else Qt.FocusReason.BacktabFocusReason)
        return True

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt API)
        # Solid, whatever the style sheet or palette says: nothing may show through.
        painter = QPainter(self)
        painter.fillRect(self.rect(), BACKGROUND)
        painter.end()

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt API)
        event.accept()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt API)
        event.accept()

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt API)
        event.accept()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt API)
        event.accept()

    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802 (Qt API)
        event.accept()

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 (Qt API)
        # Keys our fields do not use stop here instead of travelling up to the window.
        event.accept()

    # -------------------------------------------------------------- internals

    def _unlock_text(self, busy: bool) -> str:
        if self._can_unlock:
            return "Unlocking…" if busy else "Unlock"
        return "Signing in…" if busy else "Sign in again"

    def _set_switch_mode(self, on: bool) -> None:
        set_message(self.error_label, "")
        self._clear_passwords()
        self.unlock_page.setVisible(not on)
        self.switch_page.setVisible(on)
        self.switch_warning.setVisible(on)
        if self.is_locked():
            (self.switch_username_edit if on else self.password_edit).setFocus()

    def _current_field(self) -> QLineEdit:
        if self.in_switch_mode() and not self.switch_username_edit.text():
            return self.switch_username_edit
        return self._current_password_edit()

    def _current_password_edit(self) -> QLineEdit:
        return self.switch_password_edit if self.in_switch_mode() else self.password_edit

    def _clear_passwords(self) -> None:
        self.password_edit.clear()
        self.switch_password_edit.clear()

    def _complain(self, sentence: str, field: QWidget) -> None:
        set_message(self.error_label, sentence)
        field.setFocus()

    def _tab_order(self, widgets: list[QWidget]) -> list[QWidget]:
        """``widgets`` in the window's focus chain order (the order they were created)."""
        ordered: list[QWidget] = []
        widget: QWidget | None = self.nextInFocusChain()
        # The chain is a ring over the whole window; one turn is enough.
        for _ in range(len(self.window().findChildren(QWidget)) + 1):
            if widget is None:
                break
            if widget in widgets and widget not in ordered:
                ordered.append(widget)
                if len(ordered) == len(widgets):
                    break
            widget = widget.nextInFocusChain()
        return ordered or widgets

