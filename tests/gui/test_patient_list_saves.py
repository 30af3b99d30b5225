"""This workstation's own saves (issue 13): once the form has saved, the list shows what
was saved, in place — every loaded row, the scroll position and the selection kept, and
the saved patient selected where they are among the rows."""

from __future__ import annotations

from datetime import date

from pytestqt.qtbot import QtBot

from tests.gui.conftest import save_screenshot
from tests.gui.fake_patients import FakePatientsApi, draft
from tests.gui.test_patient_live import _search, _selected, close_forms, open_desk
from ui.patients.patient_table_model import NAME, PHONE


def _tesslers(clinic: FakePatientsApi) -> None:
    for n in range(80):
        clinic.add(draft(f"Pat{n:02d}", "Tessler", date(1960, 1, 1) if n % 2 else
                         date(1970, 1, 1)))


def test_an_edit_saved_here_shows_in_the_list_in_place(
        qtbot: QtBot, clinic: FakePatientsApi) -> None:
    _tesslers(clinic)
    window, presenters, api, _bridge = open_desk(qtbot, clinic)
    try:
        _search(qtbot, window, presenters, "tessler")
        view = window.patient_list
        table = view.table
        table.scrollToBottom()  # the second page comes in
        assert view.model.rowCount() == 80
        bar = table.verticalScrollBar()
        bar.setValue(bar.maximum() // 2)
        scrolled, top = bar.value(), table.rowAt(0)
        target = view.model.patient_at(top + 3).id
        view.select_patient(target)
        saved = api.change_behind_the_back(target, "Rosa Reception", phone="555-0123")

        # What the edit form's save announces once it landed (InlineTaskRunner: the
        # search runs again at once).
        presenters.editor.patient_saved.emit(saved)
        row = view.model.row_of(target)
        assert view.model.index(row, PHONE).data() == "555-0123"
        assert view.model.rowCount() == 80  # the pages already loaded stay loaded
        assert bar.value() == scrolled and table.rowAt(0) == top  # nothing jumped
        assert _selected(window) == target
        assert not view.status.text().startswith("Searching")
        save_screenshot(window, "list-after-own-save.png")
    finally:
        close_forms(presenters)


def test_a_patient_registered_here_who_matches_appears_selected(
        qtbot: QtBot, clinic: FakePatientsApi) -> None:
    window, presenters, api, _bridge = open_desk(qtbot, clinic)
    try:
        _search(qtbot, window, presenters, "smith")
        view = window.patient_list
        before = view.model.rowCount()
        new = api.register(draft("Zoe", "Smithfield", date(2001, 4, 5)))
        presenters.editor.patient_saved.emit(new)
        assert view.model.rowCount() == before + 1
        assert _selected(window) == new.id
        assert view.model.index(view.model.row_of(new.id), NAME).data() == "Smithfield, Zoe"
    finally:
        close_forms(presenters)
