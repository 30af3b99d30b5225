"""Who a chart, and every dialog launched from it, is about: name, date of birth and MRN,
always together, so no action is ever taken on a patient the user cannot see named."""

from __future__ import annotations

from datetime import date

from PySide6.QtWidgets import QLabel, QWidget

from backend_client.dto import PatientRecord
from ui.patients.formatting import age_text, format_date


def patient_caption(record: PatientRecord, today: date) -> str:
    """"Müller, Anna · born 12 Mar 1984 (42 y) · MRN 000123"."""
    draft = record.draft
    born = draft.birth_date
    assert isinstance(born, date)
    name = f"{draft.family_name}, {draft.given_name}"
    return f"{name} · born {format_date(born)} ({age_text(born, today)}) · MRN {record.mrn}"


def patient_tab_title(record: PatientRecord) -> str:
    """Short enough for a tab: "Müller, Anna · 12 Mar 1984"; the MRN is in its tooltip."""
    born = record.draft.birth_date
    assert isinstance(born, date)
    return f"{record.draft.family_name}, {record.draft.given_name} · {format_date(born)}"


class PatientBanner(QLabel):
    """The first line of every dialog that acts on a patient."""

    def __init__(self, record: PatientRecord, today: date,
                 parent: QWidget | None = None) -> None:
        super().__init__(patient_caption(record, today), parent)
        self.patient_id = record.id
        self.setObjectName("patientBanner")
        self.setWordWrap(True)
        self.setStyleSheet("QLabel#patientBanner { font-weight: 600; padding: 4px 6px;"
                           " background: palette(alternate-base); border-radius: 3px; }")
        self.setAccessibleName("Patient: " + self.text())
