"""Note templates are files: the shipped ones load, and a bad file is named with its fault."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from backend_client.errors import ValidationError
from backend_client.notes.base import load_expanders
from backend_client.notes.content import content_hash
from backend_client.notes.dto import NoteContent, SectionContent
from backend_client.notes.templates import (
    TemplateError,
    TemplateLibrary,
    blank_content,
    check_values,
    default_templates_dir,
    load_template,
)


def test_the_shipped_templates_load_with_vitals_and_smart_sections() -> None:
    library = TemplateLibrary()
    assert {t.id for t in library.all()} >= {"soap", "progress", "referral_letter",
                                             "discharge_summary"}
    assert library.problems == ()
    soap = library.get("soap")
    vitals = next(s for s in soap.sections if s.key == "vitals")
    units = {f.key: (f.unit, f.minimum, f.maximum) for f in vitals.fields}
    assert units["systolic"] == ("mmHg", 50, 260) and units["spo2"] == ("%", 50, 100)
    assert units["temperature"][0] == "°C" and units["weight"][0] == "kg"
    assert {s.smart_source for s in soap.sections if s.kind == "smart"} == {
        "medications", "allergies"}
    assert library.get("referral_letter").kind == "letter"
    with pytest.raises(ValidationError, match="no note template 'nope'"):
        library.get("nope")


def _write(folder: Path, name: str, data: object) -> Path:
    path = folder / name
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return path


GOOD = {"title": "Wound check", "sections": [{"key": "wound", "title": "Wound"}]}


@pytest.mark.parametrize(("data", "fault"), [
    ("{not json", "not valid JSON (line 1, column 2"),
    ([], "one JSON object"),
    ({"sections": GOOD["sections"]}, "has no 'title'"),
    ({**GOOD, "kind": "memo"}, "kind 'memo' is not one of note, letter"),
    ({**GOOD, "sections": []}, "has no sections"),
    ({**GOOD, "sections": [{"key": "A b", "title": "x"}]}, "key 'A b' must be lowercase"),
    ({**GOOD, "sections": [{"key": "a", "title": "x"}, {"key": "a", "title": "y"}]},
     "two sections have the key 'a'"),
    ({**GOOD, "sections": [{"key": "a", "title": "x", "kind": "smart",
                            "smart_source": "weather"}]}, "smart_source must be one of"),
    ({**GOOD, "sections": [{"key": "v", "title": "V", "kind": "fields", "fields": [
        {"key": "pulse", "label": "Pulse", "minimum": 200, "maximum": 20}]}]},
     "section 'v', field 1 (pulse): minimum 200 is above maximum 20"),
    ({**GOOD, "sections": [{"key": "v", "title": "V", "kind": "fields", "fields": [
        {"key": "pulse", "label": "Pulse", "maximum": "high"}]}]}, "maximum must be a number"),
    ({**GOOD, "sections": [{"key": "v", "title": "V", "kind": "fields"}]},
     "needs at least one field"),
])
def test_a_bad_template_file_is_named_with_what_is_wrong(tmp_path: Path, data: object,
                                                         fault: str) -> None:
    path = _write(tmp_path, "wound.json", data)
    with pytest.raises(TemplateError) as exc:
        load_template(path)
    assert str(exc.value).startswith("wound.json: ") and fault in str(exc.value)


def test_a_new_template_is_a_file_and_a_bad_one_does_not_hide_the_others(tmp_path: Path
                                                                          ) -> None:
    _write(tmp_path, "wound_check.json", GOOD)
    _write(tmp_path, "broken.json", "{")
    library = TemplateLibrary(tmp_path)
    assert [t.id for t in library.all()] == ["wound_check"]
    assert len(library.problems) == 1 and library.problems[0].startswith("broken.json")


def test_values_are_checked_against_units_and_ranges() -> None:
    soap = TemplateLibrary().get("soap")
    blank = blank_content(soap, "", {"allergies": "Penicillin"})
    assert blank.title == "SOAP note" and blank.section("allergies").text == "Penicillin"  # type: ignore[union-attr]

    def with_vitals(**values: str) -> NoteContent:
        return NoteContent(blank.title, tuple(
            SectionContent(s.key, s.title, s.text, tuple(values.items()))
            if s.key == "vitals" else s for s in blank.sections))

    check_values(soap, with_vitals(pulse="72", temperature="37,5"))
    with pytest.raises(ValidationError) as exc:
        check_values(soap, with_vitals(pulse="720", spo2="ninety"))
    assert "Pulse 720 /min is outside 20–250 /min." in exc.value.errors["vitals"]
    assert "SpO2 must be a number, not 'ninety'." in exc.value.errors["vitals"]
    with pytest.raises(ValidationError) as signing:
        check_values(soap, blank, signing=True)
    assert set(signing.value.errors) == {"subjective", "assessment", "plan"}


def test_the_hash_is_of_the_content_not_its_order_of_values() -> None:
    a = NoteContent("T", (SectionContent("v", "V", "", (("a", "1"), ("b", "2"))),))
    b = NoteContent("T", (SectionContent("v", "V", "", (("b", "2"), ("a", "1"))),))
    c = NoteContent("T", (SectionContent("v", "V", "", (("a", "1"), ("b", "3"))),))
    assert content_hash(a) == content_hash(b) != content_hash(c)


def test_shipped_text_expanders() -> None:
    shipped = load_expanders(default_templates_dir().parent / "text_expanders.json")
    assert shipped[".sob"] == "shortness of breath" and len(shipped) >= 20
    assert all(k.startswith(".") and " " not in k and v for k, v in shipped.items())
