"""The schedule presenter: loads off the GUI thread, newest wins, follows change events
and resyncs, repaints only when the sheet changed, shows presence, week and agenda."""

from __future__ import annotations

from datetime import timedelta

from PySide6.QtCore import Qt
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot

from backend_client.dto import PresenceInfo
from backend_client.errors import Unavailable
from backend_client.sync.events import ChangeEvent
from tests.gui.schedule_support import DAY, ZONE, ManualTaskRunner, local, make_sheet
from ui.scheduling.agenda_model import PATIENT, PROVIDER, STATUS, TIME, AgendaModel

DB_DOWN = "The clinic database cannot be reached right now; try again in a moment."


def _count_paints(view: object) -> list[int]:
    painted: list[int] = []
    original = view.show_day_sheet  # type: ignore[attr-defined]

    def counting(sheet: object, **kw: object) -> None:
        painted.append(1)
        original(sheet, **kw)

    view.show_day_sheet = counting  # type: ignore[attr-defined]
    return painted


def test_another_workstations_change_is_shown_after_its_event(qtbot: QtBot) -> None:
    s = make_sheet(qtbot)
    tanaka = s.appt("Tanaka, Hiroshi", 2)
    s.api.move(tanaka.id, tanaka.version, provider_id=3, starts_at=local(s.api, "11:00"),
               ends_at=local(s.api, "11:15"))
    s.api.calls.clear()
    block = s.view.day_grid.data.block_of(tanaka.id)
    assert block is not None and block.column == 1            # not yet heard of
    # A patient's change is not the schedule's business: no reload.
    s.notifications.changed.emit((ChangeEvent("patient", 5),))
    assert s.api.calls == []
    s.notifications.changed.emit((ChangeEvent("appointment", tanaka.id, 2),))
    assert [c[0] for c in s.api.calls] == ["day_sheet"]
    block = s.view.day_grid.data.block_of(tanaka.id)
    assert block is not None and (block.column, block.start) == (2, 11 * 60)


def test_a_resync_refetches_everything(qtbot: QtBot) -> None:
    s = make_sheet(qtbot)
    obrien = s.appt("O'Brien, Siobhan", 1)
    s.api.set_status(obrien.id, obrien.version, "checked_in")
    s.api.calls.clear()
    s.notifications.resynced.emit()
    assert sorted(c[0] for c in s.api.calls) == ["day_sheet", "providers"]
    block = s.view.day_grid.data.block_of(obrien.id)
    assert block is not None and block.appointment.status_label == "Arrived"


def test_an_unchanged_sheet_is_not_repainted(qtbot: QtBot) -> None:
    s = make_sheet(qtbot)
    painted = _count_paints(s.view)
    s.notifications.changed.emit((ChangeEvent("waitlist", 3),))
    s.notifications.changed.emit((ChangeEvent("appointment", 999),))
    assert [c[0] for c in s.api.calls] == ["day_sheet", "day_sheet"]
    assert painted == []                        # same stamp: same sheet
    s.api.add(5, DAY, "12:00", 15, "Haddad, Yusuf")
    s.notifications.changed.emit((ChangeEvent("appointment", 1000),))
    assert painted == [1]


def test_stale_answers_are_dropped_and_a_burst_of_events_costs_one_load(
        qtbot: QtBot) -> None:
    runner = ManualTaskRunner()
    s = make_sheet(qtbot, tasks=runner)
    runner.finish_all()                           # the first day and the providers
    s.view.day_requested.emit(DAY + timedelta(days=1))
    s.view.day_requested.emit(DAY + timedelta(days=2))
    runner.finish(1)                              # the newer day answers first
    runner.finish(0)                              # then the older, stale one
    assert s.view.day_grid.data.columns[0].day == DAY + timedelta(days=2)
    assert s.view.date_label.full_text() == "Friday 4 December 2026"
    # Three batches of events while a load is out: one more load afterwards, not three.
    s.notifications.changed.emit((ChangeEvent("appointment", 1),))
    for _ in range(3):
        s.notifications.changed.emit((ChangeEvent("appointment", 2),))
    assert len(runner.jobs) == 1
    runner.finish(0)
    assert len(runner.jobs) == 1
    runner.finish(0)
    assert runner.jobs == []


