"""Sign-in, lock screen, break-the-glass and the sessions list: the views alone, driven
as a user would (keys and clicks), with screenshots in artifacts/."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtTest import QTest
from PySide6.QtWidgets import (
    QApplication,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QPushButton,
    QVBoxLayout,
    QWidget,
)
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot

from backend_client.dto import SessionInfo
from tests.gui.conftest import save_screenshot
from ui.admin.sessions_dialog import (
    ENDS,
    LAST_SEEN,
    SESSION_ID_ROLE,
    STATE,
    USER,
    SessionsDialog,
    SessionTableModel,
)
from ui.auth.break_glass_dialog import BreakGlassDialog
from ui.auth.lock_screen import LockScreenView
from ui.auth.sign_in_view import SignInView

NOW = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
WRONG = ("The user name or password is not right. Check Caps Lock, or ask the clinic's "
         "administrator to reset your password.")


def _active(qtbot: QtBot, widget: QWidget) -> None:
    widget.show()
    qtbot.waitExposed(widget)
    widget.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is widget.window(), timeout=2000)


# ------------------------------------------------------------------------- sign in


@pytest.fixture
def sign_in(qtbot: QtBot) -> SignInView:
    view = SignInView()
    qtbot.addWidget(view)
    view.resize(1100, 720)
    view.set_workstation("CONSULT-2")
    _active(qtbot, view)
    view.username_edit.setFocus()
    return view


def test_enter_in_the_password_field_signs_in(qtbot: QtBot, sign_in: SignInView) -> None:
    qtbot.keyClicks(sign_in.username_edit, "aokafor")
    qtbot.keyClicks(sign_in.password_edit, "correct horse")
    assert sign_in.password_edit.echoMode() == sign_in.password_edit.EchoMode.Password
    with qtbot.waitSignal(sign_in.sign_in_requested) as signal:
        qtbot.keyClick(sign_in.password_edit, Qt.Key.Key_Return)
    assert signal.args == ["aokafor", "correct horse"]
    assert sign_in.error_label.isHidden()


def test_enter_in_the_user_name_field_signs_in_too(qtbot: QtBot, sign_in: SignInView) -> None:
    qtbot.keyClicks(sign_in.password_edit, "secret")
    qtbot.keyClicks(sign_in.username_edit, "  aokafor ")
    with qtbot.waitSignal(sign_in.sign_in_requested) as signal:
        qtbot.keyClick(sign_in.username_edit, Qt.Key.Key_Enter)
    assert signal.args == ["aokafor", "secret"]


def test_empty_fields_say_what_is_missing_and_send_nothing(
        qtbot: QtBot, sign_in: SignInView) -> None:
    with qtbot.assertNotEmitted(sign_in.sign_in_requested):
        qtbot.mouseClick(sign_in.sign_in_button, Qt.MouseButton.LeftButton)
        assert sign_in.error_label.isVisible()
        assert sign_in.error_label.text() == "Enter your user name."
        assert sign_in.error_label.accessibleName() == "sign-in error"
        assert QApplication.focusWidget() is sign_in.username_edit

        qtbot.keyClicks(sign_in.username_edit, "aokafor")
        qtbot.keyClick(sign_in.username_edit, Qt.Key.Key_Return)
        assert sign_in.error_label.text() == "Enter your password."
        assert QApplication.focusWidget() is sign_in.password_edit


def test_a_refusal_keeps_the_user_name_and_asks_for_the_password_again(
        qtbot: QtBot, sign_in: SignInView) -> None:
    qtbot.keyClicks(sign_in.username_edit, "aokafor")
    qtbot.keyClicks(sign_in.password_edit, "wrong")
    sign_in.username_edit.setFocus()
    sign_in.show_error(WRONG)
    assert sign_in.error_label.isVisible() and sign_in.error_label.text() == WRONG
    assert sign_in.username_edit.text() == "aokafor"
    assert sign_in.password_edit.text() == ""
    assert QApplication.focusWidget() is sign_in.password_edit
    assert sign_in.notice_label.isHidden()  # no empty box under the error
    save_screenshot(sign_in, "sign-in.png")


def test_busy_disables_everything_and_says_so(qtbot: QtBot, sign_in: SignInView) -> None:
    qtbot.keyClicks(sign_in.username_edit, "aokafor")
    qtbot.keyClicks(sign_in.password_edit, "secret")
    sign_in.set_busy(True)
    assert not sign_in.username_edit.isEnabled()
    assert not sign_in.password_edit.isEnabled()
    assert not sign_in.sign_in_button.isEnabled()
    assert sign_in.sign_in_button.text() == "Signing in…"
    sign_in.set_busy(False)
    assert sign_in.sign_in_button.isEnabled() and sign_in.sign_in_button.text() == "Sign in"


def test_notice_reset_and_the_workstation_footer(qtbot: QtBot, sign_in: SignInView) -> None:
    assert sign_in.footer.text() == "Workstation: CONSULT-2"
    assert sign_in.notice_label.isHidden() and sign_in.error_label.isHidden()
    sign_in.show_notice("You signed out. Your work was saved.")
    assert sign_in.notice_label.isVisible()
    qtbot.keyClicks(sign_in.username_edit, "aokafor")
    qtbot.keyClicks(sign_in.password_edit, "secret")
    sign_in.show_error(WRONG)
    sign_in.reset()
    assert sign_in.username_edit.text() == sign_in.password_edit.text() == ""
    assert sign_in.notice_label.isHidden() and sign_in.error_label.isHidden()
    assert QApplication.focusWidget() is sign_in.username_edit


# ---------------------------------------------------------------------- lock screen


class _Window(QMainWindow):
    """A main window with a patient's chart in it, and things to press."""

    def __init__(self) -> None:
        super().__init__()
        self.setWindowTitle("Dr. Assistant")
        central = QWidget(self)
        layout = QVBoxLayout(central)
        layout.addWidget(QLabel("<h2>Smith, Margaret Ann “Peggy”</h2>", central))
        layout.addWidget(QLabel("78 y · Female · Born 24 Jun 1948 · MRN M0000001", central))
        layout.addWidget(QLabel("⚠ Allergy: Penicillin — anaphylaxis (HIGH)", central))
        row = QHBoxLayout()
        self.chart_button = QPushButton("Open chart", central)
        row.addWidget(self.chart_button)
        row.addStretch(1)
        layout.addLayout(row)
        layout.addStretch(1)
        self.setCentralWidget(central)
        self.menuBar().addMenu("&File")
        self.register_action = QAction("Register", self)
        self.register_action.setShortcut(QKeySequence("Ctrl+N"))
        self.addAction(self.register_action)
        self.statusBar().showMessage("Connected")
        self.lock = LockScreenView(self)


