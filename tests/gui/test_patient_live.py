"""Open views follow another workstation's save: the patient list, the header and an open
edit form, fed by the notification bridge (emitted here by hand, as the Redis subscriber
would), over the fake registry whose records "another workstation" changed.

Each view asks for the refetch in the same turn as the signal (InlineTaskRunner answers at
once), so the 1 s the issue allows is the bridge's latency, measured in benchmarks/.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from backend_client.dto import PatientRecord, SavedDraft
from backend_client.sync.events import ChangeEvent
from desktop.bootstrap import PatientPresenters, build_patient_presenters
from desktop.bridges.notifications import ChangeNotifications
from desktop.tasks import InlineTaskRunner, TaskRunner
from tests.gui.conftest import TODAY
from tests.gui.fake_patients import FakePatientsApi, draft, other_workstation
from ui.main_window import MainWindow
from ui.patients.conflict_dialog import ConflictDialog
from ui.patients.field_changes import THEIRS, YOURS
from ui.patients.patient_dialog import PatientDialog
from ui.patients.patient_table_model import NAME

SHOTS = Path("/tmp/shots-live")

Desk = tuple[MainWindow, PatientPresenters, FakePatientsApi, ChangeNotifications]


def open_desk(qtbot: QtBot, api: FakePatientsApi,
              tasks: TaskRunner | InlineTaskRunner | None = None) -> Desk:
    """Workstation B: the main window's patient views, following the bridge."""
    window = MainWindow()
    qtbot.addWidget(window)
    presenters = build_patient_presenters(window, api, tasks or InlineTaskRunner(),
                                          today=lambda: TODAY)
    bridge = ChangeNotifications()
    presenters.list.follow(bridge)
    presenters.chart.follow(bridge)
    presenters.editor.follow(bridge)
    window.set_signed_in("Rosa Reception (receptionist)")
    window.show_work()
    window.resize(1280, 800)
    window.show()
    qtbot.waitExposed(window)
    return window, presenters, api, bridge


def close_forms(presenters: PatientPresenters) -> None:
    editor = presenters.editor
    for dialog in (editor.conflict, editor.duplicates, editor.dialog):
        if dialog is not None:
            dialog.done(0)


@pytest.fixture
def desk(qtbot: QtBot, clinic: FakePatientsApi) -> Iterator[Desk]:
    made = open_desk(qtbot, clinic)
    yield made
    close_forms(made[1])


def _search(qtbot: QtBot, window: MainWindow, presenters: PatientPresenters,
            text: str) -> None:
    with qtbot.waitSignal(presenters.list.results_shown, timeout=2000):
        qtbot.keyClicks(window.patient_list.search_box, text)


def _names(window: MainWindow) -> list[str]:
    model = window.patient_list.model
    return [model.index(r, NAME).data() for r in range(model.rowCount())]


def _selected(window: MainWindow) -> int | None:
    return window.patient_list._selected_id()  # noqa: SLF001


def _hhmm(record: PatientRecord) -> str:
    return record.updated_at.astimezone().strftime("%H:%M")


def _edit(qtbot: QtBot, window: MainWindow, presenters: PatientPresenters,
          patient_id: int) -> PatientDialog:
    presenters.chart.open(patient_id)
    qtbot.mouseClick(window.patient_header.edit_button, Qt.MouseButton.LeftButton)
    dialog = presenters.editor.dialog
    assert dialog is not None and dialog.isVisible()
    return dialog


def _shot(widget: object, name: str) -> Path:
    from PySide6.QtWidgets import QWidget
    assert isinstance(widget, QWidget)
    QApplication.processEvents()  # test code only: let deferred layouts run first
    SHOTS.mkdir(exist_ok=True)
    path = SHOTS / name
    assert widget.grab().save(str(path))
    return path


# --------------------------------------------------------------------- the list

