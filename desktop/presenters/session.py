"""Who is signed in at this workstation: the sign-in page, the idle lock, the lock screen,
handing the workstation to someone else, signing out, and the forms kept meanwhile.

Nothing typed is lost. Locking hides open forms (their content stays in them) and shows
them again on unlock; another person signing in first keeps the previous person's open
forms as drafts for them (``SignInService.sign_in`` saves them before it ends the
session); signing out keeps them too. Kept forms are offered back at the next sign-in.

The lock is the workstation's own (no input for ``idle_lock_seconds``) and the server's:
the session's state is polled every few seconds, so a revoked or expired session locks
the screen within one poll, and a session the server considers idle locks here too.
Every call that blocks runs on the task runner; the clocks are injectable for tests.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

import shiboken6
from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal, SignalInstance, Slot
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QApplication, QDialog, QMessageBox, QWidget

from backend_client.accounts.sentences import ENDED
from backend_client.dto import Actor, BreakGlassEntry, DraftToKeep, SavedDraft, SessionInfo
from backend_client.errors import SessionEnded, SignInFailed
from backend_client.logsafe import log_exception
from desktop.presenters.messages import failure_sentence
from desktop.tasks import InlineTaskRunner, TaskRunner
from ui.admin.break_glass_report import BreakGlassReportDialog
from ui.admin.sessions_dialog import SessionsDialog
from ui.main_window import MainWindow

if TYPE_CHECKING:  # the store libraries load off the first paint (bootstrap)
    from backend_client.accounts.signin import Handover, SessionAdmin, SignInService
    from backend_client.audit.service import AuditReports
    from backend_client.drafts.store import DraftStore

log = logging.getLogger(__name__)

CANNOT_SIGN_IN = "Signing in is not possible right now"
CANNOT_LIST = "The sessions cannot be listed right now"
CANNOT_END = "The session cannot be ended right now"
CANNOT_REPORT = "The report cannot be shown right now"
AUTOSAVED = ("Saved automatically while you typed; Dr. Assistant closed before the form "
             "was saved.")
INPUT_EVENTS = frozenset({QEvent.Type.KeyPress, QEvent.Type.MouseButtonPress,
                          QEvent.Type.MouseMove, QEvent.Type.Wheel, QEvent.Type.TouchBegin})


class FormsKeeper(Protocol):
    """The open forms, as the session needs them (PatientEditorPresenter is one)."""

    form_closed: SignalInstance

    def unsaved_forms(self) -> list[DraftToKeep]: ...

    def close_all(self) -> None: ...

    def restore(self, saved: SavedDraft) -> None: ...


class ActivityFilter(QObject):
    """Notes the time of the user's last key press, click, wheel or mouse move in any
    window of the application (installed on the QApplication), and sees Ctrl+L wherever
    it is pressed: a form is a modal window, where the main window's shortcut never fires.

    Signals:
        lock_pressed(): Ctrl+L in a window whose own shortcuts did not take it.
    """

    lock_pressed = Signal()

    def __init__(self, clock: Callable[[], float], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._clock = clock
        self.last_input = clock()

    def touch(self) -> None:
        self.last_input = self._clock()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt API)
        if event.type() in INPUT_EVENTS:
            self.last_input = self._clock()
            if (event.type() == QEvent.Type.KeyPress and isinstance(event, QKeyEvent)
                    and event.key() == Qt.Key.Key_L
                    and event.modifiers() == Qt.KeyboardModifier.ControlModifier):
                self.lock_pressed.emit()
                return True
        return False


def actor_label(actor: Actor) -> str:
    roles = ", ".join(actor.roles)
    return f"{actor.display_name} ({roles})" if roles else actor.display_name


class SessionPresenter(QObject):
    """Signals:
        signed_in(object): an Actor, after every successful sign-in or unlock-by-sign-in.
        user_changed(object): a different person (an Actor), or nobody (None), is now at
            the workstation: views must forget what the previous person had on screen.
        locked(): the lock screen went up.
        unlocked(): the lock screen went down for the same person.
    """

    signed_in = Signal(object)
    user_changed = Signal(object)
    locked = Signal()
    unlocked = Signal()

    def __init__(self, window: MainWindow, signin: SignInService, drafts: DraftStore,
                 forms: FormsKeeper, tasks: TaskRunner | InlineTaskRunner, *,
                 idle_lock_seconds: float, poll_seconds: float = 5.0,
                 heartbeat_seconds: float = 30.0, autosave_seconds: float = 30.0,
                 clock: Callable[[], float] = time.monotonic,
                 tick_ms: int = 1000, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._window = window
        self._signin = signin
        self._drafts = drafts
        self._forms = forms
        self._tasks = tasks
        self.idle_lock_seconds = idle_lock_seconds
        self._poll_seconds = poll_seconds
        self._heartbeat_seconds = heartbeat_seconds
        self._clock = clock
        self.activity = ActivityFilter(clock, self)
        self.activity.lock_pressed.connect(self.on_window_lock_requested)
        self.actor: Actor | None = None
        self._locked = False
        self._turn = 0  # how many times the screen has locked or unlocked (is_locked)
        self._ended = False  # locked because the session is over: sign in again
        self._hidden: list[QDialog] = []
        self._last_poll = clock()
        self._last_beat = clock()
        self._polling = False
        self._kept: list[SavedDraft] = []
        self._autosaved: dict[str, dict[str, object]] = {}  # key -> payload last kept
        self._to_forget: set[tuple[int, str]] = set()  # copies still to delete
        self._autosave_seconds = autosave_seconds
        self._last_autosave = clock()
        self._timer = QTimer(self)
        self._timer.setInterval(tick_ms)
        self._timer.timeout.connect(self.on_timer_timeout)

        window.sign_in_view.sign_in_requested.connect(self.on_sign_in_view_sign_in_requested)
        window.lock_screen.unlock_requested.connect(self.on_lock_screen_unlock_requested)
        window.lock_screen.switch_user_requested.connect(
            self.on_lock_screen_switch_user_requested)
        window.lock_requested.connect(self.on_window_lock_requested)
        window.sign_out_requested.connect(self.on_window_sign_out_requested)
        window.restore_drafts_requested.connect(self.on_window_restore_drafts_requested)
        window.discard_drafts_requested.connect(self.on_window_discard_drafts_requested)
        forms.form_closed.connect(self.on_forms_form_closed)

    def start(self) -> None:
        """Show the sign-in page and start watching for idleness."""
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self.activity)
        self._window.sign_in_view.setEnabled(True)
        self._window.sign_in_view.set_workstation(self._signin.workstation)
        self._window.show_sign_in()
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self.activity)

    # ------------------------------------------------------------ signing in

    @Slot(str, str)
    def on_sign_in_view_sign_in_requested(self, username: str, password: str) -> None:
        view = self._window.sign_in_view
        view.set_busy(True)

        def failed(exc: BaseException) -> None:
            view.set_busy(False)
            view.show_error(_sentence(exc))

        def done(handover: Handover) -> None:
            view.set_busy(False)
            self._became(handover.actor)

        self._tasks.run(lambda: self._signin.sign_in(username, password), done, failed,
                        pool="write")

    def _became(self, actor: Actor) -> None:
        """``actor`` is now signed in here (first sign-in, renewal, or someone else)."""
        changed = self.actor is None or self.actor.user_id != actor.user_id
        self.actor = actor
        self.is_locked = self._ended = False
        self.activity.touch()
        self._last_beat = self._last_poll = self._clock()
        if changed:
            # The previous person's forms were kept for them by sign_in; what they had
            # on screen goes before the new person sees the work area, their kept-forms
            # offer included.
            self._hidden.clear()
            self._forms.close_all()
            self._kept = []
            self._window.hide_kept_drafts()
            self._autosaved.clear()
            self.user_changed.emit(actor)
        self._window.set_signed_in(
            actor_label(actor), can_manage_sessions=actor.can("session.revoke"),
            can_find_patients=actor.can("patient.search"),
            can_register=actor.can("patient.demographics.write"),
            can_read_audit=actor.can("audit.report"))
        self._window.lock_screen.hide_lock()
        self._window.set_locked(False)
        if not changed:
            self._show_hidden()
        self._window.show_work()
        self.signed_in.emit(actor)
        self._offer_kept_forms(actor)

    # ------------------------------------------------------------ locking

    @Slot()
    def on_window_lock_requested(self) -> None:
        self.lock("user")

    def lock(self, reason: str) -> None:
        """Put the lock screen up (``reason``: "idle", "user" or "server")."""
        actor = self.actor
        if actor is None or self.is_locked:
            return
        at = datetime.now().strftime("%H:%M")
        if reason == "idle":
            minutes = round(self.idle_lock_seconds / 60)
            sentence = (f"Locked at {at} after {minutes} minute{'s' if minutes != 1 else ''} "
                        "without activity.")
        elif reason == "server":
            sentence = f"Locked at {at}: this session was idle too long."
        else:
            sentence = f"Locked at {at}."
        self._cover(actor, sentence + " Everything you had open is kept as it was.")
        if reason != "server":  # the server locked it itself (and audited it)
            asked = self._asked()

            def answered(state: str) -> None:
                if self._still(asked):
                    self._on_state(state)

            # On the write pool, behind nothing and ahead of the unlock: a password typed
            # at once must reach the server after the lock it lifts, or the lock would land
            # on an unlocked session and lock the screen again ("idle too long").
            self._tasks.run(lambda: self._signin.lock(reason, actor), answered,
                            lambda exc: log_exception(log, "locking the session failed", exc),
                            pool="write")

    def _cover(self, actor: Actor, sentence: str, *, can_unlock: bool = True) -> None:
        first = not self.is_locked
        self.is_locked = True
        if first:
            # Forms are separate windows the overlay cannot cover: hide them, content and
            # all, until the same person is back.
            self._hidden = [d for d in self._window.findChildren(QDialog) if d.isVisible()]
            for dialog in self._hidden:
                dialog.hide()
        self._window.set_locked(True)
        self._window.lock_screen.show_locked(actor.display_name, actor.username, sentence,
                                             can_unlock=can_unlock)
        if first:
            self.locked.emit()

    def _show_ended(self, state: str) -> None:
        actor = self.actor
        if actor is None or self._ended:
            return
        self._ended = True
        self._cover(actor, ENDED.get(state, ENDED["ended"]), can_unlock=False)

    def _show_hidden(self) -> None:
        hidden, self._hidden = self._hidden, []
        for dialog in hidden:
            # A message box hidden by the lock has answered "no" and is gone by now.
            if shiboken6.isValid(dialog) and not isinstance(dialog, QMessageBox):
                dialog.show()

    @Slot(str)
    def on_lock_screen_unlock_requested(self, password: str) -> None:
        actor = self.actor
        if actor is None:
            return
        screen = self._window.lock_screen
        screen.set_busy(True)

        def failed(exc: BaseException) -> None:
            screen.set_busy(False)
            if isinstance(exc, SessionEnded):
                self._show_ended(exc.state)
            screen.show_error(_sentence(exc))

        if self._ended:
            # The session is over: the same person signs in again and finds everything as
            # they left it.
            username = actor.username

            def renewed(handover: Handover) -> None:
                screen.set_busy(False)
                self._became(handover.actor)

            self._tasks.run(lambda: self._signin.sign_in(username, password), renewed,
                            failed, pool="write")
            return

        def unlocked(_: Actor) -> None:
            screen.set_busy(False)
            self.is_locked = False
            self.activity.touch()
            self._last_beat = self._clock()
            screen.hide_lock()
            self._window.set_locked(False)
            self._show_hidden()
            self.unlocked.emit()

        self._tasks.run(lambda: self._signin.unlock(password), unlocked, failed,
                        pool="write")

    @Slot(str, str)
    def on_lock_screen_switch_user_requested(self, username: str, password: str) -> None:
        screen = self._window.lock_screen
        screen.set_busy(True)
        forms = self._forms.unsaved_forms()

        def done(handover: Handover) -> None:
            screen.set_busy(False)
            self._became(handover.actor)

        def failed(exc: BaseException) -> None:
            screen.set_busy(False)
            screen.show_error(_sentence(exc))

        self._tasks.run(lambda: self._signin.sign_in(username, password, drafts=forms), done,
                        failed, pool="write")

    # ------------------------------------------------------------ signing out

    @Slot()
    def on_window_sign_out_requested(self) -> None:
        if self.actor is None:
            return
        forms = self._forms.unsaved_forms()

        def done(kept: int) -> None:
            self._signed_out(kept)

        def failed(exc: BaseException) -> None:
            # The session could not be ended in Redis (it expires on its own); the
            # workstation still signs out, and the forms stay open.
            log_exception(log, "signing out failed", exc)
            self._window.statusBar().showMessage(_sentence(exc), 10000)

        self._tasks.run(lambda: self._signin.sign_out(forms), done, failed, pool="write")

    def _signed_out(self, kept: int) -> None:
        self.actor = None
        self.is_locked = self._ended = False
        self._hidden.clear()
        self._forms.close_all()
        self._window.lock_screen.hide_lock()
        self._window.set_locked(False)
        self.user_changed.emit(None)
        notice = "You signed out."
        if kept:
            notice += (f" {kept} unsaved form{'s were' if kept != 1 else ' was'} kept for "
                       "you; you can reopen it when you sign in again.")
        self._window.show_sign_in(notice)

    # ------------------------------------------------------------ watching

    @Slot()
    def on_timer_timeout(self) -> None:
        actor = self.actor
        if actor is None:
            return
        now = self._clock()
        if not self.is_locked and now - self.activity.last_input >= self.idle_lock_seconds:
            self.lock("idle")
        if now - self._last_autosave >= self._autosave_seconds:
            self._last_autosave = now
            self.autosave()
        if self._polling or now - self._last_poll < self._poll_seconds:
            return
        self._last_poll = now
        self._polling = True
        active_since_beat = self.activity.last_input > self._last_beat
        if (not self.is_locked and active_since_beat
                and now - self._last_beat >= self._heartbeat_seconds):
            self._last_beat = now
            call: Callable[[], str] = self._signin.heartbeat
        else:
            call = self._signin.state
        asked = self._asked()

        def answered(state: str) -> None:
            self._polling = False
            if self._still(asked):
                self._on_state(state)

        def failed(exc: BaseException) -> None:
            # Redis unreachable: the health indicator says so; services refuse to act
            # until it is back, so nothing is done here.
            self._polling = False

        self._tasks.run(call, answered, failed, pool="read")

    @property
    def is_locked(self) -> bool:
        return self._locked

    @is_locked.setter
    def is_locked(self, locked: bool) -> None:
        if locked != self._locked:
            self._locked = locked
            self._turn += 1

    def _asked(self) -> tuple[str | None, int]:
        """What a session state asked for now is about: this session, this lock or unlock."""
        return (None if self.actor is None else self.actor.session_id), self._turn

    def _still(self, asked: tuple[str | None, int]) -> bool:
        """Whether a state asked for at ``asked`` still describes the screen. One read while
        the screen was locked ("locked") and answered after the unlock must not lock it
        again, nor one from the previous person's session; the next poll asks afresh."""
        return self.actor is not None and self._asked() == asked

    def _on_state(self, state: str) -> None:
        if state in ("revoked", "expired", "ended"):
            self._show_ended(state)
        elif state == "locked" and not self.is_locked:
            self.lock("server")

    # ------------------------------------------------------------ kept forms

    def _offer_kept_forms(self, actor: Actor) -> None:
        user_id = actor.user_id
        if user_id is None:
            return
        draft_key = actor.draft_key

        def listed(kept: list[SavedDraft]) -> None:
            if self.actor is not None and self.actor.user_id == user_id:
                self._kept = kept
                self._render_kept()

        self._tasks.run(lambda: self._drafts.list_for(user_id, draft_key), listed,
                        lambda exc: log_exception(log, "listing kept forms failed", exc),
                        pool="read")

    def _render_kept(self) -> None:
        if not self._kept:
            self._window.hide_kept_drafts()
            return
        first = self._kept[0]
        when = first.saved_at.astimezone().strftime("%d %b %H:%M")
        more = len(self._kept) - 1
        sentence = (f"A form you had not saved was kept for you: {first.title}, {when}. "
                    f"{first.reason}")
        if more:
            sentence += f" ({more} more after it.)"
        self._window.show_kept_drafts(sentence)

    @Slot()
    def on_window_restore_drafts_requested(self) -> None:
        if not self._kept or self.actor is None or self.actor.user_id is None:
            return
        saved = self._kept.pop(0)
        # The stored copy stays until the reopened form is saved or discarded.
        self._forms.restore(saved)
        self._render_kept()

    @Slot(str)
    def on_forms_form_closed(self, key: str) -> None:
        """Saved or discarded: its kept copy (autosaved or reopened) goes. If MongoDB
        cannot be reached the copy is forgotten at a later tick."""
        actor = self.actor
        self._autosaved.pop(key, None)
        if actor is None or actor.user_id is None:
            return
        self._forget_key(actor.user_id, key)

    def _forget_key(self, user_id: int, key: str) -> None:
        self._to_forget.discard((user_id, key))

        def failed(exc: BaseException) -> None:
            log_exception(log, "forgetting a kept form failed", exc)
            self._to_forget.add((user_id, key))  # tried again at the next autosave tick

        self._tasks.run(lambda: self._drafts.delete_key(user_id, key), lambda _: None,
                        failed, pool="write")

    def autosave(self) -> None:
        """Keep what is being typed every so often, so a crash or a power cut costs at
        most that interval; the copy goes when the form is saved or discarded."""
        for user_id, key in list(self._to_forget):
            self._forget_key(user_id, key)
        actor = self.actor
        if actor is None or actor.user_id is None:
            return
        user_id = actor.user_id
        draft_key = actor.draft_key
        for form in self._forms.unsaved_forms():
            if self._autosaved.get(form.key) == form.payload:
                continue

            def save(form: DraftToKeep = form) -> str:
                return self._drafts.save(user_id, kind=form.kind, title=form.title,
                                         payload=form.payload, key=form.key,
                                         reason=AUTOSAVED, draft_key=draft_key)

            def saved(_: str, form: DraftToKeep = form) -> None:
                # Only what is really stored counts as kept: a failed save is tried again
                # at the next tick, typing or not.
                self._autosaved[form.key] = form.payload

            self._tasks.run(save, saved,
                            lambda exc: log_exception(log, "autosaving a form failed", exc),
                            pool="write")

    @Slot()
    def on_window_discard_drafts_requested(self) -> None:
        if not self._kept or self.actor is None or self.actor.user_id is None:
            return
        if not self.confirm_discard(self._kept[0]):
            return
        saved = self._kept.pop(0)
        self._forget_key(self.actor.user_id, saved.key)
        self._render_kept()

    def confirm_discard(self, saved: SavedDraft) -> bool:
        """Asks before what was typed is thrown away (tests replace it)."""
        answer = QMessageBox.question(
            self._window, "Discard the kept form?",
            f"Discard “{saved.title}”? What was typed in it is lost.",
            QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel)
        return answer == QMessageBox.StandardButton.Discard


