"""The schedule screen's presenter: loads the day sheet, a provider's week or the agenda
off the GUI thread, keeps it fresh from change events, shows who is present, and hands
the user's intents (book, open, move, cancel, status) to the booking presenter.

Loads are newest-wins: navigating starts a new request and an older answer is dropped.
A refresh (a change event, a resync, a write finished) while a load is on its way is
remembered and done once that load is back, so a burst of events costs one extra load,
not one per event. A day sheet whose ``stamp`` equals the one on screen is not repainted.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any, Protocol

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from backend_client.dto import AppointmentInfo, DaySheet, PresenceInfo, ProviderInfo
from backend_client.scheduling.api import SchedulingApi
from desktop.bridges.notifications import ChangeNotifications
from desktop.presenters.messages import failure_sentence
from desktop.tasks import InlineTaskRunner, TaskRunner
from ui.scheduling.schedule_view import ScheduleView

log = logging.getLogger(__name__)

CANNOT_SHOW = "The schedule cannot be shown right now"
REFETCH_KINDS = frozenset({"appointment", "directory", "waitlist"})
NOW_TICK_MS = 30_000
# Who counts as present when a provider is signed in at several workstations.
PRESENCE_RANK = {"with_patient": 3, "available": 2, "away": 1, "signed_out": 0}


class BookingIntents(Protocol):
    """What the schedule asks of the booking presenter (desktop/presenters/booking.py).
    Its ``finished`` signal is emitted after every write attempt, success or not."""

    finished: Any

    def book(self, provider_id: int, starts_at: datetime) -> None: ...
    def edit(self, appointment: AppointmentInfo) -> None: ...
    def move(self, appointment: AppointmentInfo, provider_id: int, starts_at: datetime,
             ends_at: datetime) -> None: ...
    def cancel(self, appointment: AppointmentInfo) -> None: ...
    def set_status(self, appointment: AppointmentInfo, status: str) -> None: ...
    def show_waitlist(self) -> None: ...


def _local_now() -> datetime:
    return datetime.now().astimezone()


class SchedulePresenter(QObject):
    """Signals:
        shown(str): what was asked is on screen ("day", "week", "agenda"); tests, startup.
        providers_shown(): the provider list (filter, presence) is known.
    """

    shown = Signal(str)
    providers_shown = Signal()

    def __init__(self, view: ScheduleView, api: SchedulingApi,
                 tasks: TaskRunner | InlineTaskRunner, notifications: ChangeNotifications,
                 booking: BookingIntents, *, today: Callable[[], date] = date.today,
                 now: Callable[[], datetime] = _local_now, parent: QObject | None = None
                 ) -> None:
        super().__init__(parent)
        self._view, self._api, self._tasks = view, api, tasks
        self._booking = booking
        self._today, self._now = today, now
        self._mode = "day"
        self._day = self._shown_today = today()
        self._filter = 0                    # day sheet and agenda: one provider, 0 all
        self._week_provider: int | None = None
        self._providers: tuple[ProviderInfo, ...] = ()
        self._presence: tuple[PresenceInfo, ...] | None = None
        self._token = 0
        self._loading = False
        self._again = False                 # a refresh was asked while a load was out
        self._repaint = False               # the next answer replaces moves in flight
        self._shown: tuple[object, ...] | None = None   # (what, stamps) on screen
        self._timer = QTimer(self)
        self._timer.setInterval(NOW_TICK_MS)
        self._timer.timeout.connect(self.on_timer_timeout)

        view.day_requested.connect(self.on_view_day_requested)
        view.mode_requested.connect(self.on_view_mode_requested)
        view.provider_filter_requested.connect(self.on_view_provider_filter_requested)
        view.book_requested.connect(booking.book)
        view.open_requested.connect(booking.edit)
        view.move_requested.connect(booking.move)
        view.cancel_requested.connect(booking.cancel)
        view.status_requested.connect(booking.set_status)
        view.waitlist_requested.connect(booking.show_waitlist)
        booking.finished.connect(self.on_booking_finished)
        notifications.changed.connect(self.on_notifications_changed)
        notifications.resynced.connect(self.on_notifications_resynced)

    # ------------------------------------------------------------------ public

    def start(self) -> None:
        self._day = self._shown_today = self._today()
        self._view.set_today(self._day)
        self._view.set_now(self._now())
        self._view.show_date(self._day, self._mode)
        self._view.show_message("Loading the schedule…")
        self._load_providers()
        self._load()
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()
        self._token += 1

    def refresh(self, *, replace_moves: bool = False) -> None:
        """Look again (the service's cache makes this cheap when nothing changed)."""
        self._repaint = self._repaint or replace_moves
        if self._loading:
            self._again = True
            return
        self._load()

    @property
    def day(self) -> date:
        return self._day

    @property
    def mode(self) -> str:
        return self._mode

    # ------------------------------------------------------------------ slots

    @Slot(object)
    def on_view_day_requested(self, day: date) -> None:
        self._day = day
        self._view.show_date(day, self._mode)
        self._load()

    @Slot(str)
    def on_view_mode_requested(self, mode: str) -> None:
        if mode == self._mode:
            return
        if mode == "week":
            self._week_provider = self._filter or self._selected_provider() or (
                self._providers[0].id if self._providers else None)
            self._view.set_provider_filter(self._week_provider or 0)
        else:
            self._view.set_provider_filter(self._filter)
        self._mode = mode
        self._view.show_date(self._day, mode)
        self._load()
        self._view.focus_schedule()

    @Slot(int)
    def on_view_provider_filter_requested(self, provider_id: int) -> None:
        if self._mode == "week":
            if not provider_id:   # a week is one provider's: "All" keeps the one shown
                self._view.set_provider_filter(self._week_provider or 0)
                return
            self._week_provider = provider_id
        else:
            self._filter = provider_id
        self._load()

    @Slot()
    def on_booking_finished(self) -> None:
        self.refresh(replace_moves=True)

    @Slot(tuple)
    def on_notifications_changed(self, events: tuple[Any, ...]) -> None:
        kinds = {getattr(e, "kind", "") for e in events}
        if "directory" in kinds:
            self._load_providers()
        if kinds & REFETCH_KINDS:
            self.refresh()

    @Slot()
    def on_notifications_resynced(self) -> None:
        self._load_providers()
        self.refresh()

    @Slot(tuple)
    def presence_changed(self, presences: tuple[PresenceInfo, ...]) -> None:
        self._presence = tuple(presences)
        self._show_presence()

    @Slot()
    def on_timer_timeout(self) -> None:
        today = self._today()
        self._view.set_now(self._now())
        if today != self._shown_today:   # past midnight: today's column and label move on
            self._shown_today = today
            self._view.set_today(today)
            self._view.show_date(self._day, self._mode)
            self._shown = None
            self.refresh()

    # ------------------------------------------------------------------ loading

    def _selected_provider(self) -> int | None:
        grid = self._view.day_grid
        block = grid.selected_block()
        if block is not None:
            return block.appointment.provider_id
        slot = grid.selected_slot_time()
        return slot[0] if slot is not None else None

    def _load_providers(self) -> None:
        # A failure here is not shown on its own: the day sheet's load, which needs the
        # same database, says what is wrong; the provider filter fills on the next try.
        self._tasks.run(self._api.providers, self._on_providers,
                        lambda exc: None, pool="read")

    def _on_providers(self, providers: tuple[ProviderInfo, ...]) -> None:
        self._providers = tuple(providers)
        self._view.set_providers(self._providers)
        self._view.set_provider_filter(self._week_provider or 0 if self._mode == "week"
                                       else self._filter)
        self._show_presence()
        if self._mode == "week" and self._week_provider is None and self._providers:
            self._week_provider = self._providers[0].id
            self._load()
        self.providers_shown.emit()

    def _show_presence(self) -> None:
        if self._presence is None:
            return
        by_user = {p.user_id: p.id for p in self._providers if p.user_id is not None}
        # Someone with an account and no heartbeat is not signed in; a provider without
        # an account of their own gets no badge (there is nothing to know).
        badges: dict[int, str] = {p.id: "signed_out" for p in self._providers
                                  if p.user_id is not None}
        for info in self._presence:
            pid = info.provider_id if info.provider_id is not None else by_user.get(info.user_id)
            if pid is None:
                continue
            if PRESENCE_RANK.get(info.state, 0) >= PRESENCE_RANK.get(badges.get(pid, ""), -1):
                badges[pid] = info.state
        self._view.set_presence(badges)

    def _load(self) -> None:
        self._token += 1
        token, mode, day = self._token, self._mode, self._day
        self._loading, self._again = True, False
        fn: Callable[[], Any]
        if mode == "day":
            ids = (self._filter,) if self._filter else None
            fn = lambda: self._api.day_sheet(day, ids)  # noqa: E731
        elif mode == "week":
            provider = self._week_provider
            if provider is None:      # the providers are not known yet; they load it
                self._loading = False
                return
            monday = day - timedelta(days=day.weekday())
            fn = lambda: self._api.week(provider, monday)  # noqa: E731
        else:
            ids = (self._filter,) if self._filter else None
            fn = lambda: self._api.agenda(day, day + timedelta(days=6), ids)  # noqa: E731
        self._tasks.run(fn, lambda result: self._on_loaded(token, mode, result),
                        lambda exc: self._on_failed(token, exc), pool="read")

    def _on_loaded(self, token: int, mode: str, result: Any) -> None:
        if token != self._token:
            return  # the user has moved on; a newer request is on its way
        self._loading = False
        replace_moves, self._repaint = self._repaint, False
        if mode == "day":
            sheet: DaySheet = result
            key: tuple[object, ...] = ("day", sheet.day, self._filter, sheet.stamp)
            if not sheet.stamp or key != self._shown:
                # Counts only (no names): support and the two-desk e2e test read it.
                log.info("day sheet %s shows %d live appointments", sheet.day.isoformat(),
                         sum(a.status not in ("cancelled", "no_show")
                             for a in sheet.appointments))
                # Another workstation's change leaves a move in flight where the user put
                # it; the answer after the write (replace_moves) shows the record.
                self._view.show_day_sheet(sheet, keep_pending=not replace_moves)
            elif replace_moves:
                self._view.clear_pending()
        elif mode == "week":
            sheets: tuple[DaySheet, ...] = result
            key = ("week", self._week_provider, tuple(s.stamp for s in sheets))
            provider = next((p for p in (sheets[0].providers if sheets else ())
                             if p.id == self._week_provider), None)
            if provider is not None and (key != self._shown or not all(s.stamp for s in sheets)):
                self._view.show_week(sheets, provider, scroll=self._shown is None
                                     or self._shown[:2] != key[:2],
                                     keep_pending=not replace_moves)
            elif replace_moves:
                self._view.clear_pending()
        else:
            key = ("agenda", self._day, result)
            if key != self._shown:
                self._view.show_agenda(result)
        self._shown = key
        self._view.show_message("")
        self.shown.emit(mode)
        if self._again:
            self._load()

    def _on_failed(self, token: int, exc: BaseException) -> None:
        if token != self._token:
            return
        self._loading = False
        self._repaint = False
        self._shown = None
        self._view.clear_pending()
        self._view.show_message(failure_sentence(exc, CANNOT_SHOW), error=True)
        if self._again:
            self._load()
