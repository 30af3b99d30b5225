"""Search-as-you-type for the patient list: debounced, off the GUI thread, newest wins.

The list follows other workstations: a change event for a patient it shows (or a new
patient, who may match), and every reconnect of live updates, runs the search again
quietly — the rows on screen stay until the new ones replace them, with the selection and
the scroll position kept.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from backend_client.dto import SearchPage
from backend_client.patients.api import PAGE_SIZE, PatientsApi
from backend_client.sync.events import ChangeEvent
from desktop.bridges.notifications import ChangeNotifications
from desktop.presenters.messages import failure_sentence
from desktop.tasks import InlineTaskRunner, TaskRunner
from ui.patients.patient_list_view import PatientListView

DEBOUNCE_MS = 130
# A quiet refresh asks for every row already shown in one request, up to this many.
MAX_REFRESH_ROWS = 500
CANNOT_SEARCH = "The patient list cannot be searched right now"


def _too_short(text: str) -> bool:
    # One Latin letter finds nothing (the service searches name prefixes from two); a
    # single digit may be a short MRN and a single letter of another script a whole name.
    return len(text) == 1 and text.isascii() and text.isalpha()


class PatientListPresenter(QObject):
    """Turns keystrokes into searches and results into rows.

    Every search carries a token; a result whose token is no longer the newest is
    dropped, so a slow answer to "smi" never replaces the rows for "smith".

    Signals:
        results_shown(str): the first page for this query is on screen (tests, startup).
        results_refreshed(str): the rows for this query were read again after a change
            elsewhere (tests).

    Args:
        notifications: the change bridge to follow (:meth:`follow`); None: the list
            changes only when its user searches.
    """

    results_shown = Signal(str)
    results_refreshed = Signal(str)

    def __init__(self, view: PatientListView, api: PatientsApi,
                 tasks: TaskRunner | InlineTaskRunner, *, debounce_ms: int = DEBOUNCE_MS,
                 notifications: ChangeNotifications | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._view = view
        self._api = api
        self._tasks = tasks
        self._token = 0
        self._query = ""
        self._pending = ""
        self._loaded = 0          # rows received for the current query (the next offset)
        self._paging = False
        self._select_after: int | None = None
        self._searching = False   # a first page is on its way
        self._stale = False       # ...and a change elsewhere came meanwhile: look again
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(debounce_ms)
        self._timer.timeout.connect(self.on_timer_timeout)
        view.search_requested.connect(self.on_view_search_requested)
        view.more_requested.connect(self.on_view_more_requested)
        if notifications is not None:
            self.follow(notifications)

    def follow(self, notifications: ChangeNotifications) -> None:
        """Re-run the current search when a shown patient changes elsewhere, or after a
        reconnect (anything may have changed while live updates were off)."""
        notifications.changed.connect(self.on_notifications_changed)
        notifications.resynced.connect(self.on_notifications_resynced)

    def start(self) -> None:
        """Search for whatever was typed before the patient registry was ready."""
        if self._view.search_text().strip():
            self._search(self._view.search_text())

    def refresh(self, select_patient_id: int | None = None) -> None:
        """Run the current search again after a save here, then select that patient.

        In place, like a change from another workstation: every row loaded stays loaded,
        nothing scrolls or flickers, the selection stays; the saved patient is then
        selected where they are among the rows (if they match what is typed).
        """
        self._select_after = select_patient_id
        if self._timer.isActive():
            return  # a search for newer typing is about to run; it selects them
        text = self._view.search_text()
        if not self._query or text.strip() != self._query:
            self._search(text)  # nothing shown for this text yet: an ordinary search
            return
        self._refresh_quietly()

    def reset(self) -> None:
        """Another person signed in: nothing of the last search stays on screen."""
        self._timer.stop()
        self._token += 1  # answers still on their way are dropped
        self._query = self._pending = ""
        self._select_after = None
        self._paging = self._searching = self._stale = False
        self._view.clear_search()

    @property
    def token(self) -> int:
        return self._token

    # ------------------------------------------------------------------ slots

    @Slot(str)
    def on_view_search_requested(self, text: str) -> None:
        self._pending = text
        self._timer.start()  # restarts: one search when the typing pauses

    @Slot()
    def on_timer_timeout(self) -> None:
        self._search(self._pending)

    @Slot()
    def on_view_more_requested(self) -> None:
        if self._paging or not self._query:
            return
        self._paging = True
        token, query, offset = self._token, self._query, self._loaded
        self._tasks.run(lambda: self._api.search(query, offset=offset),
                        lambda page: self._on_next_page(token, page),
                        lambda exc: self._on_failed(token, exc, keep_rows=True), pool="read")

    @Slot(tuple)
    def on_notifications_changed(self, events: tuple[ChangeEvent, ...]) -> None:
        for event in events:
            if event.kind != "patient" or event.mine:
                continue  # this workstation's own saves refresh the list when they land
            if event.action == "created" or self._view.shows_patient(event.id):
                self._refresh_quietly()
                return

    @Slot()
    def on_notifications_resynced(self) -> None:
        self._refresh_quietly()

    # -------------------------------------------------------------- internals

    def _refresh_quietly(self) -> None:
        """The same search again, in place: no "Searching…", no jump to the top."""
        if not self._query or self._timer.isActive():
            return  # nothing shown, or a search for newer typing is about to run anyway
        if self._searching:
            self._stale = True  # that answer may predate the change: ask once more after
            return
        self._token += 1
        token, query = self._token, self._query
        limit = min(max(self._loaded, PAGE_SIZE), MAX_REFRESH_ROWS)
        self._paging = True  # no "more" while the rows are being replaced
        self._searching = True
        self._tasks.run(lambda: self._api.search(query, offset=0, limit=limit),
                        lambda page: self._on_refreshed(token, page),
                        lambda exc: self._on_refresh_failed(token, exc), pool="read")

    def _on_refreshed(self, token: int, page: SearchPage) -> None:
        if token != self._token:
            return
        self._searching = self._paging = False
        self._loaded = len(page.items)
        self._view.refresh_rows(self._query, page.items, page.has_more)
        if self._select_after is not None and not self._stale:
            self._view.select_patient(self._select_after)
            self._select_after = None
        self.results_refreshed.emit(self._query)
        self._again_if_stale()

    def _on_refresh_failed(self, token: int, _exc: BaseException) -> None:
        if token != self._token:
            return
        # The rows shown are still the last good answer; live updates cost freshness only.
        self._searching = self._paging = False
        self._again_if_stale()

    def _again_if_stale(self) -> None:
        if self._stale:
            self._stale = False
            self._refresh_quietly()

    def _search(self, text: str) -> None:
        self._token += 1
        token = self._token
        self._paging = self._searching = self._stale = False
        self._loaded = 0
        query = text.strip()
        if not query:
            self._query = ""
            self._select_after = None
            self._view.show_hint()
            return
        if _too_short(query):
            self._query = ""
            self._view.show_too_short(2)
            return
        self._query = query
        # Until this search's first page arrives, the rows on screen belong to the old
        # one: asking for "more" now would page the new query from the wrong offset.
        self._paging = True
        self._searching = True
        self._view.show_searching(query)
        self._tasks.run(lambda: self._api.search(query, offset=0),
                        lambda page: self._on_first_page(token, page),
                        lambda exc: self._on_failed(token, exc), pool="read")

    def _on_first_page(self, token: int, page: SearchPage) -> None:
        if token != self._token:
            return  # a newer search has started; this answer is stale
        self._paging = self._searching = False
        self._loaded = len(page.items)
        self._view.show_page(self._query, page.items, page.has_more)
        if self._select_after is not None:
            self._view.select_patient(self._select_after)
            self._select_after = None
        self.results_shown.emit(self._query)
        self._again_if_stale()

    def _on_next_page(self, token: int, page: SearchPage) -> None:
        if token != self._token:
            return
        self._paging = False
        self._loaded += len(page.items)
        self._view.append_page(page.items, page.has_more)

    def _on_failed(self, token: int, exc: BaseException, *, keep_rows: bool = False) -> None:
        if token != self._token:
            return
        self._paging = self._searching = self._stale = False
        # A failed next page keeps the rows above it; a failed new search must not leave
        # the previous search's rows looking like its answer.
        self._view.show_error(failure_sentence(exc, CANNOT_SEARCH), keep_rows=keep_rows)