def _sentence(exc: BaseException) -> str:
    if isinstance(exc, SignInFailed | SessionEnded):
        return exc.message
    return failure_sentence(exc, CANNOT_SIGN_IN)


class _AdminListPresenter(QObject):
    """An administrator's list in a dialog (sessions, the break-the-glass report): opened
    once, raised if open again, filled on the read pool, errors as a sentence in it.

    Subclasses make the dialog, say how to fetch the rows and how to show them.
    """

    CANNOT = "The list cannot be shown right now"

    def __init__(self, parent_window: QWidget, tasks: TaskRunner | InlineTaskRunner,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._window = parent_window
        self._tasks = tasks
        self.dialog: Any = None

    def _make_dialog(self) -> Any:
        raise NotImplementedError

    def _fetch(self, dialog: Any) -> Callable[[], list[Any]]:
        raise NotImplementedError

    def _show_rows(self, dialog: Any, rows: list[Any]) -> None:
        raise NotImplementedError

    @Slot()
    def show(self) -> None:
        if self.dialog is not None and self.dialog.isVisible():
            self.dialog.raise_()
            return
        dialog = self._make_dialog()
        dialog.finished.connect(lambda _: self._forget(dialog))
        self.dialog = dialog
        dialog.open()
        self.refresh()

    def _forget(self, dialog: Any) -> None:
        if self.dialog is dialog:
            self.dialog = None
        dialog.deleteLater()

    @Slot()
    def refresh(self) -> None:
        dialog = self.dialog
        if dialog is None:
            return
        dialog.set_busy(True)

        def listed(rows: list[Any]) -> None:
            if dialog is self.dialog:
                dialog.set_busy(False)
                self._show_rows(dialog, rows)

        def failed(exc: BaseException) -> None:
            if dialog is self.dialog:
                dialog.set_busy(False)
                dialog.show_error(failure_sentence(exc, self.CANNOT))

        self._tasks.run(self._fetch(dialog), listed, failed, pool="read")


class SessionsPresenter(_AdminListPresenter):
    """Admin > Signed-in sessions: list every session and end one."""

    CANNOT = CANNOT_LIST

    def __init__(self, parent_window: QWidget, admin: SessionAdmin,
                 tasks: TaskRunner | InlineTaskRunner, parent: QObject | None = None) -> None:
        super().__init__(parent_window, tasks, parent)
        self._admin = admin

    def _make_dialog(self) -> SessionsDialog:
        dialog = SessionsDialog(self._window)
        dialog.refresh_requested.connect(self.refresh)
        dialog.revoke_requested.connect(self.on_dialog_revoke_requested)
        return dialog

    def _fetch(self, dialog: SessionsDialog) -> Callable[[], list[SessionInfo]]:
        return self._admin.list_sessions

    def _show_rows(self, dialog: SessionsDialog, rows: list[SessionInfo]) -> None:
        dialog.show_sessions(rows)

    @Slot(str)
    def on_dialog_revoke_requested(self, session_id: str) -> None:
        dialog = self.dialog

        def failed(exc: BaseException) -> None:
            if dialog is self.dialog and dialog is not None:
                dialog.show_error(failure_sentence(exc, CANNOT_END))

        self._tasks.run(lambda: self._admin.revoke(session_id), lambda _: self.refresh(),
                        failed, pool="write")


class BreakGlassReportPresenter(_AdminListPresenter):
    """Admin > Break-the-glass report (``audit.report``; reading it is audited too)."""

    CANNOT = CANNOT_REPORT

    def __init__(self, parent_window: QWidget, reports: AuditReports,
                 tasks: TaskRunner | InlineTaskRunner, parent: QObject | None = None) -> None:
        super().__init__(parent_window, tasks, parent)
        self._reports = reports

    def _make_dialog(self) -> BreakGlassReportDialog:
        dialog = BreakGlassReportDialog(self._window)
        dialog.refresh_requested.connect(lambda _days: self.refresh())
        return dialog

    def _fetch(self, dialog: BreakGlassReportDialog) -> Callable[[], list[BreakGlassEntry]]:
        days = dialog.days()
        return lambda: self._reports.break_glass(days)

    def _show_rows(self, dialog: BreakGlassReportDialog, rows: list[BreakGlassEntry]) -> None:
        dialog.show_entries(rows)
