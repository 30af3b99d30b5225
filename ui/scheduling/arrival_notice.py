""""Anna Müller has arrived — 09:40 with Dr Demo": a notice at the window's top right.

It never takes the keyboard focus (the doctor may be typing a note): it is a child of the
window shown without activating, and its buttons take focus only by Tab, not by a click.
Several stack downwards; each stays until dismissed or its time is up. Screen readers hear
it as an alert.
"""

from __future__ import annotations

import shiboken6
from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QAccessible, QAccessibleEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QApplication,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

STYLE = """
QFrame#arrival-notice { background: #1b5e20; border: 1px solid #0d3311; border-radius: 6px; }
QFrame#arrival-notice QLabel { color: white; font-size: 14px; }
QFrame#arrival-notice QPushButton { color: #1b5e20; background: white; border-radius: 3px;
    padding: 4px 10px; font-weight: bold; }
QFrame#arrival-notice QPushButton:focus { border: 2px solid #ffeb3b; }
"""
MARGIN = 12
WIDTH = 380
MAX_SHOWN = 5
DEFAULT_SECONDS = 120
# F6 moves between a window's panes and notices (as in browsers and desktops); not
# Ctrl+Shift+A, which marks the chosen appointment arrived on the day sheet: one key with two
# meanings would have sent a doctor with a notice shown to the notice instead.
FOCUS_KEYS = "F6"


def _holds_focus(widget: QWidget) -> bool:
    focused = QApplication.focusWidget()
    return focused is not None and widget.isAncestorOf(focused)


class ArrivalNotice(QFrame):
    """Signals:
        open_patient_requested(int): the user chose "Open patient".
        dismissed(): closed by the user or by time.
    """

    open_patient_requested = Signal(int)
    dismissed = Signal()

    def __init__(self, parent: QWidget, text: str, patient_id: int, *,
                 seconds: int = DEFAULT_SECONDS) -> None:
        super().__init__(parent)
        self.setObjectName("arrival-notice")
        self.setStyleSheet(STYLE)
        self.setAttribute(Qt.WidgetAttribute.WA_ShowWithoutActivating)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.patient_id = patient_id
        self.had_focus = False
        self.sentence = text
        # "Anna Müller has arrived" in bold, "09:40 with Dr Demo" under it: read at a glance.
        headline, _sep, detail = text.partition(" — ")
        self.headline = QLabel(headline, self)
        self.headline.setObjectName("arrival-headline")
        self.headline.setStyleSheet("font-weight: bold; font-size: 15px;")
        self.detail = QLabel(detail, self)
        self.detail.setObjectName("arrival-detail")
        for label in (self.headline, self.detail):
            label.setTextFormat(Qt.TextFormat.PlainText)
            label.setWordWrap(True)
        self.detail.setVisible(bool(detail))
        self.setAccessibleName(text)
        self.setAccessibleDescription(f"Arrival notice; {FOCUS_KEYS} moves to it")
        self.setToolTip(f"{FOCUS_KEYS} moves here; Tab to Dismiss")
        self.open_button = QPushButton("Open patient", self)
        self.open_button.setAccessibleName(f"Open patient: {text}")
        self.dismiss_button = QPushButton("Dismiss", self)
        self.dismiss_button.setAccessibleName("Dismiss arrival notice")
        for button in (self.open_button, self.dismiss_button):
            button.setFocusPolicy(Qt.FocusPolicy.TabFocus)  # a click leaves focus alone
            button.setAutoDefault(False)
        self.open_button.clicked.connect(self.on_open_button_clicked)
        self.dismiss_button.clicked.connect(self.dismiss)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.open_button)
        buttons.addWidget(self.dismiss_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 10, 12, 10)
        layout.addWidget(self.headline)
        layout.addWidget(self.detail)
        layout.addLayout(buttons)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(seconds * 1000)
        self._timer.timeout.connect(self.dismiss)
        self._timer.start()

    @Slot()
    def on_open_button_clicked(self) -> None:
        self.open_patient_requested.emit(self.patient_id)
        self.dismiss()

    @Slot()
    def dismiss(self) -> None:
        self._timer.stop()
        # Before hiding: hiding a focused widget hands the focus on by itself.
        self.had_focus = _holds_focus(self)
        self.hide()
        self.dismissed.emit()
        self.deleteLater()


class ArrivalNoticeArea(QObject):
    """Keeps the notices of one window stacked at its top right, also when it resizes.

    Keyboard: ``FOCUS_KEYS`` moves to the newest notice's "Open patient" (Tab to Dismiss);
    when that notice goes, the focus goes back to where the user was typing.

    Signals:
        open_patient_requested(int): from any of its notices.
    """

    open_patient_requested = Signal(int)

    def __init__(self, window: QWidget, *, seconds: int = DEFAULT_SECONDS) -> None:
        super().__init__(window)
        self._window = window
        self._seconds = seconds
        self.notices: list[ArrivalNotice] = []
        self._return_focus: QWidget | None = None
        self.shortcut = QShortcut(QKeySequence(FOCUS_KEYS), window)
        self.shortcut.setContext(Qt.ShortcutContext.WindowShortcut)
        self.shortcut.activated.connect(self.on_shortcut_activated)
        self.shortcut.setEnabled(False)
        window.installEventFilter(self)

    @Slot()
    def on_shortcut_activated(self) -> None:
        if not self.notices:
            return
        if not any(_holds_focus(n) for n in self.notices):
            self._return_focus = QApplication.focusWidget()
        self.notices[-1].open_button.setFocus(Qt.FocusReason.ShortcutFocusReason)

    def show_notice(self, text: str, patient_id: int) -> ArrivalNotice:
        notice = ArrivalNotice(self._window, text, patient_id, seconds=self._seconds)
        notice.open_patient_requested.connect(self.open_patient_requested)
        notice.dismissed.connect(lambda n=notice: self._forget(n))
        self.notices.append(notice)
        self.shortcut.setEnabled(True)
        while len(self.notices) > MAX_SHOWN:
            self.notices[0].dismiss()
        self._place()
        notice.show()
        notice.raise_()
        QAccessible.updateAccessibility(QAccessibleEvent(notice, QAccessible.Event.Alert))
        return notice

    def _forget(self, notice: ArrivalNotice) -> None:
        had_focus = notice.had_focus
        if notice in self.notices:
            self.notices.remove(notice)
        self.shortcut.setEnabled(bool(self.notices))
        self._place()
        if had_focus:
            if self.notices:
                self.notices[-1].open_button.setFocus(Qt.FocusReason.OtherFocusReason)
            elif self._return_focus is not None and shiboken6.isValid(self._return_focus):
                self._return_focus.setFocus(Qt.FocusReason.OtherFocusReason)
        if not self.notices:
            self._return_focus = None

    def _place(self) -> None:
        width = min(WIDTH, max(self._window.width() - 2 * MARGIN, 200))
        # Below a main window's menu and tool bars: over its work area, not its menus.
        central = getattr(self._window, "centralWidget", lambda: None)()
        y = (central.geometry().top() if isinstance(central, QWidget) else 0) + MARGIN
        for notice in self.notices:
            notice.setFixedWidth(width)
            notice.adjustSize()
            notice.move(self._window.width() - width - MARGIN, y)
            notice.raise_()
            y += notice.height() + 8

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        if watched is self._window and event.type() == QEvent.Type.Resize and self.notices:
            self._place()
        return False