def test_a_failed_load_says_why_and_the_next_one_clears_it(qtbot: QtBot) -> None:
    s = make_sheet(qtbot)
    s.api.fail_next = Unavailable("postgres", DB_DOWN)
    s.view.day_requested.emit(DAY + timedelta(days=1))
    assert s.view.message.isVisible()
    assert s.view.message.text() == ("The schedule cannot be shown right now: the clinic "
                                     "database cannot be reached right now; try again in a "
                                     "moment.")
    s.notifications.resynced.emit()
    assert not s.view.message.isVisible()
    assert s.view.day_grid.data.columns[0].day == DAY + timedelta(days=1)


def test_presence_badges_show_the_most_present_state(qtbot: QtBot) -> None:
    s = make_sheet(qtbot)
    grid = s.view.day_grid
    assert all(c.badge == "" for c in grid.data.columns)     # nothing known yet: no badge
    s.presenter.presence_changed((
        PresenceInfo(11, "Dr Anna Demo", "desk-1", "away"),
        PresenceInfo(11, "Dr Anna Demo", "room-3", "with_patient"),
        PresenceInfo(12, "Dr Amara Okafor", "room-1", "available"),
        PresenceInfo(99, "Someone else", "desk-2", "available"),
    ))
    badges = {c.title: c.badge for c in grid.data.columns}
    assert badges["Dr Anna Demo"] == "with_patient"
    assert badges["Dr Amara Okafor"] == "available"
    assert badges["Nurse Li Wei"] == "signed_out"
    assert badges["Dr Sofia Rossi"] == ""          # no account of her own: no badge
    assert [line[1] for line in grid.header_lines(0)] == ["Dr Anna Demo", "General practice",
                                                           "With a patient"]
    assert grid.header_lines(3)[2][1] == "Not signed in"