@pytest.fixture
def window(qtbot: QtBot) -> _Window:
    win = _Window()
    qtbot.addWidget(win)
    win.resize(1100, 720)
    _active(qtbot, win)
    return win


def _lock(win: _Window, **kwargs: bool) -> None:
    win.lock.show_locked("Dr Amara Okafor", "aokafor",
                         "Locked at 09:41 after 10 minutes without activity.", **kwargs)


def _click_through_window(win: QMainWindow, widget: QWidget) -> None:
    """A click where ``widget`` is on screen, delivered as the window system would: to
    whatever is on top at that point (QTest on the widget itself would skip that)."""
    handle = win.windowHandle()
    assert handle is not None
    point = widget.mapTo(win, widget.rect().center())
    QTest.mouseClick(handle, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, point)


def test_the_lock_covers_the_whole_window_even_after_a_resize(
        qtbot: QtBot, window: _Window) -> None:
    assert not window.lock.is_locked() and window.lock.isHidden()
    _lock(window)
    assert window.lock.is_locked() and window.lock.title_label.text() == "Locked"
    assert window.lock.geometry() == window.rect()
    window.resize(1300, 860)
    qtbot.waitUntil(lambda: window.lock.geometry() == window.rect(), timeout=2000)
    assert window.rect().width() == 1300
    # Everything, menu bar and status bar included, is under the overlay.
    for point in (QPoint(5, 5), window.rect().center(), window.rect().bottomRight()):
        under = window.childAt(point)
        assert under is not None
        assert under is window.lock or window.lock.isAncestorOf(under), point
    assert window.lock.sentence_label.text() == ("Locked at 09:41 after 10 minutes without "
                                                 "activity.")
    assert QApplication.focusWidget() is window.lock.password_edit


def test_a_click_on_a_button_under_the_lock_does_not_reach_it(
        qtbot: QtBot, window: _Window) -> None:
    _lock(window)
    with qtbot.assertNotEmitted(window.chart_button.clicked):
        _click_through_window(window, window.chart_button)
    window.lock.hide_lock()
    assert not window.lock.is_locked()
    # The same click reaches the button once the screen is unlocked.
    with qtbot.waitSignal(window.chart_button.clicked, timeout=1000):
        _click_through_window(window, window.chart_button)


