"""Note templates: one JSON file each in ``resources/note_templates`` (a new note type is a
new file, not code). Every file is checked when the library loads; a bad one is named with
what is wrong in it (``TemplateError``), and the others still load.

A file::

    {"title": "SOAP note", "kind": "note", "version": 1,
     "sections": [{"key": "subjective", "title": "Subjective", "kind": "text",
                   "hint": "...", "required": true},
                  {"key": "vitals", "title": "Vitals", "kind": "fields",
                   "fields": [{"key": "pulse", "label": "Pulse", "kind": "number",
                               "unit": "/min", "minimum": 20, "maximum": 250}]},
                  {"key": "medications", "title": "Current medications",
                   "kind": "smart", "smart_source": "medications"}]}
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from backend_client.errors import ValidationError
from backend_client.notes.dto import (
    FIELD_KINDS,
    SECTION_KINDS,
    SMART_SOURCES,
    NoteContent,
    NoteTemplate,
    SectionContent,
    TemplateField,
    TemplateSection,
)

log = logging.getLogger(__name__)

KEY = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
KINDS = ("note", "letter")


def default_templates_dir() -> Path:
    import resources

    return Path(resources.__file__).resolve().parent / "note_templates"


class TemplateError(ValueError):
    """A template file that cannot be used; the message names the file and the fault."""


def _need(obj: Mapping[str, Any], key: str, kind: type | tuple[type, ...], where: str
          ) -> Any:
    if key not in obj:
        raise TemplateError(f"{where} has no {key!r}")
    value = obj[key]
    if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__
                                                                        for k in kind)
        raise TemplateError(f"{where}: {key!r} must be a {names}")
    return value


def _field(raw: Any, where: str) -> TemplateField:
    if not isinstance(raw, dict):
        raise TemplateError(f"{where} is not an object")
    key = _need(raw, "key", str, where)
    if not KEY.match(key):
        raise TemplateError(f"{where}: key {key!r} must be lowercase letters, digits or _")
    where = f"{where} ({key})"
    kind = raw.get("kind", "number")
    if kind not in FIELD_KINDS:
        raise TemplateError(f"{where}: kind {kind!r} is not one of {', '.join(FIELD_KINDS)}")
    lo, hi = raw.get("minimum"), raw.get("maximum")
    for name, value in (("minimum", lo), ("maximum", hi)):
        if value is not None and (not isinstance(value, int | float)
                                  or isinstance(value, bool)):
            raise TemplateError(f"{where}: {name} must be a number")
    if lo is not None and hi is not None and lo > hi:
        raise TemplateError(f"{where}: minimum {lo} is above maximum {hi}")
    choices = raw.get("choices", [])
    if kind == "choice" and (not isinstance(choices, list) or not choices
                             or not all(isinstance(c, str) for c in choices)):
        raise TemplateError(f"{where}: a choice field needs a list of choices")
    return TemplateField(key=key, label=_need(raw, "label", str, where), kind=kind,
                         unit=str(raw.get("unit", "")),
                         minimum=float(lo) if lo is not None else None,
                         maximum=float(hi) if hi is not None else None,
                         choices=tuple(choices), required=bool(raw.get("required", False)))


def _section(raw: Any, where: str) -> TemplateSection:
    if not isinstance(raw, dict):
        raise TemplateError(f"{where} is not an object")
    key = _need(raw, "key", str, where)
    if not KEY.match(key):
        raise TemplateError(f"{where}: key {key!r} must be lowercase letters, digits or _")
    where = f"section {key!r}"
    kind = raw.get("kind", "text")
    if kind not in SECTION_KINDS:
        raise TemplateError(f"{where}: kind {kind!r} is not one of "
                            f"{', '.join(SECTION_KINDS)}")
    source = raw.get("smart_source", "")
    if kind == "smart" and source not in SMART_SOURCES:
        raise TemplateError(f"{where}: smart_source must be one of {', '.join(SMART_SOURCES)}")
    fields_raw = raw.get("fields", [])
    if not isinstance(fields_raw, list):
        raise TemplateError(f"{where}: fields must be a list")
    if kind == "fields" and not fields_raw:
        raise TemplateError(f"{where}: a fields section needs at least one field")
    fields = tuple(_field(f, f"{where}, field {i + 1}") for i, f in enumerate(fields_raw))
    if len({f.key for f in fields}) != len(fields):
        raise TemplateError(f"{where}: two fields have the same key")
    return TemplateSection(key=key, title=_need(raw, "title", str, where), kind=kind,
                           hint=str(raw.get("hint", "")), smart_source=source,
                           fields=fields, required=bool(raw.get("required", False)))


def parse_template(template_id: str, data: Any) -> NoteTemplate:
    """A template from a file's parsed JSON; raises ``TemplateError`` saying what is wrong."""
    if not isinstance(data, dict):
        raise TemplateError("the file must hold one JSON object")
    title = _need(data, "title", str, "the template")
    kind = data.get("kind", "note")
    if kind not in KINDS:
        raise TemplateError(f"kind {kind!r} is not one of {', '.join(KINDS)}")
    raw_sections = _need(data, "sections", list, "the template")
    if not raw_sections:
        raise TemplateError("the template has no sections")
    sections = tuple(_section(s, f"section {i + 1}") for i, s in enumerate(raw_sections))
    keys = [s.key for s in sections]
    duplicate = next((k for k in keys if keys.count(k) > 1), None)
    if duplicate:
        raise TemplateError(f"two sections have the key {duplicate!r}")
    version = data.get("version", 1)
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise TemplateError("version must be a whole number from 1")
    return NoteTemplate(id=template_id, title=title, kind=kind, sections=sections,
                        version=version)


