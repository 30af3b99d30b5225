"""Checking structured fields as typed: a sentence that names the field and the bound."""

from __future__ import annotations

from backend_client.notes.dto import TemplateField


def _number(value: float) -> str:
    return f"{value:g}"


def field_problem(spec: TemplateField, text: str) -> str:
    """"" when ``text`` is acceptable for ``spec``; else what is wrong, e.g. "Systolic 400
    mmHg is above 260"."""
    text = text.strip()
    if not text:
        return f"{spec.label} is required" if spec.required else ""
    if spec.kind == "choice":
        if spec.choices and text not in spec.choices:
            return f"{spec.label} must be one of: {', '.join(spec.choices)}"
        return ""
    if spec.kind != "number":
        return ""
    try:
        value = float(text.replace(",", "."))
    except ValueError:
        return f"{spec.label} “{text}” is not a number"
    unit = f" {spec.unit}" if spec.unit else ""
    if spec.maximum is not None and value > spec.maximum:
        return f"{spec.label} {text}{unit} is above {_number(spec.maximum)}"
    if spec.minimum is not None and value < spec.minimum:
        return f"{spec.label} {text}{unit} is below {_number(spec.minimum)}"
    return ""