def test_shortcuts_and_tab_do_not_reach_the_window_under_the_lock(
        qtbot: QtBot, window: _Window) -> None:
    _lock(window)
    with qtbot.assertNotEmitted(window.register_action.triggered):
        qtbot.keyClick(window.lock.password_edit, Qt.Key.Key_N,
                       Qt.KeyboardModifier.ControlModifier)
    seen = set()
    for _ in range(8):
        focused = QApplication.focusWidget()
        assert focused is not None and window.lock.isAncestorOf(focused)
        seen.add(focused.objectName())
        qtbot.keyClick(focused, Qt.Key.Key_Tab)
    assert {"unlock-password", "unlock-button", "switch-user-link"} <= seen
    # Focus given to a widget under the lock (a late callback, say) comes back.
    focused = QApplication.focusWidget()
    window.chart_button.setFocus()
    assert QApplication.focusWidget() is focused
    window.lock.hide_lock()
    window.chart_button.setFocus()
    with qtbot.waitSignal(window.register_action.triggered, timeout=1000):
        qtbot.keyClick(window.chart_button, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)


def test_unlock_sends_the_password_and_an_error_asks_again(
        qtbot: QtBot, window: _Window) -> None:
    lock = window.lock
    _lock(window)
    with qtbot.assertNotEmitted(lock.unlock_requested):
        qtbot.keyClick(lock.password_edit, Qt.Key.Key_Return)
    assert lock.error_label.isVisible() and lock.error_label.text() == "Enter your password."
    qtbot.keyClicks(lock.password_edit, "correct horse")
    with qtbot.waitSignal(lock.unlock_requested) as signal:
        qtbot.keyClick(lock.password_edit, Qt.Key.Key_Return)
    assert signal.args == ["correct horse"]
    lock.set_busy(True)
    assert not lock.password_edit.isEnabled() and not lock.unlock_button.isEnabled()
    assert lock.unlock_button.text() == "Unlocking…"
    lock.set_busy(False)
    lock.show_error("That password is not right. Try again.")
    assert lock.error_label.text() == "That password is not right. Try again."
    assert lock.password_edit.text() == ""
    assert QApplication.focusWidget() is lock.password_edit
    assert lock.unlock_button.text() == "Unlock"
    save_screenshot(window, "lock-screen.png")


def test_a_revoked_session_asks_to_sign_in_again(qtbot: QtBot, window: _Window) -> None:
    lock = window.lock
    window.lock.show_locked(
        "Dr Amara Okafor", "aokafor",
        "An administrator ended this session at 09:41. Sign in again to continue; nothing "
        "you typed has been lost.", can_unlock=False)
    assert lock.unlock_button.text() == "Sign in again"
    assert lock.title_label.text() == "Session ended"
    qtbot.keyClicks(lock.password_edit, "secret")
    with qtbot.waitSignal(lock.unlock_requested) as signal:
        qtbot.mouseClick(lock.unlock_button, Qt.MouseButton.LeftButton)
    assert signal.args == ["secret"]
    save_screenshot(window, "lock-revoked.png")


def test_someone_else_can_sign_in_from_the_lock_screen(
        qtbot: QtBot, window: _Window) -> None:
    lock = window.lock
    _lock(window)
    qtbot.keyClicks(lock.password_edit, "half typed")
    assert lock.switch_link.text() == "Not Dr Amara Okafor? Sign in as someone else"
    qtbot.mouseClick(lock.switch_link, Qt.MouseButton.LeftButton)
    assert lock.switch_username_edit.isVisible() and not lock.password_edit.isVisible()
    assert lock.password_edit.text() == ""
    assert QApplication.focusWidget() is lock.switch_username_edit
    assert lock.switch_warning.text() == ("Signing in here keeps Dr Amara Okafor's unsaved "
                                          "work as drafts for them and signs them out.")

    with qtbot.assertNotEmitted(lock.switch_user_requested):
        qtbot.keyClick(lock.switch_username_edit, Qt.Key.Key_Return)
        assert lock.error_label.text() == "Enter your user name."
        qtbot.keyClicks(lock.switch_username_edit, "jwhitfield")
        qtbot.keyClick(lock.switch_username_edit, Qt.Key.Key_Return)
        assert lock.error_label.text() == "Enter your password."
        assert QApplication.focusWidget() is lock.switch_password_edit
    qtbot.keyClicks(lock.switch_password_edit, "nurse pass")
    with qtbot.waitSignal(lock.switch_user_requested) as signal:
        qtbot.keyClick(lock.switch_password_edit, Qt.Key.Key_Return)
    assert signal.args == ["jwhitfield", "nurse pass"]

    lock.show_error(WRONG)
    assert lock.switch_password_edit.text() == ""
    assert lock.switch_username_edit.text() == "jwhitfield"
    assert QApplication.focusWidget() is lock.switch_password_edit
    save_screenshot(window, "lock-switch-user.png")

    qtbot.mouseClick(lock.back_link, Qt.MouseButton.LeftButton)
    assert lock.password_edit.isVisible() and not lock.switch_username_edit.isVisible()
    assert QApplication.focusWidget() is lock.password_edit


