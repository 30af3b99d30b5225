"""Shared pieces for the patient GUI tests: the fake registry and screenshots."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot

from backend_client.dto import AlertSummary, Contact, Identifier, PreviousName
from desktop.bootstrap import PatientPresenters, build_patient_presenters
from desktop.tasks import InlineTaskRunner, TaskRunner
from tests.gui.fake_patients import FakePatientsApi, draft
from ui.main_window import MainWindow

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
TODAY = date(2026, 11, 27)


def save_screenshot(widget: QWidget, name: str) -> Path:
    # Let deferred layout requests run first, so the picture is what a user would see.
    # (Test code only: the app itself never spins the event loop by hand.)
    QApplication.processEvents()
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    assert widget.grab().save(str(path)), f"could not write {path}"
    return path


@pytest.fixture
def runner() -> Iterator[TaskRunner]:
    tasks = TaskRunner()
    yield tasks
    tasks.shutdown()


@pytest.fixture
def clinic() -> FakePatientsApi:
    """A small clinic: three Smiths (one deceased), a Smithers, and Aisha Khan, née
    Smithson."""
    api = FakePatientsApi()
    api.add(draft("Margaret", "Smith", date(1948, 6, 24), middle_name="Ann",
                  preferred_name="Peggy", phone="+44 20 7946 0018",
                  identifiers=(Identifier("MRN", "M0000001", "clinic"),
                               Identifier("INSURANCE", "AB123456C", "NHS")),
                  emergency_contact=Contact("Robert Smith", "son", "+44 7700 900123")),
            alerts=(AlertSummary("clinical", "moderate", "Falls risk"),
                    AlertSummary("allergy", "low", "Sticking plaster"),
                    AlertSummary("allergy", "high", "Penicillin — anaphylaxis")),
            updated_by="Dr Amara Okafor")
    api.add(draft("John", "Smith", date(1975, 1, 3), sex="male", phone="555-0101"))
    api.add(draft("Ella", "Smithers", date(2024, 9, 1), phone="555-0102"))
    api.add(draft("Arthur", "Smith", date(1931, 2, 11), sex="male"),
            deceased_at=date(2025, 12, 2))
    api.add(draft("Aisha", "Khan", date(1990, 5, 5),
                  previous_names=(PreviousName("Aisha", "Smithson"),)))
    return api


@pytest.fixture
def reception_desk(qtbot: QtBot, clinic: FakePatientsApi
                   ) -> Iterator[tuple[MainWindow, PatientPresenters, FakePatientsApi]]:
    """The whole wiring (MainWindow + build_patient_presenters) over ``clinic``, signed in
    as a receptionist and shown; any register/edit form still open is closed after."""
    window = MainWindow()
    qtbot.addWidget(window)
    presenters = build_patient_presenters(window, clinic, InlineTaskRunner(),
                                          today=lambda: TODAY)
    window.set_signed_in("Rosa Reception (receptionist)")
    window.show_work()
    window.show()
    qtbot.waitExposed(window)
    yield window, presenters, clinic
    for dialog in (presenters.editor.duplicates, presenters.editor.dialog):
        if dialog is not None:
            dialog.done(0)
