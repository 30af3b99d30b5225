"""The Notes section in a chart: the list, search, starting a note, two people editing
the same draft (merge), signing, co-signing, addenda, history, PDF, and the offer of
unsaved notes at sign-in."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QDialogButtonBox, QWidget
from pytestqt.qtbot import QtBot

from backend_client.notes.dto import NoteContent, SectionContent
from backend_client.notes.local_store import LocalNoteStore
from desktop.presenters.notes_recovery import NotesRecoveryPresenter
from desktop.tasks import InlineTaskRunner
from tests.gui.fake_notes import (
    OTHER_DOCTOR,
    SOAP,
    TODAY,
    WRITER,
    FakeNotesApi,
    Harness,
    ManualRunner,
)
from ui.notes.pdf_export import note_html

KEY = bytes(range(32))
OTHER = OTHER_DOCTOR


@pytest.fixture
def store(tmp_path: Path) -> LocalNoteStore:
    s = LocalNoteStore(tmp_path / "notes.sqlite3", 11, KEY)
    yield s
    s.close()


def shown(qtbot: QtBot, h: Harness) -> QWidget:
    h.load()
    widget = h.section.widget()
    qtbot.addWidget(widget)
    widget.resize(1000, 700)
    widget.show()
    qtbot.waitExposed(widget)
    widget.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is widget, timeout=2000)
    return widget


def test_the_list_shows_title_type_status_author_and_signer(qtbot: QtBot,
                                                            qtmodeltester: object) -> None:
    api = FakeNotesApi()
    api.add_note(42, "referral", title="Referral to cardiology", note_id="n1",
                 texts={"recipient": "Dr Patel", "reason": "Palpitations"})
    api.add_note(42, title="Annual review", note_id="n2",
                 texts={"subjective": "Well", "assessment": "Stable"}, author=OTHER)
    api.sign("n1", api.summaries["n1"].head_revision)
    api.add_note(99, title="Someone else's note", note_id="n3")
    h = Harness(api)
    shown(qtbot, h)
    model = h.section.view.notes_model
    qtmodeltester.check(model)  # type: ignore[attr-defined]
    rows = [[model.index(r, c).data() for c in range(6)] for r in range(model.rowCount())]
    assert [r[0] for r in rows] == ["Referral to cardiology", "Annual review"]
    assert rows[0][1:4] == ["Letter", "Signed", "Dr Anna Demo"]
    assert rows[0][5].startswith("Dr Anna Demo, ")
    assert rows[1][1:4] == ["Note", "Draft", "Dr Amara Okafor"] and rows[1][5] == ""


def test_new_note_from_a_template_opens_the_editor_with_its_sections(qtbot: QtBot) -> None:
    api = FakeNotesApi()
    h = Harness(api)
    shown(qtbot, h)
    assert "No notes yet" in h.section.view.message.text()
    qtbot.mouseClick(h.section.view.new_button, Qt.MouseButton.LeftButton)
    dialog = h.section.new_dialog
    assert "Müller, Anna" in dialog.findChild(QWidget, "patientBanner").text()
    dialog.list.setCurrentRow(2)  # Referral letter
    dialog.title_edit.setText("Referral to dermatology")
    dialog.accept()
    view = h.editor.view
    assert list(view.texts) == ["recipient", "reason", "history", "medications"]
    assert view.title_edit.text() == "Referral to dermatology"
    assert "Ramipril" in view.texts["medications"].toPlainText(), "smart section filled"
    assert view.banner.text().startswith("Müller, Anna · born 12 Mar 1984")
    assert [n.title for n in api.notes(42)] == ["Referral to dermatology"]


def test_a_new_note_can_be_written_while_mongodb_is_down(qtbot: QtBot,
                                                         store: LocalNoteStore) -> None:
    from backend_client.errors import Unavailable

    api = FakeNotesApi()
    h = Harness(api, store)
    shown(qtbot, h)
    api.fail_next["create"] = Unavailable("mongodb", "MongoDB cannot be reached.")
    h.section.start_note(h.section.templates[1], "")
    view = h.editor.view
    assert "MongoDB unreachable — kept on this computer" in view.status_label.text()
    qtbot.keyClicks(view.texts["progress"], "Walking further")
    h.timer.fire()
    (pending,) = store.pending()
    assert pending.extra == {"template_id": "progress"}
    view.save_requested.emit()  # MongoDB is back: created, then saved
    (summary,) = api.notes(42)
    assert api.revisions[summary.id][-1].content.section("progress").text == "Walking further"
    assert store.pending() == ()


def test_search_shows_hits_and_the_newest_request_wins(qtbot: QtBot) -> None:
    api = FakeNotesApi()
    api.add_note(42, title="Chest review", note_id="n1", texts={"subjective": "chest pain"})
    api.add_note(42, title="Cough review", note_id="n2", texts={"subjective": "dry cough"})
    runner = ManualRunner()
    h = Harness(api, runner=runner)
    done: list[bool] = []
    h.section.load(lambda: done.append(True))
    runner.finish_all()
    view = h.section.view
    qtbot.addWidget(view)
    view.search_edit.setText("cough")
    view.search_edit.setText("chest")
    runner.finish(1)  # "chest" answers first
    runner.finish(0)  # the stale "cough" answer arrives late and is dropped
    assert [h.title for h in view.hits_model.rows] == ["Chest review"]
    assert view.message.text() == "1 note mentions “chest”."
    assert "chest pain" in view.table.model().index(0, 3).data()
    view.search_edit.setText("")
    runner.finish_all()
    assert view.table.model() is view.notes_model and view.notes_model.rowCount() == 2


def test_ctrl_f_in_the_section_goes_to_the_search(qtbot: QtBot) -> None:
    api = FakeNotesApi()
    api.add_note(42, note_id="n1")
    h = Harness(api)
    shown(qtbot, h)
    h.section.view.table.setFocus()
    qtbot.keyClick(h.section.view.table, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert QApplication.focusWidget() is h.section.view.search_edit


def test_two_people_editing_the_same_draft_merge_and_keep_as_a_new_revision(
        qtbot: QtBot) -> None:
    api = FakeNotesApi()
    api.add_note(42, note_id="n1", texts={"subjective": "Cough", "plan": "Review"})
    h = Harness(api)
    shown(qtbot, h)
    h.section.on_view_open_requested("n1")
    view = h.editor.view
    # Dr Okafor saves first: she changes the subjective text and the assessment
    api.save_as(OTHER, "n1", {"subjective": "Cough, worse at night",
                              "assessment": "Likely asthma"})
    view.texts["subjective"].setPlainText("Cough for 3 weeks")
    view.texts["plan"].setPlainText("Review in 1 week")
    view.save_requested.emit()

    dialog = h.editor.merge_dialog
    assert dialog is not None and dialog.isVisible()
    assert "Dr Amara Okafor saved this note" in view.problem_label.text()
    subjective = dialog.choice("subjective")
    assert subjective.section.conflicted
    assert dialog.choice("assessment").merged.toPlainText() == "Likely asthma"  # theirs only
    assert dialog.choice("plan").merged.toPlainText() == "Review in 1 week"  # mine only
    assert "Vital signs" in dialog.findChild(QWidget, "unchangedSections").text()
    revisions_before = len(api.revisions["n1"])
    ok = dialog.buttons.button(QDialogButtonBox.StandardButton.Ok)
    qtbot.mouseClick(ok, Qt.MouseButton.LeftButton)
    assert "Choose theirs or yours for: Subjective" in dialog.error.text()
    assert len(api.revisions["n1"]) == revisions_before, "nothing saved while undecided"

    qtbot.mouseClick(subjective.mine_button, Qt.MouseButton.LeftButton)
    assert subjective.merged.toPlainText() == "Cough for 3 weeks"
    qtbot.mouseClick(ok, Qt.MouseButton.LeftButton)
    head = api.revisions["n1"][-1]
    assert [name for name, _ in api.calls].count("keep_theirs_as_mine") == 1
    assert head.parent_id == api.revisions["n1"][-2].id  # on top of theirs
    assert head.author == "Dr Anna Demo"
    assert head.content.section("subjective").text == "Cough for 3 weeks"
    assert head.content.section("assessment").text == "Likely asthma"
    assert head.content.section("plan").text == "Review in 1 week"
    assert view.texts["assessment"].toPlainText() == "Likely asthma"
    assert view.status_label.text().startswith("Saved")
    # the next save is on the new head: no conflict
    view.texts["plan"].setPlainText("Review in 1 week; spirometry")
    view.save_requested.emit()
    assert api.revisions["n1"][-1].content.section("plan").text.endswith("spirometry")


def test_signing_needs_the_required_sections_then_freezes_the_editor(qtbot: QtBot) -> None:
    api = FakeNotesApi()
    api.add_note(42, note_id="n1", texts={"subjective": "Sore throat"})
    h = Harness(api)
    shown(qtbot, h)
    h.section.on_view_open_requested("n1")
    view = h.editor.view
    qtbot.mouseClick(view.sign_button, Qt.MouseButton.LeftButton)
    assert "Assessment is empty" in view.problem_label.text()
    assert api.summaries["n1"].status == "draft"

    view.texts["assessment"].setPlainText("Viral pharyngitis")
    h.answers.append(False)  # "Sign?" — Cancel
    qtbot.mouseClick(view.sign_button, Qt.MouseButton.LeftButton)
    assert api.summaries["n1"].status == "draft"
    assert "Müller, Anna" in h.questions[-1]
    qtbot.mouseClick(view.sign_button, Qt.MouseButton.LeftButton)
    assert api.summaries["n1"].status == "signed"
    assert api.revisions["n1"][-1].content.section("assessment").text == "Viral pharyngitis"
    assert all(edit.isReadOnly() for edit in view.texts.values())
    assert view.title_edit.isReadOnly()
    assert view.save_button.isHidden() and view.sign_button.isHidden()
    assert not view.addendum_button.isHidden() and not view.export_button.isHidden()
    assert view.status_label.text().startswith("Signed by Dr Anna Demo")
    qtbot.keyClicks(view.texts["plan"], "more")
    assert view.texts["plan"].toPlainText() == ""

    h.texts.append("Correction: symptoms began on Monday, not Tuesday.")
    qtbot.mouseClick(view.addendum_button, Qt.MouseButton.LeftButton)
    addenda = view.findChildren(QWidget, "addendum")
    assert len(addenda) == 1 and "began on Monday" in addenda[0].text()
    assert api.revisions["n1"][-1].content.section("assessment").text == "Viral pharyngitis"


def test_a_residents_note_waits_for_a_co_signature(qtbot: QtBot) -> None:
    api = FakeNotesApi(user=(21, "Dr Resident Rao"), roles=("resident",))
    api.add_note(42, note_id="n1", texts={"subjective": "x", "assessment": "y"})
    api.sign("n1", api.summaries["n1"].head_revision)
    api.user_id, api.user_name, api.roles = 11, "Dr Anna Demo", ("doctor",)
    h = Harness(api, permissions=WRITER | {"note.cosign"})
    shown(qtbot, h)
    assert "awaiting co-signature" in h.section.view.notes_model.index(0, 2).data()
    h.section.on_view_open_requested("n1")
    view = h.editor.view
    assert not view.cosign_button.isHidden()
    assert "awaiting co-signature" in view.status_label.text()
    qtbot.mouseClick(view.cosign_button, Qt.MouseButton.LeftButton)
    assert api.summaries["n1"].cosigned_by == "Dr Anna Demo"
    assert view.cosign_button.isHidden()
    assert "co-signed by Dr Anna Demo" in view.status_label.text()


def test_without_the_cosign_permission_there_is_no_co_sign_button(qtbot: QtBot) -> None:
    api = FakeNotesApi(user=(21, "Dr Resident Rao"), roles=("resident",))
    api.add_note(42, note_id="n1", texts={"subjective": "x", "assessment": "y"})
    api.sign("n1", api.summaries["n1"].head_revision)
    h = Harness(api)
    shown(qtbot, h)
    h.section.on_view_open_requested("n1")
    assert h.editor.view.cosign_button.isHidden()


def test_a_note_whose_text_no_longer_matches_its_signature_shows_a_red_warning(
        qtbot: QtBot) -> None:
    api = FakeNotesApi()
    api.add_note(42, note_id="n1", texts={"subjective": "x", "assessment": "y"})
    api.sign("n1", api.summaries["n1"].head_revision)
    api.tampered.add("n1")
    h = Harness(api)
    shown(qtbot, h)
    h.section.on_view_open_requested("n1")
    warning = h.editor.view.warning_label
    assert not warning.isHidden()
    assert "no longer matches what was signed" in warning.text()
    assert "#b00020" in warning.styleSheet()


def test_history_lists_revisions_and_shows_a_readable_diff(qtbot: QtBot) -> None:
    api = FakeNotesApi()
    api.add_note(42, note_id="n1", texts={"subjective": "Cough\nNo fever"})
    api.save_as(OTHER, "n1", {"subjective": "Cough\nFever 38.5 since Sunday"})
    h = Harness(api)
    shown(qtbot, h)
    h.section.on_view_open_requested("n1")
    qtbot.mouseClick(h.editor.view.history_button, Qt.MouseButton.LeftButton)
    dialog = h.editor.history_dialog
    table = dialog.table
    assert table.rowCount() == 3
    assert [table.item(r, 1).text() for r in range(3)] == [
        "Dr Anna Demo", "Dr Anna Demo", "Dr Amara Okafor"]
    text = dialog.diff_view.toPlainText()  # the last change is shown to begin with
    assert "− No fever" in text and "+ Fever 38.5 since Sunday" in text
    assert "Cough" in text and "Subjective" in text
    assert "line-through" in dialog.diff_view.toHtml()

    dialog.select(api.revisions["n1"][0].id, api.revisions["n1"][2].id)
    qtbot.mouseClick(dialog.compare_button, Qt.MouseButton.LeftButton)
    text = dialog.diff_view.toPlainText()
    assert "Revision 1" in text and "revision 3" in text
    assert "+ Cough" in text
    dialog.select(api.revisions["n1"][0].id)
    qtbot.mouseClick(dialog.compare_button, Qt.MouseButton.LeftButton)
    assert "Select exactly two revisions" in dialog.message.text()


def test_pdf_export_of_a_signed_note_has_the_clinic_patient_note_and_signature(
        qtbot: QtBot, tmp_path: Path) -> None:
    api = FakeNotesApi()
    api.add_note(42, note_id="n1", title="Chest pain review",
                 texts={"subjective": "Central chest pain on exertion for two weeks.",
                        "assessment": "Probable stable angina.", "plan": "ECG, lipids."})
    api.sign("n1", api.summaries["n1"].head_revision)
    api.add_addendum("n1", "ECG normal sinus rhythm.")
    h = Harness(api)
    shown(qtbot, h)
    h.section.on_view_open_requested("n1")
    h.pdf_to = tmp_path / "note.pdf"
    qtbot.mouseClick(h.editor.view.export_button, Qt.MouseButton.LeftButton)
    assert h.pdf_to.stat().st_size > 1000
    assert h.editor.view.status_label.text() == f"Exported to {h.pdf_to}"
    pdf = h.pdf_to.read_bytes()
    assert pdf.startswith(b"%PDF-") and pdf.count(b"/Type /Page\n") + \
        pdf.count(b"/Type /Page ") + pdf.count(b"/Type /Page>") >= 1
    # What was laid out on the pages (the PDF's text is compressed glyph runs):
    document = api.read("n1")
    words = " ".join(note_html(document, h.record, TODAY, h.section.ctx.clinic_lines,
                               SOAP).replace("&nbsp;", " ").split())
    words = re.sub(r"<[^>]+>", " ", words)
    words = " ".join(words.split())
    for expected in ("Riverside Family Practice", "Müller, Anna", "12 Mar 1984", "000123",
                     "Chest pain review", "Central chest pain on exertion",
                     "Probable stable angina", "Electronically signed by Dr Anna Demo",
                     "Addendum", "ECG normal sinus rhythm"):
        assert expected in words, expected
    assert words.index("Probable stable angina") < words.index("ECG normal sinus rhythm")


def test_unsaved_notes_are_offered_after_sign_in_and_open_in_the_editor(
        qtbot: QtBot, store: LocalNoteStore) -> None:
    api = FakeNotesApi()
    api.add_note(42, note_id="n1", title="Asthma review", texts={"subjective": "Wheeze"})
    base = api.summaries["n1"].head_revision
    content = NoteContent("Asthma review", tuple(
        SectionContent(s.key, s.title, "Wheeze, worse with cold air" if s.key == "subjective"
                       else s.text, s.values) for s in api.revisions["n1"][-1].content.sections))
    store.put("n1", 42, "Müller, Anna · MRN 000123", "Asthma review", base, content)
    store.put("n9", 43, "Khan, Aisha · MRN 000456", "Progress", None, content)
    window = QWidget()
    qtbot.addWidget(window)
    answers = [False, True]  # "Discard?" — first Cancel, then Yes
    recovery = NotesRecoveryPresenter(InlineTaskRunner(),
                                      confirm=lambda *_a: answers.pop(0))
    opened: list[object] = []
    recovery.offer(window, store, opened.append)
    dialog = recovery.dialog
    assert dialog is not None and dialog.isVisible()
    assert dialog.heading.text().startswith("2 notes were not saved.")
    assert any(dialog.list.item(i).text().startswith("Müller, Anna · MRN 000123\nAsthma "
                                                     "review — kept on this computer at ")
               for i in range(2))

    row = next(i for i in range(2) if "Khan" in dialog.list.item(i).text())
    dialog.list.setCurrentRow(row)
    qtbot.mouseClick(dialog.discard_button, Qt.MouseButton.LeftButton)
    assert len(store.pending()) == 2 and dialog.list.count() == 2  # cancelled: kept
    row = next(i for i in range(2) if "Khan" in dialog.list.item(i).text())
    dialog.list.setCurrentRow(row)
    qtbot.mouseClick(dialog.discard_button, Qt.MouseButton.LeftButton)
    assert [n.note_id for n in store.pending()] == ["n1"]
    assert dialog.heading.text().startswith("1 note was not saved.")
    qtbot.mouseClick(dialog.open_button, Qt.MouseButton.LeftButton)
    (unsaved,) = opened

    h = Harness(api, store)
    shown(qtbot, h)
    h.section.open_unsaved(unsaved)  # the coordinator opened Müller's chart
    view = h.editor.view
    assert view.texts["subjective"].toPlainText() == "Wheeze, worse with cold air"
    assert "not saved" in view.problem_label.text()
    view.save_requested.emit()
    assert api.revisions["n1"][-1].content.section("subjective").text == \
        "Wheeze, worse with cold air"
    assert store.pending() == ()


def test_nothing_is_offered_when_everything_was_saved(qtbot: QtBot,
                                                      store: LocalNoteStore) -> None:
    window = QWidget()
    qtbot.addWidget(window)
    recovery = NotesRecoveryPresenter(InlineTaskRunner(), confirm=lambda *_a: True)
    recovery.offer(window, store, lambda _n: None)
    assert recovery.dialog is None


def test_a_working_copy_in_mongodb_is_offered_when_the_note_is_opened_again(
        qtbot: QtBot) -> None:
    api = FakeNotesApi()
    api.add_note(42, note_id="n1", texts={"plan": "Review"})
    head = api.revisions["n1"][-1]
    api.autosaves["n1"] = (head.id, NoteContent(head.content.title, tuple(
        SectionContent(s.key, s.title, "Review; bloods" if s.key == "plan" else s.text,
                       s.values) for s in head.content.sections)))
    h = Harness(api)
    shown(qtbot, h)
    h.section.on_view_open_requested("n1")
    assert h.editor.view.texts["plan"].toPlainText() == "Review; bloods"
    assert h.editor.has_unsaved_changes()