def test_hiding_the_lock_forgets_the_passwords(qtbot: QtBot, window: _Window) -> None:
    lock = window.lock
    _lock(window)
    qtbot.keyClicks(lock.password_edit, "secret")
    lock.hide_lock()
    assert not lock.is_locked() and lock.password_edit.text() == ""
    _lock(window)
    assert not lock.in_switch_mode() and lock.error_label.isHidden()


# ------------------------------------------------------------------- break the glass

RESTRICTED = ("Maria Lopez's chart is restricted to her care team, and you are not in it. "
              "You may still open it if you need to.")


@pytest.fixture
def glass(qtbot: QtBot) -> BreakGlassDialog:
    dialog = BreakGlassDialog(RESTRICTED)
    qtbot.addWidget(dialog)
    _active(qtbot, dialog)
    return dialog


def test_open_waits_for_a_reason(qtbot: QtBot, glass: BreakGlassDialog) -> None:
    assert [b.text() for b in glass.reason_buttons] == [
        "Emergency care", "Covering for a colleague's patient", "The patient asked me to",
        "Other reason"]
    assert glass.sentence_label.text() == RESTRICTED
    assert not glass.open_button.isEnabled()
    qtbot.mouseClick(glass.reason_buttons[0], Qt.MouseButton.LeftButton)
    assert glass.open_button.isEnabled()
    assert glass.reason() == "Emergency care"
    qtbot.keyClicks(glass.details_edit, "  Collapsed in the waiting room  ")
    assert glass.reason() == "Emergency care: Collapsed in the waiting room"
    with qtbot.waitSignal(glass.accepted, timeout=1000):
        qtbot.mouseClick(glass.open_button, Qt.MouseButton.LeftButton)


def test_other_reason_needs_ten_characters(qtbot: QtBot, glass: BreakGlassDialog) -> None:
    qtbot.mouseClick(glass.reason_buttons[3], Qt.MouseButton.LeftButton)
    assert not glass.open_button.isEnabled()
    qtbot.keyClicks(glass.details_edit, "Audit ")
    assert not glass.open_button.isEnabled()  # 5 characters once stripped
    assert glass.hint.text() == "Describe the reason in at least 10 characters."
    save_screenshot(glass, "break-glass.png")
    qtbot.keyClicks(glass.details_edit, "chk")
    assert not glass.open_button.isEnabled()  # 9
    qtbot.keyClicks(glass.details_edit, "s")
    assert glass.open_button.isEnabled()
    assert glass.reason() == "Other reason: Audit chks"
    # Changing to a reason that needs no details keeps what was typed.
    qtbot.mouseClick(glass.reason_buttons[2], Qt.MouseButton.LeftButton)
    assert glass.reason() == "The patient asked me to: Audit chks"


def test_details_are_cut_at_500_characters(glass: BreakGlassDialog) -> None:
    glass.reason_buttons[1].setChecked(True)
    glass.details_edit.setPlainText("x" * 600)
    assert glass.reason() == "Covering for a colleague's patient: " + "x" * 500
    assert glass.hint.text() == "Only the first 500 characters are kept."


# ---------------------------------------------------------------------- sessions


@pytest.fixture
def london() -> Iterator[None]:
    """Times are shown in local time; pin the zone so the expected texts are known."""
    before = os.environ.get("TZ")
    os.environ["TZ"] = "Europe/London"  # UTC+0 in November
    time.tzset()
    yield
    if before is None:
        del os.environ["TZ"]
    else:
        os.environ["TZ"] = before
    time.tzset()


def _session(sid: str, name: str, user: str, roles: tuple[str, ...], station: str,
             started: timedelta, seen: timedelta, state: str) -> SessionInfo:
    return SessionInfo(session_id=sid, user_id=hash(user) % 1000, username=user,
                       display_name=name, roles=roles, workstation=station,
                       started_at=NOW - started, last_seen_at=NOW - seen,
                       expires_at=NOW - started + timedelta(hours=12), state=state)