def test_the_week_view_shows_one_providers_seven_days(qtbot: QtBot) -> None:
    s = make_sheet(qtbot, apply=True)
    s.booking.auto_finish = True
    rossi = s.appt("Rossi, Giulia", 2)
    s.view.day_grid.select_appointment(rossi.id)         # Dr Okafor's
    s.view.mode_buttons["week"].click()
    grid = s.view.week_grid
    assert s.view.stack.currentWidget() is grid
    assert [c.day.isoformat() for c in grid.data.columns] == [
        f"2026-{m:02d}-{d:02d}" for m, d in ((11, 30), (12, 1), (12, 2), (12, 3), (12, 4),
                                             (12, 5), (12, 6))]
    assert {c.provider_id for c in grid.data.columns} == {2}
    assert s.view.provider_filter() == 2
    assert s.view.date_label.full_text() == "Week of Mon 30 Nov 2026 · today · Dr Amara Okafor"
    assert (grid.data.columns[2].title, grid.data.columns[2].subtitle) == (
        "Wed 2 Dec", "Today · 3 booked")
    assert grid.data.columns[5].subtitle == "Not working"
    # The weekly series is there on Tuesday.
    tuesday = [b.appointment for b in grid.data.blocks[1]]
    assert any(a.series_id == 7 and a.patient_name == "O'Brien, Siobhan" for a in tuesday)
    # Moving to the next day by keyboard is a move to that date.
    grid.setFocus()
    grid.select_appointment(rossi.id)
    qtbot.keyClick(grid, Qt.Key.Key_Right, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(grid, Qt.Key.Key_Return)
    assert s.booking.calls[-1] == ("move", (rossi.id, 2,
                                            local(s.api, "09:30", DAY + timedelta(days=1)),
                                            local(s.api, "10:00", DAY + timedelta(days=1))))
    assert s.api.get(rossi.id).starts_at == local(s.api, "09:30", DAY + timedelta(days=1))
    block = grid.data.block_of(rossi.id)
    assert block is not None and block.column == 3 and not block.pending
    # Next goes a week on; Day goes back to all providers.
    s.view.next_button.click()
    assert grid.data.columns[0].day.isoformat() == "2026-12-07"
    s.view.mode_buttons["day"].click()
    assert s.view.provider_filter() == 0
    assert len(s.view.day_grid.data.columns) == 6


def test_the_agenda_lists_the_week_ahead_and_opens_a_row(qtbot: QtBot) -> None:
    s = make_sheet(qtbot)
    s.view.mode_buttons["agenda"].click()
    model = s.view.agenda_model
    assert s.api.calls[-1] == ("agenda", (DAY, DAY + timedelta(days=6), None))
    rows = [model.appointment_at(r) for r in range(model.rowCount())]
    assert rows and all(a.status != "cancelled" for a in rows)
    assert [a.starts_at for a in rows] == sorted(a.starts_at for a in rows)
    first = model.index(0, TIME).data()
    assert first == "Wed 2 Dec 07:30–08:00"
    assert model.index(0, PATIENT).data() == "Papadopoulos, Eleni"
    assert model.index(0, PROVIDER).data() == "Dr Jonathan Fitzgerald-Hawthorne"
    assert model.index(0, STATUS).data() == "Completed"
    before = model.rowCount()
    s.view.cancelled_check.setChecked(True)
    assert model.rowCount() == before + 2
    s.view.provider_combo.setCurrentIndex(s.view.provider_combo.findData(4))
    s.view.provider_combo.activated.emit(s.view.provider_combo.currentIndex())
    assert {model.appointment_at(r).provider_id for r in range(model.rowCount())} == {4}
    table = s.view.agenda
    table.setFocus()
    table.setCurrentIndex(model.index(1, 0))
    qtbot.keyClick(table, Qt.Key.Key_Return)
    assert s.booking.calls == [("edit", (model.appointment_at(1).id,))]


def test_agenda_model_passes_the_model_tester(qtmodeltester: ModelTester) -> None:
    from tests.gui.fake_scheduling import demo_clinic

    api = demo_clinic(DAY, zone=ZONE)
    model = AgendaModel(zone=ZONE)
    qtmodeltester.check(model)
    model.set_rows(api.agenda(DAY, DAY + timedelta(days=6)), {1: "Dr Anna Demo"})
    qtmodeltester.check(model)
    assert model.index(0, PROVIDER).data() == "Provider 3"   # a name not given: its id


def test_the_agenda_has_the_day_sheets_keys_for_status_and_cancel(qtbot: QtBot) -> None:
    s = make_sheet(qtbot, apply=True)
    s.view.mode_buttons["agenda"].click()
    model, table = s.view.agenda_model, s.view.agenda
    rows = [model.appointment_at(r) for r in range(model.rowCount())]
    booked = next(r for r, a in enumerate(rows) if a.status == "booked")
    done = next(r for r, a in enumerate(rows) if a.status == "completed")
    table.setFocus()
    table.setCurrentIndex(model.index(booked, 1))
    appt = model.appointment_at(booked)
    cs = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
    qtbot.keyClick(table, Qt.Key.Key_A, cs)
    assert s.booking.calls == [("set_status", (appt.id, "checked_in"))]
    assert s.api.get(appt.id).status == "checked_in"
    table.setCurrentIndex(model.index(done, 1))
    qtbot.keyClick(table, Qt.Key.Key_Delete)
    assert len(s.booking.calls) == 1
    assert s.view.message.text() == "An appointment that is Completed cannot be cancelled."
    row = next(r for r in range(model.rowCount())
               if model.appointment_at(r).status == "booked")
    table.setCurrentIndex(model.index(row, 1))
    qtbot.keyClick(table, Qt.Key.Key_Delete)
    assert s.booking.calls[-1] == ("cancel", (model.appointment_at(row).id,))