def test_the_list_shows_another_workstations_save_in_place(qtbot: QtBot, desk: Desk) -> None:
    window, presenters, api, bridge = desk
    _search(qtbot, window, presenters, "smi")
    assert window.patient_list.select_patient(2)
    searches = len(api.calls_to("search"))
    saved = api.change_behind_the_back(2, "Dr Amara Okafor", given_name="Jonathan")

    with qtbot.waitSignal(presenters.list.results_refreshed, timeout=1000):
        bridge.changed.emit((other_workstation(saved),))
    assert len(api.calls_to("search")) == searches + 1  # asked at once, no debounce
    assert "Smith, Jonathan" in _names(window) and "Smith, John" not in _names(window)
    assert _selected(window) == 2  # the selection stayed on the same patient
    assert window.patient_list.status.text() == "5 patients match “smi”."


def test_a_refresh_keeps_the_scroll_position_and_every_loaded_page(
        qtbot: QtBot, clinic: FakePatientsApi) -> None:
    for n in range(80):
        clinic.add(draft(f"Pat{n:02d}", "Tessler", date(1960, 1, 1) if n % 2 else
                         date(1970, 1, 1)))
    window, presenters, api, bridge = open_desk(qtbot, clinic)
    try:
        _search(qtbot, window, presenters, "tessler")
        table = window.patient_list.table
        table.scrollToBottom()  # the next page comes in (InlineTaskRunner: at once)
        assert window.patient_list.model.rowCount() == 80
        bar = table.verticalScrollBar()
        bar.setValue(bar.maximum() // 2)
        scrolled = bar.value()
        assert scrolled > 0
        top = table.rowAt(0)
        target = window.patient_list.model.patient_at(top + 3).id
        window.patient_list.select_patient(target)
        saved = api.change_behind_the_back(target, "Dr Amara Okafor", phone="555-0123")

        bridge.changed.emit((other_workstation(saved),))
        last = api.calls_to("search")[-1]
        assert last.kwargs == {"offset": 0, "limit": 80}  # every row shown, in one go
        assert bar.value() == scrolled
        assert table.rowAt(0) == top
        assert _selected(window) == target
        assert window.patient_list.model.rowCount() == 80
    finally:
        close_forms(presenters)


def test_own_saves_and_patients_not_shown_do_not_search_again(
        qtbot: QtBot, desk: Desk) -> None:
    window, presenters, api, bridge = desk
    _search(qtbot, window, presenters, "smithers")
    searches = len(api.calls_to("search"))
    john = api.records[2]
    bridge.changed.emit((ChangeEvent(kind="patient", id=3, version=2),))  # this process
    bridge.changed.emit((other_workstation(john),))  # not in the list
    bridge.changed.emit((replace(other_workstation(john), kind="appointment", id=3),))
    assert len(api.calls_to("search")) == searches
    # A new patient may match what is typed; a reconnect may have missed anything.
    bridge.changed.emit((other_workstation(john, action="created"),))
    bridge.resynced.emit()
    assert len(api.calls_to("search")) == searches + 2


def test_the_newest_request_wins_over_a_slow_refresh(
        qtbot: QtBot, clinic: FakePatientsApi, runner: TaskRunner) -> None:
    window, presenters, api, bridge = open_desk(qtbot, clinic, runner)
    try:
        _search(qtbot, window, presenters, "smi")
        api.search_delays["smi"] = 0.4
        saved = api.change_behind_the_back(2, "Dr Amara Okafor", given_name="Jonathan")
        bridge.changed.emit((other_workstation(saved),))  # a slow refresh of "smi" starts
        with qtbot.waitSignal(presenters.list.results_shown, timeout=3000):
            qtbot.keyClicks(window.patient_list.search_box, "the")  # now "smithe"
        assert _names(window) == ["Smithers, Ella"]
        qtbot.waitUntil(lambda: all(c.finished for c in api.calls_to("search")), timeout=3000)
        qtbot.wait(50)  # the slow answer's callback, had it not been dropped
        assert _names(window) == ["Smithers, Ella"]
    finally:
        close_forms(presenters)


# --------------------------------------------------------------------- the header

def test_the_header_follows_without_a_second_audited_open(qtbot: QtBot, desk: Desk) -> None:
    window, presenters, api, bridge = desk
    presenters.chart.open(2)
    header = window.patient_header
    assert header.name.text() == "Smith, John"
    saved = api.change_behind_the_back(2, "Dr Amara Okafor", given_name="Jonathan")

    bridge.changed.emit((other_workstation(saved),))
    assert header.name.text() == "Smith, Jonathan"
    assert len(api.calls_to("get")) == 1  # the open; the refresh is not another one
    assert len(api.calls_to("refetch")) == 1
    bridge.changed.emit((other_workstation(saved),))  # a version already shown
    assert len(api.calls_to("refetch")) == 1
    bridge.resynced.emit()
    assert len(api.calls_to("refetch")) == 2


def test_a_chart_restricted_elsewhere_leaves_the_screen(qtbot: QtBot, desk: Desk) -> None:
    window, presenters, api, bridge = desk
    presenters.chart.open(2)
    api.records[2] = replace(api.records[2], restricted=True, version=2)
    bridge.changed.emit((other_workstation(api.records[2]),))
    assert presenters.chart.current is None
    assert not window.patient_header.details.isVisible()
    assert "restricted by someone else" in window.patient_header.message.text()


# --------------------------------------------------------------------- the edit form

def test_edit_opens_over_what_is_saved_now(qtbot: QtBot, desk: Desk) -> None:
    window, presenters, api, _ = desk
    presenters.chart.open(2)  # the header shows version 1
    api.change_behind_the_back(2, "Dr Amara Okafor", given_name="Jonathan")  # nobody heard
    qtbot.mouseClick(window.patient_header.edit_button, Qt.MouseButton.LeftButton)
    dialog = presenters.editor.dialog
    assert dialog is not None and dialog.given_name.text() == "Jonathan"
    assert len(api.calls_to("get")) == 1


def test_an_open_form_says_who_changed_what_and_takes_their_values(
        qtbot: QtBot, desk: Desk) -> None:
    window, presenters, api, bridge = desk
    dialog = _edit(qtbot, window, presenters, 1)  # Margaret Smith
    dialog.phone.setText("+44 20 7946 0999")  # the user is typing
    saved = api.change_behind_the_back(1, "Dr Amara Okafor", given_name="Maggie",
                                       email="maggie@example.org")
    bridge.changed.emit((other_workstation(saved),))

    bar = dialog.changed_bar
    assert bar.isVisible()
    assert bar.text.text().startswith(
        f"⚠ Changed by Dr Amara Okafor at {_hhmm(saved)} (given name and email).")
    assert dialog.given_name.text() == "Margaret"  # nothing changes under the user's hands
    _shot(dialog, "edit-form-changed-by-1280.png")
    dialog.resize(700, 720)
    _shot(dialog, "edit-form-changed-by-700.png")

    qtbot.mouseClick(bar.take_button, Qt.MouseButton.LeftButton)
    assert not bar.isVisible()
    assert (dialog.given_name.text(), dialog.email.text(), dialog.phone.text()) == (
        "Maggie", "maggie@example.org", "+44 20 7946 0999")
    assert "Their changes are in the form (given name and email)" in dialog.notice.text()
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert [c.args[1] for c in api.calls_to("update")] == [2]  # against their version
    assert not dialog.isVisible()
    assert api.records[1].draft.phone == "+44 20 7946 0999"


def test_an_untouched_form_takes_their_version_as_it_is(qtbot: QtBot, desk: Desk) -> None:
    window, presenters, api, bridge = desk
    dialog = _edit(qtbot, window, presenters, 2)
    saved = api.change_behind_the_back(2, "Dr Amara Okafor", city="Leeds")
    bridge.changed.emit((other_workstation(saved),))
    qtbot.mouseClick(dialog.changed_bar.take_button, Qt.MouseButton.LeftButton)
    assert dialog.city.text() == "Leeds" and not dialog.is_dirty()


def test_a_change_outside_the_form_needs_nothing_from_the_user(
        qtbot: QtBot, desk: Desk) -> None:
    window, presenters, api, bridge = desk
    dialog = _edit(qtbot, window, presenters, 2)
    api.records[2] = replace(api.records[2], version=2, deceased_at=date(2026, 11, 1))
    bridge.changed.emit((other_workstation(api.records[2]),))
    assert not dialog.changed_bar.isVisible()
    dialog.phone.setText("555-0199")
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert [c.args[1] for c in api.calls_to("update")] == [2]  # no needless conflict
    assert not dialog.isVisible()


def test_showing_their_changes_lets_the_user_choose_before_saving(
        qtbot: QtBot, desk: Desk) -> None:
    window, presenters, api, bridge = desk
    dialog = _edit(qtbot, window, presenters, 2)
    dialog.phone.setText("07700 900456")
    saved = api.change_behind_the_back(2, "Dr Amara Okafor", phone="555-0199",
                                       email="john@example.org")
    bridge.changed.emit((other_workstation(saved),))
    qtbot.mouseClick(dialog.changed_bar.show_button, Qt.MouseButton.LeftButton)
    conflict = presenters.editor.conflict
    assert isinstance(conflict, ConflictDialog) and conflict.isVisible()
    assert conflict.apply_button.text() == "&Put these values in the form"
    assert [c.key for c in conflict.missing()] == ["phone"]
    conflict.choose("phone", YOURS)
    qtbot.mouseClick(conflict.apply_button, Qt.MouseButton.LeftButton)
    assert (dialog.phone.text(), dialog.email.text()) == ("07700 900456", "john@example.org")
    assert api.calls_to("update") == []  # nothing saved until the form is
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert [c.args[1] for c in api.calls_to("update")] == [2]


# --------------------------------------------------------------------- the newcomer

def test_the_newcomers_two_workstations(qtbot: QtBot, clinic: FakePatientsApi) -> None:
    """A saves "Tessie" while B shows the old "Tess" list and has Tess's form open; B
    follows; B's stale form meets A's save field by field, and nothing of A's is undone
    unless B chooses so."""
    tess = clinic.add(draft("Tess", "Tessler", date(1990, 2, 2), phone="555-0100"))
    window, presenters, api, bridge = open_desk(qtbot, clinic)
    try:
        _search(qtbot, window, presenters, "tess")
        assert _names(window) == ["Tessler, Tess"]
        form = _edit(qtbot, window, presenters, tess.id)  # B starts editing Tess
        form.phone.setText("555-0222")

        # Workstation A saves "Tessie"; B's bridge hears it.
        saved = api.change_behind_the_back(tess.id, "Dr Amara Okafor", given_name="Tessie")
        bridge.changed.emit((other_workstation(saved),))
        assert _names(window) == ["Tessler, Tessie"]
        assert window.patient_header.name.text() == "Tessler, Tessie"
        assert form.changed_bar.text.text().startswith(
            f"⚠ Changed by Dr Amara Okafor at {_hhmm(saved)} (given name).")
        assert form.given_name.text() == "Tess" and form.phone.text() == "555-0222"

        # B keeps editing and saves the stale form: their name and B's phone side by side.
        qtbot.mouseClick(form.changed_bar.keep_button, Qt.MouseButton.LeftButton)
        qtbot.mouseClick(form.save_button, Qt.MouseButton.LeftButton)
        conflict = presenters.editor.conflict
        assert isinstance(conflict, ConflictDialog) and conflict.isVisible()
        given = next(c for c in conflict.changes if c.key == "given_name")
        assert (given.base, given.theirs, given.yours) == ("Tess", "Tessie", "Tess")
        assert conflict.choice_for("given_name") == THEIRS  # their change stays...
        assert conflict.choice_for("phone") == YOURS        # ...and B's is kept
        assert api.records[tess.id].draft.given_name == "Tessie"  # nothing saved yet
        qtbot.mouseClick(conflict.apply_button, Qt.MouseButton.LeftButton)
        final = api.records[tess.id].draft
        assert (final.given_name, final.phone) == ("Tessie", "555-0222")
        assert [c.args[1] for c in api.calls_to("update")] == [1, 2]

        # B opens Edit again: the form starts from what is saved, Tessie.
        assert presenters.editor.dialog is None
        qtbot.mouseClick(window.patient_header.edit_button, Qt.MouseButton.LeftButton)
        again = presenters.editor.dialog
        assert again is not None and again.given_name.text() == "Tessie"
    finally:
        close_forms(presenters)


class HeldTaskRunner:
    """Holds every task until the test lets it run: answers that arrive late."""

    def __init__(self) -> None:
        self.held: list[tuple[Callable[[], Any], Any, Any]] = []

    def run(self, fn: Callable[[], Any], on_success: Any = None, on_failure: Any = None, *,
            pool: str = "read") -> None:
        self.held.append((fn, on_success, on_failure))

    def release(self) -> None:
        held, self.held = self.held, []
        for fn, ok, failed in held:
            InlineTaskRunner().run(fn, ok, failed)


def test_a_change_to_the_shown_patient_never_replaces_the_one_being_opened(
        qtbot: QtBot, clinic: FakePatientsApi) -> None:
    tasks = HeldTaskRunner()
    window, presenters, api, bridge = open_desk(qtbot, clinic, tasks)  # type: ignore[arg-type]
    try:
        presenters.chart.open(2)
        tasks.release()
        assert window.patient_header.name.text() == "Smith, John"
        presenters.chart.open(3)  # Ella Smithers, on her way
        saved = api.change_behind_the_back(2, "Dr Amara Okafor", given_name="Jonathan")
        bridge.changed.emit((other_workstation(saved),))
        tasks.release()
        assert window.patient_header.name.text() == "Smithers, Ella"
        assert api.calls_to("refetch") == []
    finally:
        close_forms(presenters)


def test_edit_of_a_record_gone_meanwhile_says_so(qtbot: QtBot, desk: Desk) -> None:
    window, presenters, api, _ = desk
    presenters.chart.open(2)
    del api.records[2]  # merged away at another desk
    with qtbot.waitSignal(presenters.editor.edit_failed, timeout=1000) as said:
        qtbot.mouseClick(window.patient_header.edit_button, Qt.MouseButton.LeftButton)
    assert said.args == ["This patient's record no longer exists (it may have been merged "
                         "with another). Search again."]
    assert presenters.editor.dialog is None


def test_a_kept_form_reopened_later_still_tells_their_changes_from_yours(
        qtbot: QtBot, desk: Desk) -> None:
    window, presenters, api, _ = desk
    dialog = _edit(qtbot, window, presenters, 2)
    dialog.phone.setText("07700 900456")
    [kept] = presenters.editor.unsaved_forms()  # the workstation changes hands
    presenters.editor.close_all()
    api.change_behind_the_back(2, "Dr Amara Okafor", email="john@example.org")

    presenters.editor.restore(SavedDraft("d1", kept.kind, kept.title,
                                         datetime(2026, 11, 27, 11, 0, tzinfo=UTC),
                                         "kept", kept.payload, kept.key))
    reopened = presenters.editor.dialog
    assert reopened is not None and reopened.phone.text() == "07700 900456"
    qtbot.mouseClick(reopened.save_button, Qt.MouseButton.LeftButton)
    conflict = presenters.editor.conflict
    assert isinstance(conflict, ConflictDialog)
    assert {c.key: c.kind for c in conflict.changes} == {"email": THEIRS, "phone": YOURS}
    qtbot.mouseClick(conflict.apply_button, Qt.MouseButton.LeftButton)
    final = api.records[2].draft
    assert (final.email, final.phone) == ("john@example.org", "07700 900456")