SESSIONS = [
    _session("s-1", "Dr Amara Okafor", "aokafor", ("doctor",), "CONSULT-2",
             timedelta(hours=2, minutes=2), timedelta(minutes=19), "active"),
    _session("s-2", "James Whitfield", "jwhitfield", ("nurse",), "TRIAGE-1",
             timedelta(hours=1, minutes=48), timedelta(minutes=40), "locked"),
    _session("s-3", "Priya Raman", "praman", ("receptionist",), "FRONT-DESK",
             timedelta(hours=17, minutes=57), timedelta(hours=16, minutes=5), "revoked"),
    _session("s-4", "Sam Otieno", "sotieno", ("admin", "doctor"), "ADMIN-PC",
             timedelta(days=1, hours=2), timedelta(days=1), "expired"),
]


def test_session_model_passes_the_model_tester(
        qtmodeltester: ModelTester, london: None) -> None:
    model = SessionTableModel(now=lambda: NOW)
    qtmodeltester.check(model)
    model.set_sessions(SESSIONS)
    qtmodeltester.check(model)
    assert model.rowCount() == 4 and model.columnCount() == 7
    assert model.data(model.index(0, USER)) == "Dr Amara Okafor (aokafor)"
    assert model.data(model.index(0, LAST_SEEN)) == "09:41"
    assert model.data(model.index(3, 1)) == "Admin, Doctor"
    assert model.data(model.index(3, LAST_SEEN)) == "26 Nov 2026 10:00"
    assert model.data(model.index(2, STATE)) == "Ended by an administrator"
    assert model.data(model.index(2, ENDS)) == "—"
    assert model.data(model.index(1, 0), SESSION_ID_ROLE) == "s-2"
    model.set_sessions([])
    qtmodeltester.check(model)


@pytest.fixture
def sessions(qtbot: QtBot, london: None) -> SessionsDialog:
    dialog = SessionsDialog(now=lambda: NOW)
    qtbot.addWidget(dialog)
    dialog.show_sessions(SESSIONS)
    _active(qtbot, dialog)
    return dialog


def _select(qtbot: QtBot, dialog: SessionsDialog, row: int) -> None:
    rect = dialog.table.visualRect(dialog.model.index(row, USER))
    qtbot.mouseClick(dialog.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


def test_end_session_needs_an_open_session_and_a_confirmation(
        qtbot: QtBot, sessions: SessionsDialog, monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[SessionInfo] = []
    answer = [False]

    def confirm(info: SessionInfo) -> bool:
        asked.append(info)
        return answer[0]

    monkeypatch.setattr(sessions, "confirm_revoke", confirm)
    assert not sessions.end_button.isEnabled()  # nothing selected
    _select(qtbot, sessions, 2)  # revoked already
    assert sessions.selected_session() == SESSIONS[2]
    assert not sessions.end_button.isEnabled()
    _select(qtbot, sessions, 1)  # locked
    assert sessions.end_button.isEnabled()
    with qtbot.assertNotEmitted(sessions.revoke_requested):
        qtbot.mouseClick(sessions.end_button, Qt.MouseButton.LeftButton)
    answer[0] = True
    with qtbot.waitSignal(sessions.revoke_requested) as signal:
        qtbot.mouseClick(sessions.end_button, Qt.MouseButton.LeftButton)
    assert signal.args == ["s-2"]
    assert [info.session_id for info in asked] == ["s-2", "s-2"]

    # A refresh keeps the selection on the same session.
    sessions.show_sessions(list(reversed(SESSIONS)))
    assert sessions.selected_session() == SESSIONS[1]
    sessions.set_busy(True)
    assert not sessions.end_button.isEnabled() and not sessions.refresh_button.isEnabled()
    sessions.set_busy(False)
    with qtbot.waitSignal(sessions.refresh_requested):
        qtbot.mouseClick(sessions.refresh_button, Qt.MouseButton.LeftButton)


def test_sessions_dialog_shows_an_error_above_the_list(
        qtbot: QtBot, sessions: SessionsDialog) -> None:
    assert sessions.windowTitle() == "Signed-in sessions"
    assert sessions.summary.text() == "4 sessions, 2 of them open (active or locked)."
    _select(qtbot, sessions, 0)
    sessions.show_error("The session list could not be refreshed: the clinic's server did "
                        "not answer. The list below is from 10:00.")
    assert sessions.error_label.isVisible()
    assert sessions.table.model().rowCount() == 4  # what was shown stays
    save_screenshot(sessions, "sessions-dialog.png")
