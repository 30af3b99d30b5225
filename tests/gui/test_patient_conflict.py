"""A save that meets someone else's version: the ConflictDialog, field by field.

What the form started from, theirs (saved, by whom and when), yours. Fields only they
changed are taken, fields only you changed are kept, fields both changed differently wait
for a choice; keeping yours over their change is a choice about that one field; the save
goes against their version and meets a newer one again if it moved again.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import date

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QRadioButton
from pytestqt.qtbot import QtBot

from backend_client.dto import Identifier, PreviousName
from tests.gui.fake_patients import FakePatientsApi, draft
from tests.gui.test_patient_live import Desk, _edit, _hhmm, _shot, close_forms, open_desk
from ui.patients.conflict_dialog import ConflictDialog
from ui.patients.field_changes import BOTH, SAME, THEIRS, YOURS, ThreeWay
from ui.patients.patient_dialog import PatientDialog


@pytest.fixture
def desk(qtbot: QtBot, clinic: FakePatientsApi) -> Iterator[Desk]:
    made = open_desk(qtbot, clinic)
    yield made
    close_forms(made[1])


def _conflict(desk: Desk) -> ConflictDialog:
    conflict = desk[1].editor.conflict
    assert isinstance(conflict, ConflictDialog) and conflict.isVisible()
    return conflict


def _kinds(conflict: ConflictDialog) -> dict[str, str]:
    return {c.key: c.kind for c in conflict.changes}


def _save(qtbot: QtBot, dialog: PatientDialog) -> None:
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)


def test_their_changes_are_taken_and_yours_kept(qtbot: QtBot, desk: Desk) -> None:
    window, presenters, api, _ = desk
    dialog = _edit(qtbot, window, presenters, 2)  # John Smith, version 1
    saved = api.change_behind_the_back(2, "Dr Amara Okafor", email="john@example.org")
    dialog.phone.setText("07700 900456")
    qtbot.keyClicks(dialog.language, "Welsh")
    _save(qtbot, dialog)

    conflict = _conflict(desk)
    assert conflict.windowTitle() == "Someone else saved this patient"
    assert _kinds(conflict) == {"email": THEIRS, "phone": YOURS, "language": YOURS}
    email = next(c for c in conflict.changes if c.key == "email")
    assert (email.base, email.theirs, email.yours) == ("", "john@example.org", "")
    assert conflict.choice_for("email") == THEIRS and conflict.choice_for("phone") == YOURS
    assert conflict.missing() == [] and conflict.apply_button.isEnabled()
    assert f"Dr Amara Okafor saved this patient at {_hhmm(saved)}" in _texts(conflict)
    assert len(api.calls_to("update")) == 1 and api.records[2].version == 2  # nothing yet

    qtbot.mouseClick(conflict.apply_button, Qt.MouseButton.LeftButton)
    assert [c.args[1] for c in api.calls_to("update")] == [1, 2]  # against their version
    final = api.records[2].draft
    assert (final.email, final.phone, final.language) == ("john@example.org",
                                                          "07700 900456", "Welsh")
    assert not dialog.isVisible()


def test_a_field_both_changed_waits_for_a_choice_made_by_keyboard(
        qtbot: QtBot, desk: Desk) -> None:
    window, presenters, api, _ = desk
    dialog = _edit(qtbot, window, presenters, 2)
    api.change_behind_the_back(2, "Dr Amara Okafor", phone="555-0199")
    dialog.phone.setText("07700 900456")
    _save(qtbot, dialog)

    conflict = _conflict(desk)
    assert _kinds(conflict) == {"phone": BOTH}
    assert conflict.choice_for("phone") is None  # nothing chosen for the user
    assert not conflict.apply_button.isEnabled()
    assert conflict.status.text() == "Choose theirs or yours for: phone."
    qtbot.waitUntil(lambda: QApplication.activeWindow() is conflict, timeout=2000)
    theirs = QApplication.focusWidget()
    assert isinstance(theirs, QRadioButton) and theirs.objectName() == "phone-theirs"
    qtbot.keyClick(conflict, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert len(api.calls_to("update")) == 1  # Ctrl+Enter saves nothing undecided

    qtbot.keyClick(theirs, Qt.Key.Key_Right)  # arrows move within a field's choice
    yours = QApplication.focusWidget()
    assert isinstance(yours, QRadioButton) and yours.objectName() == "phone-yours"
    qtbot.keyClick(yours, Qt.Key.Key_Space)
    assert conflict.choice_for("phone") == YOURS and conflict.apply_button.isEnabled()
    qtbot.keyClick(conflict, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert [c.args[1] for c in api.calls_to("update")] == [1, 2]
    assert api.records[2].draft.phone == "07700 900456"


def test_their_value_wins_a_field_when_chosen(qtbot: QtBot, desk: Desk) -> None:
    window, presenters, api, _ = desk
    dialog = _edit(qtbot, window, presenters, 2)
    api.change_behind_the_back(2, "Dr Amara Okafor", phone="555-0199")
    dialog.phone.setText("07700 900456")
    _save(qtbot, dialog)
    conflict = _conflict(desk)
    conflict.choose("phone", THEIRS)
    qtbot.mouseClick(conflict.apply_button, Qt.MouseButton.LeftButton)
    assert api.records[2].draft.phone == "555-0199"
    assert not dialog.isVisible()


def test_putting_back_your_value_over_their_change_is_said_and_chosen_per_field(
        qtbot: QtBot, desk: Desk) -> None:
    window, presenters, api, _ = desk
    dialog = _edit(qtbot, window, presenters, 2)
    api.change_behind_the_back(2, "Dr Amara Okafor", email="john@example.org", city="Leeds")
    dialog.phone.setText("07700 900456")
    _save(qtbot, dialog)
    conflict = _conflict(desk)
    assert conflict.status.isHidden()
    conflict.choose("email", YOURS)
    assert conflict.status.text() == ("You chose to put back your value over their change "
                                      "in: email.")
    qtbot.mouseClick(conflict.apply_button, Qt.MouseButton.LeftButton)
    final = api.records[2].draft
    assert (final.email, final.city, final.phone) == ("", "Leeds", "07700 900456")


def test_a_save_meets_a_version_that_moved_again(qtbot: QtBot, desk: Desk) -> None:
    window, presenters, api, _ = desk
    dialog = _edit(qtbot, window, presenters, 2)
    api.change_behind_the_back(2, "Dr Amara Okafor", email="john@example.org")
    dialog.phone.setText("07700 900456")
    _save(qtbot, dialog)
    first = _conflict(desk)
    api.change_behind_the_back(2, "Nurse Ben Ade", city="Leeds")  # while B decides
    qtbot.mouseClick(first.apply_button, Qt.MouseButton.LeftButton)

    second = _conflict(desk)
    assert second is not first
    # Compared with the version B has just seen: only the new change is theirs.
    assert _kinds(second) == {"city": THEIRS, "phone": YOURS}
    assert "Nurse Ben Ade saved this patient" in _texts(second)
    qtbot.mouseClick(second.apply_button, Qt.MouseButton.LeftButton)
    assert [c.args[1] for c in api.calls_to("update")] == [1, 2, 3]
    final = api.records[2].draft
    assert (final.email, final.city, final.phone) == ("john@example.org", "Leeds",
                                                      "07700 900456")


def test_back_to_the_form_saves_nothing_and_keeps_their_changes_on_offer(
        qtbot: QtBot, desk: Desk) -> None:
    window, presenters, api, _ = desk
    dialog = _edit(qtbot, window, presenters, 2)
    saved = api.change_behind_the_back(2, "Dr Amara Okafor", email="john@example.org")
    dialog.phone.setText("07700 900456")
    _save(qtbot, dialog)
    qtbot.mouseClick(_conflict(desk).back_button, Qt.MouseButton.LeftButton)

    assert presenters.editor.conflict is None
    assert dialog.isVisible() and dialog.phone.text() == "07700 900456"
    assert dialog.changed_bar.text.text().startswith(
        f"⚠ Not saved: changed by Dr Amara Okafor at {_hhmm(saved)} (email).")
    assert api.records[2].draft.email == "john@example.org"
    _save(qtbot, dialog)  # a plain save again: still their version first, field by field
    assert _kinds(_conflict(desk)) == {"email": THEIRS, "phone": YOURS}
    assert api.records[2].version == 2


def test_lists_are_one_field_each(qtbot: QtBot, desk: Desk) -> None:
    window, presenters, api, _ = desk
    dialog = _edit(qtbot, window, presenters, 5)  # Aisha Khan, née Smithson
    mrn = api.records[5].draft.identifiers
    api.change_behind_the_back(5, "Dr Amara Okafor", identifiers=(
        *mrn, Identifier("INSURANCE", "AB123456C", "NHS")))
    dialog.previous_name_rows[0].family.setText("Smythson")
    _save(qtbot, dialog)
    conflict = _conflict(desk)
    assert _kinds(conflict) == {"identifiers": THEIRS, "previous_names": YOURS}
    idents = next(c for c in conflict.changes if c.key == "identifiers")
    assert idents.theirs.endswith("Insurance number AB123456C (NHS)")
    qtbot.mouseClick(conflict.apply_button, Qt.MouseButton.LeftButton)
    final = api.records[5].draft
    assert Identifier("INSURANCE", "AB123456C", "NHS") in final.identifiers
    assert final.previous_names == (PreviousName("Aisha", "Smythson"),)


def test_three_way_cases() -> None:
    base = draft("Tess", "Tessler", date(1990, 2, 2), phone="555-0100", city="York")
    theirs = replace(base, given_name="Tessie", city="Leeds", email="t@example.org")
    yours = replace(base, birth_date="2 Feb 1990",  # as the form spells it: no change
                    phone="555-0222", city="Hull", email="t@example.org")
    three = ThreeWay(base, theirs, yours)
    assert {c.key: c.kind for c in three.changes()} == {
        "given_name": THEIRS, "phone": YOURS, "city": BOTH, "email": SAME}
    with pytest.raises(KeyError):
        three.merged({})  # the city is nobody's to decide but the user's
    merged = three.merged({"city": YOURS})
    assert (merged.given_name, merged.phone, merged.city, merged.email) == (
        "Tessie", "555-0222", "Hull", "t@example.org")
    assert three.merged({"city": THEIRS, "given_name": YOURS}).given_name == "Tess"
    # Unknown starting point (a form kept by an older version): every difference is a
    # choice.
    unknown = ThreeWay(None, theirs, yours)
    assert {c.key: c.kind for c in unknown.changes()} == {
        "given_name": BOTH, "phone": BOTH, "city": BOTH}


def test_screenshots_of_the_conflict_dialog(qtbot: QtBot, desk: Desk) -> None:
    window, presenters, api, _ = desk
    dialog = _edit(qtbot, window, presenters, 1)  # Margaret Smith, with everything
    api.change_behind_the_back(1, "Dr Amara Okafor", given_name="Maggie",
                               address_line1="14 Wellington Road, Flat 3 (ring twice)",
                               phone="+44 20 7946 0777")
    dialog.phone.setText("+44 20 7946 0999")
    dialog.email.setText("margaret.smith@example.org")
    dialog.address_line1.setText("2 Station Approach, the house with the blue door")
    _save(qtbot, dialog)
    conflict = _conflict(desk)
    assert _kinds(conflict) == {"given_name": THEIRS, "phone": BOTH, "email": YOURS,
                                "address_line1": BOTH}
    conflict.choose("address_line1", THEIRS)
    conflict.resize(1000, 620)
    _shot(conflict, "conflict-dialog-1280.png")
    conflict.resize(700, 620)
    _shot(conflict, "conflict-dialog-700.png")
    assert conflict.width() == 700  # nothing forces it wider
    for label in conflict.findChildren(QRadioButton):
        assert label.width() >= label.sizeHint().width()  # no clipped choice


def _texts(conflict: ConflictDialog) -> str:
    from PySide6.QtWidgets import QLabel
    return "\n".join(w.text() for w in conflict.findChildren(QLabel))
