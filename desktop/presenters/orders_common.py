"""What the orders, prescriptions and tasks sections share: fetching off the GUI thread with
the newest request winning, writes on the write pool, and failures as sentences (a stale
write names who changed it first)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, tzinfo
from typing import Any

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QDialog

from backend_client.dto import PatientRecord
from backend_client.errors import Conflict, NotFound
from desktop.presenters.messages import failure_sentence
from desktop.tasks import InlineTaskRunner, TaskRunner

Runner = TaskRunner | InlineTaskRunner


def conflict_sentence(exc: Conflict, what: str) -> str:
    who = exc.changed_by or "Someone else"
    return (f"{who} changed this {what} meanwhile, so nothing was saved. The list now shows "
            f"it as it is; look again and try once more if it is still needed.")


def write_failure(exc: BaseException, what: str, cannot: str) -> str:
    if isinstance(exc, Conflict):
        return conflict_sentence(exc, what)
    if isinstance(exc, NotFound):
        return f"This {what} no longer exists; the list now shows what there is."
    return failure_sentence(exc, cannot)


class ItemsSection(QObject):
    """Base of one chart section over a list of items.

    Subclasses set ``key``, ``title``, ``what`` and implement ``_read()`` and ``_show()``.
    """

    key = ""
    title = ""
    what = "item"           # "order": used in sentences
    actions: frozenset[str] = frozenset()   # chart actions that concern this section

    def __init__(self, record: PatientRecord, tasks: Runner, *,
                 today: Callable[[], date], zone: tzinfo | None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.record = record
        self.tasks = tasks
        self.today = today
        self.zone = zone
        self._token = 0
        self._closed = False
        self.dialog: QDialog | None = None
        self.loaded = False

    # ---------------------------------------------------------------- ChartSection

    def load(self, done: Callable[[], None]) -> None:
        self._fetch(done)

    def refresh(self, actions: frozenset[str]) -> None:
        if not actions or actions & self.actions:
            self._fetch()

    def close(self) -> bool:
        """False while one of this section's forms is open (what is typed in it would be
        lost): the form comes to the front and the tab stays; True otherwise."""
        if self.dialog is not None and self.dialog.isVisible():
            self.dialog.activateWindow()
            return False
        self._closed = True
        self._token += 1
        return True

    # ---------------------------------------------------------------- reading

    def _read(self) -> tuple[Any, ...]:
        raise NotImplementedError

    def _show(self, items: tuple[Any, ...]) -> None:
        raise NotImplementedError

    def _show_message(self, text: str) -> None:
        raise NotImplementedError

    def _fetch(self, done: Callable[[], None] | None = None,
               then: Callable[[], None] | None = None) -> None:
        if self._closed:
            if done is not None:
                done()
            return
        self._token += 1
        token = self._token

        def ok(items: tuple[Any, ...]) -> None:
            if token == self._token and not self._closed:
                self.loaded = True
                self._show(items)
                self._show_message("")
                if then is not None:
                    then()
            if done is not None:
                done()

        def failed(exc: BaseException) -> None:
            if token == self._token and not self._closed:
                self._show_message(failure_sentence(
                    exc, f"The {self.what}s cannot be shown right now"))
            if done is not None:
                done()

        self.tasks.run(self._read, ok, failed)

    # ---------------------------------------------------------------- writing

    def _write(self, fn: Callable[[], Any], ok: Callable[[Any], None],
               failed: Callable[[BaseException], None]) -> None:
        self.tasks.run(fn, ok, failed, pool="write")

    def _open(self, dialog: QDialog) -> None:
        if self.dialog is not None:
            self.dialog.reject()
        self.dialog = dialog

        def forget(_result: int) -> None:
            if self.dialog is dialog:
                self.dialog = None
            dialog.deleteLater()

        dialog.finished.connect(forget)
        dialog.open()