def load_template(path: Path) -> NoteTemplate:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise TemplateError(f"{path.name}: cannot be read ({exc.__class__.__name__})") from exc
    except json.JSONDecodeError as exc:
        raise TemplateError(f"{path.name}: not valid JSON (line {exc.lineno}, column "
                            f"{exc.colno}: {exc.msg})") from exc
    if not KEY.match(path.stem):
        raise TemplateError(f"{path.name}: the file name must be lowercase letters, digits "
                            "or _ (it is the template's id)")
    try:
        return parse_template(path.stem, data)
    except TemplateError as exc:
        raise TemplateError(f"{path.name}: {exc}") from None


class TemplateLibrary:
    """The templates of one folder, loaded on first use (never at import)."""

    def __init__(self, folder: Path | None = None) -> None:
        self.folder = folder or default_templates_dir()
        self._templates: dict[str, NoteTemplate] | None = None
        self.problems: tuple[str, ...] = ()

    def _load(self) -> dict[str, NoteTemplate]:
        if self._templates is None:
            found: dict[str, NoteTemplate] = {}
            problems = []
            for path in sorted(self.folder.glob("*.json")):
                try:
                    found[path.stem] = load_template(path)
                except TemplateError as exc:
                    problems.append(str(exc))
                    log.warning("note template skipped: %s", exc)
            self._templates, self.problems = found, tuple(problems)
        return self._templates

    def all(self) -> tuple[NoteTemplate, ...]:
        return tuple(sorted(self._load().values(), key=lambda t: t.title.lower()))

    def get(self, template_id: str) -> NoteTemplate:
        template = self._load().get(template_id)
        if template is None:
            raise ValidationError("template_id", f"There is no note template "
                                                 f"{template_id!r}.")
        return template


def blank_content(template: NoteTemplate, title: str = "",
                  filled: Mapping[str, str] | None = None) -> NoteContent:
    """The template's sections, empty but for smart sections filled from the chart."""
    filled = filled or {}
    return NoteContent(title=title or template.title, sections=tuple(
        SectionContent(key=s.key, title=s.title, text=filled.get(s.key, ""))
        for s in template.sections))


def _number(text: str) -> float | None:
    try:
        return float(text.strip().replace(",", "."))
    except ValueError:
        return None


def check_values(template: NoteTemplate, content: NoteContent, *,
                 signing: bool = False) -> None:
    """Structured values that are not numbers, outside their range or not a choice (and,
    when signing, required sections or fields left empty) raise ``ValidationError`` with
    every problem by section key."""
    errors: dict[str, str] = {}

    def problem(key: str, sentence: str) -> None:
        errors[key] = f"{errors[key]} {sentence}" if key in errors else sentence

    for ts in template.sections:
        sc = content.section(ts.key)
        for f in ts.fields:
            value = sc.value(f.key).strip() if sc else ""
            if not value:
                if signing and f.required:
                    problem(ts.key, f"{f.label} is required before signing.")
                continue
            if f.kind == "number":
                n = _number(value)
                unit = f" {f.unit}" if f.unit else ""
                if n is None:
                    problem(ts.key, f"{f.label} must be a number, not {value!r}.")
                elif ((f.minimum is not None and n < f.minimum)
                      or (f.maximum is not None and n > f.maximum)):
                    problem(ts.key, f"{f.label} {value}{unit} is outside "
                                              f"{f.minimum:g}–{f.maximum:g}{unit}."
                                      if f.minimum is not None and f.maximum is not None
                                      else f"{f.label} {value}{unit} is out of range.")
            elif f.kind == "choice" and value not in f.choices:
                problem(ts.key, f"{f.label} must be one of "
                                          f"{', '.join(f.choices)}.")
        if signing and ts.required and ts.kind != "fields":
            if sc is None or not sc.text.strip():
                problem(ts.key, f"{ts.title} must be filled in before signing.")
    if errors:
        raise ValidationError.of(errors)
