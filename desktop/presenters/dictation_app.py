"""Dictation in the main window: the upload worker and the status bar's count, the queue
panel, My dictations, the offer of interrupted recordings at sign-in, Help > Keyboard, the
chart's Recordings section and the note editor's recorder — built by ``build_dictation``
(desktop/presenters/dictation.py) for desktop/bootstrap.py."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from PySide6.QtCore import QObject, Qt, QTimer
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QWidget

from backend_client.dictation.api import (
    DictationRecorder,
    LocalDictations,
    RecordingsApi,
    UploadQueueApi,
)
from backend_client.dictation.dto import LocalRecording, QueueItem
from backend_client.dto import Actor
from desktop.presenters.chart_section import SectionFactory
from desktop.presenters.dictation import KEPT, DictationHub, RecorderPresenter, ask_yes
from desktop.presenters.dictation_section import (
    WorklistPresenter,
    attach_note_dictation,
    recordings_factory,
)
from desktop.presenters.messages import failure_sentence
from desktop.tasks import InlineTaskRunner, TaskRunner
from ui.dictation.dictation_list import DictationListDialog
from ui.dictation.keyboard_help import KeyboardHelp
from ui.dictation.keymap import ACTIONS
from ui.dictation.queue_badge import UploadBadge
from ui.dictation.queue_panel import QueuePanel
from ui.dictation.recorder_view import RecorderView, mmss

log = logging.getLogger(__name__)


def keymap_from_setting(text: str) -> dict[str, str]:
    """The dictation keys with the DRA_DICTATION_KEYS setting's changes; what is wrong in
    it is logged (the setting's text names no patient) and keeps the default."""
    from ui.dictation.keymap import parse_keymap

    keys, problems = parse_keymap(text)
    for problem in problems:
        log.warning("DRA_DICTATION_KEYS: %s", problem)
    return keys


def _plain(text: str) -> str:
    return text.replace("&&", "\0").replace("&", "").replace("\0", "&").rstrip("…").strip()


class DictationScreens(QObject):
    def __init__(self, window: Any, hub: DictationHub, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.window, self.hub = window, hub
        k = hub.keymap
        self.badge = UploadBadge(window, keys=k["queue"])
        self.badge.clicked.connect(self.show_queue)
        self.panel: QueuePanel | None = None
        self.dictations: DictationListDialog | None = None
        self.offer: DictationListDialog | None = None
        self.help: KeyboardHelp | None = None
        self.list_recorder: RecorderPresenter | None = None
        self.warm_up_ms: int | None = None
        self.queue_action = self._action("&Upload queue…", k["queue"], self.show_queue)
        self.dictations_action = self._action("My &dictations…", k["dictations"],
                                              self.show_dictations)
        self.help_action = self._action("&Keyboard shortcuts…", k["help"], self.show_help)
        self.worklist_action = self._action("Transcription &worklist…", k["worklist"],
                                            self.show_worklist)
        self.worklist: WorklistPresenter | None = None
        hub.worker.waiting_changed.connect(self.badge.set_count)
        hub.worker.item_changed.connect(self._on_item_changed)
        hub.worker.progress.connect(self._on_progress)
        hub.local_changed.connect(self._reload_dictations)

    def _action(self, text: str, keys: str, slot: Callable[[], None]) -> QAction:
        action = QAction(text, self.window)
        action.setShortcut(QKeySequence(keys))
        action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        action.triggered.connect(lambda _c=False: slot())
        return action

    @classmethod
    def build(cls, window: Any, charts: Any, recorder: DictationRecorder,
              local: LocalDictations, queue: UploadQueueApi, recordings: RecordingsApi,
              tasks: TaskRunner | InlineTaskRunner, session: Any, *,
              keymap: dict[str, str] | None = None,
              confirm: Callable[[QWidget, str, str], bool] = ask_yes,
              warm_up_ms: int | None = None) -> DictationScreens:
        """``charts``: the ChartTabsPresenter (its ``section_factories`` gain Recordings) or
        None; ``session``: the SessionPresenter (``actor``, signed_in, user_changed, locked,
        unlocked); ``warm_up_ms``: make the audio player this long after each sign-in
        (the app: 3000; None: on first Play)."""

        def actor() -> Actor | None:
            return getattr(session, "actor", None)

        hub = DictationHub(recorder, local, queue, recordings, tasks, actor, keymap=keymap,
                           confirm=confirm, parent=window)
        screens = cls(window, hub, parent=window)
        screens.warm_up_ms = warm_up_ms
        screens.attach(window)
        if charts is not None:
            charts.section_factories.append(screens.chart_section(charts))
        for name in ("signed_in", "user_changed", "locked", "unlocked"):
            signal = getattr(session, name, None)
            if signal is not None:
                signal.connect(getattr(screens, f"on_{name}"))
        hub.worker.start()
        return screens

    def attach(self, window: Any) -> None:
        """The count in the status bar; the actions in the View and Help menus."""
        window.statusBar().addPermanentWidget(self.badge)
        self.badge.follow_width_of(window)
        track = getattr(window, "track_status_indicator", None)
        if track is not None:
            track(self.badge)
        view_menu = getattr(window, "view_menu", None)
        if view_menu is not None:
            view_menu.addSeparator()
            view_menu.addAction(self.dictations_action)
            view_menu.addAction(self.queue_action)
            view_menu.addAction(self.worklist_action)
        else:
            for action in (self.dictations_action, self.queue_action, self.worklist_action):
                window.addAction(action)
        help_menu = getattr(window, "help_menu", None)
        if help_menu is not None:
            help_menu.insertAction(help_menu.actions()[0] if help_menu.actions() else None,
                                   self.help_action)
        else:
            window.addAction(self.help_action)
        self._enable(None)

    def chart_section(self, charts: Any = None) -> SectionFactory:
        """The Recordings section; a recording made in a chart is linked to the encounter
        open in that chart's header (if any) when recording starts."""
        def open_encounter(patient_id: int) -> int | None:
            chart = getattr(charts, "charts", {}).get(patient_id)
            header = getattr(chart, "header", None)
            encounter = getattr(header, "open_encounter", None)
            return None if encounter is None else int(encounter.id)

        return recordings_factory(self.hub, encounter_id=open_encounter)

    def note_editor_hook(self) -> Callable[[Any], None]:
        """For ``make_notes_section(..., on_editor=...)``."""
        return attach_note_dictation(self.hub)

    # ------------------------------------------------------------ session

    def _enable(self, actor: Actor | None) -> None:
        self.queue_action.setEnabled(actor is not None)
        self.dictations_action.setEnabled(actor is not None and actor.can("recording.create"))
        self.worklist_action.setEnabled(actor is not None and actor.can("recording.read"))

    def on_signed_in(self, actor: Actor) -> None:
        self._enable(actor)
        if self.warm_up_ms is not None and actor.can("recording.read"):
            QTimer.singleShot(self.warm_up_ms, self, self.hub.player.warm_up)
        self.hub.worker.kick()   # the queue may hold items waiting for this author
        if actor.user_id is None or not actor.can("recording.create"):
            return
        author, local = actor.user_id, self.hub.local
        self.hub.tasks.run(lambda: local.interrupted(author), self._offer_interrupted,
                           lambda exc: log.warning("listing interrupted recordings failed: "
                                                   "%s", type(exc).__name__))

    def on_user_changed(self, actor: Actor | None) -> None:
        self.hub.leave()
        self._close_dialogs()
        self._enable(actor)

    def on_locked(self) -> None:
        """Nothing of a patient stays on screen: the dialogs are windows of their own,
        above the lock screen's overlay."""
        self.hub.leave()
        self._close_dialogs()
        self._enable(None)

    def _close_dialogs(self) -> None:
        for dialog in (self.panel, self.dictations, self.offer, self.help,
                       self.worklist.dialog if self.worklist else None):
            if dialog is not None:
                dialog.reject()
        self.dictations = self.offer = None
        self.list_recorder = None
        self.worklist = None

    def on_unlocked(self) -> None:
        self._enable(self.hub.actor())

    def shutdown(self) -> None:
        """App exit: no more uploads are started (one running finishes on the pool) and the
        open recording is paused and kept."""
        self.hub.worker.stop()
        self.hub.leave()

    # ------------------------------------------------------------ queue panel

    def show_queue(self) -> None:
        if self.panel is None:
            panel = QueuePanel(self.window)
            panel.retry_requested.connect(self.on_retry)
            self.panel = panel
        self._reload_queue()
        self.panel.show()
        self.panel.list.setFocus()

    def _reload_queue(self) -> None:
        queue = self.hub.queue

        me = self.hub.author_id()

        def listed(items: tuple[QueueItem, ...]) -> None:
            if self.panel is not None:
                # Another author's recordings are counted, never named.
                self.panel.show_items(tuple(
                    i if i.author_id == me else replace(
                        i, patient_caption="Another person's recording", problem="")
                    for i in items))
            waiting = sum(1 for i in items if i.state != "done")
            self.badge.set_count(waiting)

        def failed(exc: BaseException) -> None:
            if self.panel is not None:
                self.panel.show_message(failure_sentence(exc, "The upload queue cannot be "
                                                              "read right now"))

        self.hub.tasks.run(queue.items, listed, failed)

    def on_retry(self, recording_id: str) -> None:
        queue = self.hub.queue

        def retried(_r: object) -> None:
            self.hub.worker.kick()
            self._reload_queue()

        def failed(exc: BaseException) -> None:
            if self.panel is not None:
                self.panel.show_message(failure_sentence(exc, "The upload cannot be retried "
                                                              "right now"))

        self.hub.tasks.run(lambda: queue.retry(recording_id), retried, failed, pool="write")

    def _on_item_changed(self, _item: QueueItem) -> None:
        if self.panel is not None and self.panel.isVisible():
            self._reload_queue()

    def _on_progress(self, recording_id: str, sent: int, total: int) -> None:
        if self.panel is not None and self.panel.isVisible():
            self.panel.show_progress(recording_id, sent, total)

    # ------------------------------------------------------------ my dictations

    def show_dictations(self) -> None:
        if self.hub.author_id() is None:
            return
        if self.dictations is None:
            dialog = DictationListDialog(self.window)
            dialog.continue_requested.connect(self.on_continue)
            dialog.finish_requested.connect(lambda i: self.on_finish(dialog, i))
            dialog.discard_requested.connect(lambda i: self.on_discard(dialog, i))
            self.dictations = dialog
        self._reload_dictations()
        self.dictations.show()
        self.dictations.list.setFocus()

    def _reload_dictations(self) -> None:
        dialog, author = self.dictations, self.hub.author_id()
        if dialog is None or author is None:
            return
        local = self.hub.local
        self.hub.tasks.run(lambda: local.recordings(author), dialog.show_recordings,
                           lambda exc: dialog.show_message(failure_sentence(
                               exc, "Your recordings cannot be listed right now")))

    def _find(self, dialog: DictationListDialog, rec_id: str) -> LocalRecording | None:
        return next((r for r in dialog.recordings if r.id == rec_id), None)

    def on_continue(self, rec_id: str) -> None:
        dialog = self.dictations
        rec = self._find(dialog, rec_id) if dialog is not None else None
        if dialog is None or rec is None:
            return
        if self.list_recorder is not None:
            old = self.list_recorder
            old.detach()
            old.view.deleteLater()
        view = RecorderView(rec.target.patient_caption, dialog, keymap=self.hub.keymap)
        dialog.recorder_box.addWidget(view)
        presenter = RecorderPresenter(self.hub, view, lambda: rec.target, host=dialog,
                                      parent=dialog)
        self.list_recorder = presenter
        presenter.open_recording(rec)
        view.record_button.setFocus()

    def on_finish(self, dialog: DictationListDialog, rec_id: str) -> None:
        """Finish a paused or interrupted recording: stopped and queued as it is."""
        hub, author = self.hub, self.hub.author_id()
        if author is None:
            return
        recorder = hub.recorder
        if hub.owner is not None:
            hub.owner.released(KEPT)
            hub.owner = None

        def work() -> LocalRecording:
            status = recorder.status()
            if status.recording_id != rec_id:
                if status.state == "recording":
                    recorder.pause()
                recorder.open(rec_id, author)
            return recorder.stop()

        def stopped(rec: LocalRecording) -> None:
            hub.bridge.poll_now()
            hub.queue_recording(rec, dialog.show_message)

        hub.tasks.run(work, stopped, lambda exc: dialog.show_message(failure_sentence(
            exc, "The recording cannot be finished right now")), pool="write")

    def on_discard(self, dialog: DictationListDialog, rec_id: str) -> None:
        hub, author = self.hub, self.hub.author_id()
        rec = self._find(dialog, rec_id)
        if author is None or rec is None:
            return
        if not hub.confirm(dialog, "Discard recording",
                           f"Throw away this recording of {mmss(rec.duration_ms)} for "
                           f"{rec.target.patient_caption}? It cannot be recovered."):
            return
        recorder, local = hub.recorder, hub.local
        open_here = hub.bridge.status.recording_id == rec_id
        if open_here and hub.owner is not None:
            hub.owner.released("The recording was discarded.")
            hub.owner = None

        def work() -> None:
            if recorder.status().recording_id == rec_id:
                recorder.discard()
            else:
                local.discard(rec_id, author)

        def done(_r: object) -> None:
            hub.bridge.poll_now()
            dialog.show_message("The recording was discarded.")
            hub.local_changed.emit()
            if dialog is self.offer:
                dialog.show_recordings(tuple(r for r in dialog.recordings if r.id != rec_id))

        hub.tasks.run(work, done, lambda exc: dialog.show_message(failure_sentence(
            exc, "The recording cannot be discarded right now")), pool="write")

    def _offer_interrupted(self, recordings: tuple[LocalRecording, ...]) -> None:
        if not recordings or self.hub.author_id() is None:
            return
        dialog = DictationListDialog(self.window, offer=True)
        dialog.finish_requested.connect(lambda i: self._finish_offered(dialog, i))
        dialog.discard_requested.connect(lambda i: self.on_discard(dialog, i))
        dialog.show_recordings(recordings)
        self.offer = dialog
        dialog.open()

    def _finish_offered(self, dialog: DictationListDialog, rec_id: str) -> None:
        self.on_finish(dialog, rec_id)
        dialog.show_recordings(tuple(r for r in dialog.recordings if r.id != rec_id))

    # ------------------------------------------------------------ worklist

    def show_worklist(self) -> None:
        if not self.hub.can("recording.read"):
            return
        if self.worklist is None:
            self.worklist = WorklistPresenter(self.hub, self.window, parent=self)
        self.worklist.show()

    # ------------------------------------------------------------ help

    def keyboard_groups(self) -> list[tuple[str, list[tuple[str, str]]]]:
        window = self.window
        main: list[tuple[str, str]] = []
        seen: set[str] = set()
        actions: list[QAction] = []
        for top in window.menuBar().actions():
            menu = top.menu()
            if menu is not None:
                actions.extend(a for a in menu.actions() if not a.isSeparator())
        actions.extend(window.actions())
        for action in actions:
            keys = ", ".join(s.toString(QKeySequence.SequenceFormat.NativeText)
                             for s in action.shortcuts() if not s.isEmpty())
            text = _plain(action.text()) or action.toolTip()
            if keys and keys not in seen and action not in (
                    self.queue_action, self.dictations_action, self.help_action,
                    self.worklist_action):
                seen.add(keys)
                main.append((keys, text))
        chart = [("Alt+1 … Alt+0", "The open chart's sections, in their order"),
                 ("Alt+underlined letter", "The button or field with that letter"),
                 ("Ctrl+S", "Save the note being written"),
                 ("Ctrl+F in Notes", "Search the notes (elsewhere: find a patient)")]
        dictation = [(self.hub.keymap[name], what) for name, (_d, what) in ACTIONS.items()]
        return [("The window", main), ("Charts and notes", chart),
                ("Dictation", dictation)]

    def show_help(self) -> None:
        if self.help is not None:
            self.help.deleteLater()
        self.help = KeyboardHelp(self.keyboard_groups(), self.window)
        self.help.show()
