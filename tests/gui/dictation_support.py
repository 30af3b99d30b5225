"""Shared pieces for the dictation GUI tests: who is signed in, a session that says so,
and the main window with a chart and dictation wired as desktop/bootstrap.py wires them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot

from backend_client.dto import Actor
from desktop.presenters.chart import ChartPresenter
from desktop.presenters.dictation import build_dictation
from desktop.presenters.dictation_app import DictationScreens
from tests.gui.chart_support import Desk, desk, search
from tests.gui.fake_dictation import (
    FakeLocalDictations,
    FakeRecorder,
    FakeRecordingsApi,
    FakeUploadQueue,
)

DOCTOR = frozenset({"recording.create", "recording.read", "chart.open"})
NURSE = frozenset({"recording.read", "chart.open"})
RECEPTION = frozenset({"chart.open", "appointment.manage"})
AT = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)


def actor(permissions: frozenset[str] = DOCTOR, user_id: int = 11,
          name: str = "Dr Anna Demo") -> Actor:
    return Actor(user_id, "anna", name, ("doctor",), permissions, "s1", "ws1", AT, AT)


class FakeSession(QObject):
    signed_in = Signal(object)
    user_changed = Signal(object)
    locked = Signal()
    unlocked = Signal()

    def __init__(self, who: Actor | None) -> None:
        super().__init__()
        self.actor = who


@dataclass
class DictationDesk:
    desk: Desk
    screens: DictationScreens
    recorder: FakeRecorder
    local: FakeLocalDictations
    queue: FakeUploadQueue
    recordings: FakeRecordingsApi
    session: FakeSession


def dictation_desk(qtbot: QtBot, *, size: tuple[int, int] = (1280, 800),
                   permissions: frozenset[str] = DOCTOR, no_microphone: bool = False,
                   confirm: bool = True) -> DictationDesk:
    d = desk(qtbot, size=size)
    local = FakeLocalDictations()
    recorder = FakeRecorder(local, no_microphone=no_microphone)
    recordings = FakeRecordingsApi(can_read="recording.read" in permissions,
                                   can_create="recording.create" in permissions)
    queue = FakeUploadQueue(local, recordings)
    session = FakeSession(actor(permissions))
    from desktop.tasks import InlineTaskRunner

    screens = build_dictation(d.window, d.presenters.charts, recorder, local, queue,
                              recordings, InlineTaskRunner(), session)
    screens.hub.confirm = lambda _w, _t, _q: confirm
    session.signed_in.emit(session.actor)
    return DictationDesk(d, screens, recorder, local, queue, recordings, session)


def open_recordings(qtbot: QtBot, dd: DictationDesk) -> ChartPresenter:
    """Müller's chart, by keyboard, and its Recordings section by its Alt+digit."""
    d = dd.desk
    search(qtbot, d, "müller")
    qtbot.keyClick(d.window.patient_list.search_box, Qt.Key.Key_Return)
    qtbot.keyClick(d.window.patient_list.table, Qt.Key.Key_Return)
    assert d.presenters.charts is not None
    chart = d.presenters.charts.current()
    assert chart is not None
    place = chart.view.section_keys().index("recordings") + 1
    qtbot.keyClick(focus(d.window), Qt.Key(Qt.Key.Key_0 + place % 10),
                   Qt.KeyboardModifier.AltModifier)
    assert chart.view.current_key() == "recordings"
    return chart


def focus(window: QWidget) -> QWidget:
    return QApplication.focusWidget() or window
