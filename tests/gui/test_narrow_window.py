"""The main window at 700 px wide, as the newcomer saw it (issue 13): every status-bar
indicator at once, and the patient list beside the open patient."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractButton, QLabel, QWidget
from pytestqt.qtbot import QtBot

from backend_client.dto import ClockReading, PatientSummary, StoreHealth
from tests.gui.conftest import save_screenshot
from ui.dictation.queue_badge import UploadBadge
from ui.main_window import MainWindow
from ui.patients.patient_table_model import BIRTH_DATE, MRN, NAME
from ui.tasks.inbox_badge import InboxBadge

WHO = "Dr Amara Okafor-Whitfield (doctor)"


def _crowded_window(qtbot: QtBot, width: int) -> MainWindow:
    """Signed in, Redis down (so live updates are paused), the clock two days off, open
    tasks and recordings waiting: every indicator the status bar has, at once."""
    window = MainWindow()
    qtbot.addWidget(window)
    for store in ("postgres", "mongo", "objects"):
        window.show_health(StoreHealth(store, True, "1", 2.0, "localhost"))
    window.show_health(StoreHealth("redis", False, "", None, "localhost",
                                   error="connection refused"))
    now = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
    window.clock_warning.show_clock(ClockReading("postgres", now - timedelta(days=2), now,
                                                 0.01))
    window.sync_status.show_live(False)
    inbox, uploads = InboxBadge(window), UploadBadge(window)
    for badge, count in ((inbox, 12), (uploads, 3)):
        window.statusBar().addPermanentWidget(badge)
        badge.follow_width_of(window)
        window.track_status_indicator(badge)
        badge.set_count(count)
    window.set_signed_in(WHO)
    window.show_work()
    window.resize(width, 800)
    window.show()
    qtbot.waitExposed(window)
    return window


def _status_widgets(window: MainWindow) -> list[QWidget]:
    bar = window.statusBar()
    return [w for w in bar.findChildren(QWidget)
            if w.parentWidget() is bar and w.isVisibleTo(window)
            and isinstance(w, QLabel | QAbstractButton | QWidget)
            and w.metaObject().className() not in ("QSizeGrip",)]


def _problems(window: MainWindow) -> list[str]:
    """Overlapping, clipped or cut-off status-bar indicators, in words."""
    bar = window.statusBar()
    shown = [w for w in _status_widgets(window) if w.width() > 0]
    found = []
    for i, a in enumerate(shown):
        name = a.objectName() or type(a).__name__
        if not bar.rect().contains(a.geometry()):
            found.append(f"{name} sticks out of the status bar: {a.geometry()}")
        for b in shown[i + 1:]:
            if a.geometry().intersects(b.geometry()):
                found.append(f"{name} overlaps {b.objectName() or type(b).__name__}")
        texts = [a, *a.findChildren(QLabel)] if not isinstance(a, QAbstractButton) else [a]
        for w in texts:
            text = w.text() if isinstance(w, QLabel | QAbstractButton) else ""
            if text and w.isVisibleTo(window) and w.width() < w.sizeHint().width():
                found.append(f"{w.objectName() or text!r} clipped: {w.width()} < "
                             f"{w.sizeHint().width()}")
    message = bar.currentMessage()
    left = min((w.x() for w in shown), default=bar.width())
    if message and bar.fontMetrics().horizontalAdvance(message) + 8 > left:
        found.append(f"the message {message!r} is cut by the indicators")
    return found


def test_every_status_indicator_fits_at_700_px_without_overlap_or_clipping(
        qtbot: QtBot) -> None:
    window = _crowded_window(qtbot, 1280)
    qtbot.waitUntil(lambda: _problems(window) == [], timeout=2000)
    save_screenshot(window, "status-bar-crowded-1280.png")

    window.resize(700, 800)
    save_screenshot(window, "status-bar-crowded-700.png")
    assert _problems(window) == []
    # Nothing is lost: what a shortened indicator no longer says is in its tooltip.
    assert "Redis" in window.store_status.summary.toolTip()
    assert window.sync_status.toolTip()
    assert window.clock_warning.toolTip()
    assert WHO in window.user_label.accessibleName()

    # A very long name is cut short rather than pushing anything out; whole in its tooltip.
    long_name = "Dr Maximiliane Oberhauser-Vandenberghe y Whitfield (doctor)"
    window.set_signed_in(long_name)
    qtbot.waitUntil(lambda: _problems(window) == [], timeout=2000)  # once laid out again
    assert window.user_label.text().endswith("…")
    assert window.user_label.toolTip() == f"Signed in as {long_name}"
    save_screenshot(window, "status-bar-crowded-700-long-name.png")


def _patient(i: int) -> PatientSummary:
    return PatientSummary(id=i, given_name="Maximiliane", family_name=f"Oberhauser{i}",
                          middle_name="", birth_date=date(1984, 3, 12), sex="female",
                          mrn=f"M10000{i:02d}", phone="+44 20 7946 0958", deceased=False)


def test_the_patient_list_shows_name_birth_date_and_mrn_whole_at_700_px(
        qtbot: QtBot) -> None:
    window = _crowded_window(qtbot, 700)
    window.show_patients()
    view = window.patient_list
    view.show_page("ober", [_patient(i) for i in range(1, 6)], False)
    save_screenshot(window, "patient-list-window-700.png")
    table = view.table
    header = table.horizontalHeader()
    viewport = table.viewport().width()
    for column in (NAME, BIRTH_DATE, MRN):
        assert not table.isColumnHidden(column)
        left = header.sectionViewportPosition(column)
        assert left >= 0 and left + header.sectionSize(column) <= viewport, column
    fm = table.fontMetrics()
    for column in (BIRTH_DATE, MRN):
        text = str(view.model.index(0, column).data())
        assert header.sectionSize(column) >= fm.horizontalAdvance(text) + 8, (column, text)
    assert header.sectionSize(NAME) >= fm.horizontalAdvance("Oberhauser1, Maximiliane")
    assert not table.horizontalScrollBar().isVisible()


def test_a_narrow_list_gives_up_phone_then_sex_and_gets_them_back(qtbot: QtBot) -> None:
    from ui.patients.patient_list_view import PatientListView
    from ui.patients.patient_table_model import PHONE, SEX

    view = PatientListView()
    qtbot.addWidget(view)
    view.show_page("ober", [_patient(i) for i in range(1, 4)], False)
    view.resize(900, 400)
    view.show()
    qtbot.waitExposed(view)

    def hidden() -> tuple[bool, bool]:
        return view.table.isColumnHidden(PHONE), view.table.isColumnHidden(SEX)

    assert hidden() == (False, False)
    view.resize(480, 400)
    qtbot.waitUntil(lambda: hidden() == (True, False), timeout=1000)
    view.resize(340, 400)
    qtbot.waitUntil(lambda: hidden() == (True, True), timeout=1000)
    save_screenshot(view, "patient-list-340.png")
    assert "Female" in view.model.index(0, NAME).data(Qt.ItemDataRole.ToolTipRole)
    assert "+44 20 7946 0958" in view.model.index(0, NAME).data(Qt.ItemDataRole.ToolTipRole)
    view.resize(500, 400)  # wider, not yet enough for the phone: it stays hidden
    qtbot.waitUntil(lambda: hidden() == (True, False), timeout=1000)
    view.resize(900, 400)
    qtbot.waitUntil(lambda: hidden() == (False, False), timeout=1000)
