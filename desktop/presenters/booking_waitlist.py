"""The waitlist panel's flows: list, add, remove, and booking one of today's offers (the
booking itself is the booking presenter's, which takes the entry off once booked)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, tzinfo
from typing import Any

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QWidget

from backend_client.dto import ProviderInfo, SlotOffer, WaitlistEntry
from backend_client.errors import ValidationError
from backend_client.scheduling.api import SchedulingApi
from desktop.presenters.messages import failure_sentence
from desktop.tasks import InlineTaskRunner, TaskRunner
from ui.scheduling.waitlist_panel import WaitlistPanel

CANNOT_READ = "The waitlist cannot be read right now"
CANNOT_CHANGE = "The waitlist cannot be changed right now"


class WaitlistFlow(QObject):
    def __init__(self, window: QWidget, api: SchedulingApi,
                 tasks: TaskRunner | InlineTaskRunner, *, zone: tzinfo | None,
                 today: Callable[[], date], search: Callable[[Any, str], None],
                 book: Callable[[SlotOffer, WaitlistEntry], None],
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._window = window
        self._api = api
        self._tasks = tasks
        self._zone = zone
        self._today = today
        self._search = search
        self._book = book
        self.panel: WaitlistPanel | None = None

    def show(self, providers: Sequence[ProviderInfo]) -> None:
        panel = WaitlistPanel(self._window, providers, today=self._today(), zone=self._zone)
        panel.patient_search_requested.connect(lambda text: self._search(panel.patient, text))
        panel.add_requested.connect(lambda kwargs: self._add(panel, kwargs))
        panel.remove_requested.connect(lambda entry, why: self._remove(panel, entry, why))
        panel.book_requested.connect(self._book)
        panel.finished.connect(lambda _: self._forget(panel))
        self.panel = panel
        panel.open()
        self.reload()

    def _forget(self, panel: WaitlistPanel) -> None:
        if self.panel is panel:
            self.panel = None
        panel.deleteLater()

    def reload(self) -> None:
        panel = self.panel
        if panel is None:
            return
        today = self._today()

        def got(result: tuple[tuple[WaitlistEntry, ...], tuple[SlotOffer, ...]]) -> None:
            if panel is self.panel:
                panel.show_entries(result[0])
                panel.show_offers(result[1])

        def failed(exc: BaseException) -> None:
            if panel is self.panel:
                panel.show_failure(failure_sentence(exc, CANNOT_READ))

        self._tasks.run(lambda: (self._api.waitlist(), self._api.offers(today)), got, failed)

    def _add(self, panel: WaitlistPanel, kwargs: dict[str, Any]) -> None:
        def added(_entry: WaitlistEntry) -> None:
            if panel is self.panel:
                panel.added()
                self.reload()

        def failed(exc: BaseException) -> None:
            if panel is self.panel:
                panel.show_add_failure(" ".join(exc.errors.values())
                                       if isinstance(exc, ValidationError)
                                       else failure_sentence(exc, CANNOT_CHANGE))

        args = dict(kwargs)
        patient_id = args.pop("patient_id")
        self._tasks.run(lambda: self._api.add_to_waitlist(patient_id, **args), added, failed,
                        pool="write")

    def _remove(self, panel: WaitlistPanel, entry: WaitlistEntry, reason: str) -> None:
        def failed(exc: BaseException) -> None:
            if panel is self.panel:
                panel.show_failure(failure_sentence(exc, CANNOT_CHANGE))
                self.reload()

        self._tasks.run(lambda: self._api.remove_from_waitlist(entry.id, entry.version, reason),
                        lambda _: self.reload(), failed, pool="write")
