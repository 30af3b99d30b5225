"""Three-way merge of notes by section, and the readable diff between two revisions."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from backend_client.notes.content import content_hash
from backend_client.notes.diff import diff_revisions
from backend_client.notes.dto import NoteContent, NoteRevision, SectionContent
from backend_client.notes.merge import merge3, resolve

WHEN = datetime(2026, 1, 1, tzinfo=UTC)   # a label only: nothing here reads a clock


def content(title: str = "Visit", **sections: str | tuple[str, dict[str, str]]) -> NoteContent:
    out = []
    for key, value in sections.items():
        text, values = (value, {}) if isinstance(value, str) else value
        out.append(SectionContent(key, key.title(), text, tuple(sorted(values.items()))))
    return NoteContent(title, tuple(out))


def rev(c: NoteContent, rid: str = "a" * 32, seq: int = 1) -> NoteRevision:
    return NoteRevision(id=rid, note_id="n" * 32, seq=seq, parent_id=None, author_id=1,
                        author="Dr. A", saved_at=WHEN, content=c, content_hash=content_hash(c))


BASE = content(s="cough", o="clear", p="rest")


def test_a_section_only_one_side_changed_takes_that_side() -> None:
    mine = content(s="cough, fever", o="clear", p="rest")
    theirs = rev(content(s="cough", o="wheeze", p="rest"), "b" * 32)
    result = merge3(rev(BASE), mine, theirs)
    assert result.clean
    assert {s.key: s.merged for s in result.sections} == {
        "s": "cough, fever", "o": "wheeze", "p": "rest"}
    merged = resolve(result)
    assert [(s.key, s.text) for s in merged.sections] == [
        ("s", "cough, fever"), ("o", "wheeze"), ("p", "rest")]


def test_both_sides_the_same_change_is_taken_once() -> None:
    same = content(s="cough", o="clear", p="antibiotics")
    result = merge3(rev(BASE), same, rev(same, "b" * 32))
    assert result.clean and resolve(result) == same


def test_both_sides_changing_a_section_differently_is_left_to_the_user() -> None:
    mine = content(s="cough", o="clear", p="antibiotics")
    theirs = rev(content(s="cough", o="clear", p="watchful waiting"), "b" * 32)
    result = merge3(rev(BASE), mine, theirs)
    assert not result.clean
    conflict = next(s for s in result.sections if s.conflicted)
    assert (conflict.key, conflict.base, conflict.mine, conflict.theirs) == (
        "p", "rest", "antibiotics", "watchful waiting")
    with pytest.raises(KeyError, match="p"):
        resolve(result)                       # nothing is decided silently
    assert resolve(result, {"p": "theirs"}).section("p").text == "watchful waiting"  # type: ignore[union-attr]
    assert resolve(result, {"p": "mine"}).section("p").text == "antibiotics"  # type: ignore[union-attr]
    # The merge view builds the same from the DTO alone.
    assert result.resolved({"p": "mine"}) == resolve(result, {"p": "mine"})
    assert result.resolved({"p": "theirs", "s": "mine"}).section("p").text == (  # type: ignore[union-attr]
        "watchful waiting")


def test_structured_values_count_as_the_section() -> None:
    base = content(v=("", {"pulse": "72"}))
    mine = content(v=("", {"pulse": "80"}))
    theirs = rev(content(v=("", {"pulse": "72", "spo2": "97"})), "b" * 32)
    result = merge3(rev(base), mine, theirs)
    assert result.sections[0].conflicted
    assert result.sections[0].mine == "pulse: 80"      # as the merge view reads it back
    picked = resolve(result, {"v": "theirs"}).section("v")
    assert picked is not None and dict(picked.values) == {"pulse": "72", "spo2": "97"}


def test_without_a_base_every_difference_is_a_conflict() -> None:
    result = merge3(None, content(s="a", o="same"), rev(content(s="b", o="same")))
    assert [(s.key, s.conflicted) for s in result.sections] == [("s", True), ("o", False)]


def test_sections_only_one_side_has_are_kept() -> None:
    mine = content(s="cough", o="clear", p="rest", x="added by me")
    theirs = rev(content(s="cough", o="clear", p="rest", y="added by them"), "b" * 32)
    merged = resolve(merge3(rev(BASE), mine, theirs))
    assert [s.key for s in merged.sections] == ["s", "o", "p", "y", "x"]


def test_a_changed_title_is_kept_from_the_side_that_changed_it() -> None:
    mine = content("Visit", s="cough", o="clear", p="rest")
    theirs = rev(content("Chest infection", s="cough", o="clear", p="rest"), "b" * 32)
    assert resolve(merge3(rev(BASE), mine, theirs)).title == "Chest infection"


def test_diff_lines_by_section() -> None:
    older = rev(content(s="line 1\nline 2", o="clear"))
    newer = rev(content("Follow-up", s="line 1\nline two", p="rest"), "b" * 32, 2)
    d = diff_revisions(older, newer)
    assert [(x.kind, x.section, x.text) for x in d.lines] == [
        ("-", "Title", "Visit"), ("+", "Title", "Follow-up"),
        (" ", "S", "line 1"), ("-", "S", "line 2"), ("+", "S", "line two"),
        ("+", "P", "rest"),
        ("-", "O", "clear")]
    assert d.changed and not diff_revisions(older, older).changed
