"""Shared pieces for the chart's GUI tests: a small clinic with charts, and the window
wired as the app wires it (build_patient_presenters with a ChartApi)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QDialog
from pytestqt.qtbot import QtBot

from backend_client.chart.dto import AlertDraft, MedicationDraft, ProblemDraft
from backend_client.dto import AppointmentInfo
from desktop.bootstrap import PatientPresenters, build_patient_presenters
from desktop.bridges.notifications import ChangeNotifications
from desktop.tasks import InlineTaskRunner
from tests.gui.fake_chart import FakeChartApi
from tests.gui.fake_patients import FakePatientsApi, draft
from ui.main_window import MainWindow

TODAY = date(2026, 11, 27)


@dataclass
class Clinic:
    patients: FakePatientsApi
    chart: FakeChartApi
    muller: int
    obrien: int
    khan: int


def clinic() -> Clinic:
    patients = FakePatientsApi()
    muller = patients.add(draft("Anna", "Müller", date(1984, 3, 12)))
    obrien = patients.add(draft("Seán", "O'Brien", date(1971, 8, 30), sex="male"))
    patients.records[obrien.id] = replace(obrien, restricted=True)
    khan = patients.add(draft("Aisha", "Khan", date(1990, 5, 5)))
    chart = FakeChartApi(list(patients.records.values()))
    m = muller.id
    chart.seed_alert(m, AlertDraft("allergy", "Sticking plaster", "low", "rash"))
    chart.seed_alert(m, AlertDraft("allergy", "Penicillin", "high", "anaphylaxis"))
    chart.seed_alert(m, AlertDraft("clinical", "Falls risk", "moderate"))
    chart.seed_problem(m, ProblemDraft("Type 2 diabetes mellitus", "E11.9", date(2019, 4, 1)))
    chart.seed_problem(m, ProblemDraft("Essential hypertension", "I10", date(2021, 1, 15)))
    chart.seed_medication(m, MedicationDraft("Metformin", "500 mg", "oral", "twice daily",
                                             date(2019, 4, 2)))
    chart.seed_medication(m, MedicationDraft("Ramipril", "5 mg", "oral", "once daily"))
    chart.seed_encounter(m, datetime(2026, 10, 2, 9, 10, tzinfo=UTC), "Diabetes review",
                         summary="HbA1c 52; continue metformin.")
    chart.seed_encounter(m, datetime(2026, 11, 27, 9, 40, tzinfo=UTC), "Cough for 2 weeks",
                         status="open")
    chart.appointments[m] = AppointmentInfo(
        7, 1, 1, m, "Müller, Anna", muller.mrn, muller.draft.birth_date,  # type: ignore[arg-type]
        1, "Consultation", "#1976d2", datetime(2026, 11, 27, 9, 40, tzinfo=UTC),
        datetime(2026, 11, 27, 9, 55, tzinfo=UTC), "arrived", "Cough")
    return Clinic(patients, chart, m, obrien.id, khan.id)


@dataclass
class Desk:
    window: MainWindow
    presenters: PatientPresenters
    clinic: Clinic
    notifications: ChangeNotifications


def desk(qtbot: QtBot, *, size: tuple[int, int] = (1280, 800)) -> Desk:
    c = clinic()
    window = MainWindow()
    qtbot.addWidget(window)
    notifications = ChangeNotifications()
    presenters = build_patient_presenters(window, c.patients, InlineTaskRunner(),
                                          today=lambda: TODAY, notifications=notifications,
                                          chart=c.chart)
    window.patient_list.model._today = lambda: TODAY  # noqa: SLF001 (fixed ages)
    window.set_signed_in("Dr Anna Demo (doctor)")
    window.show_work()
    window.resize(*size)
    window.show()
    qtbot.waitExposed(window)
    return Desk(window, presenters, c, notifications)


def search(qtbot: QtBot, d: Desk, text: str) -> None:
    with qtbot.waitSignal(d.presenters.list.results_shown, timeout=2000):
        d.window.patient_list.search_box.setText(text)


def close_dialogs() -> None:
    for widget in QApplication.topLevelWidgets():
        if isinstance(widget, QDialog) and widget.isVisible():
            widget.done(0)


def key(qtbot: QtBot, widget: object, k: Qt.Key,
        mod: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier) -> None:
    qtbot.keyClick(widget, k, mod)  # type: ignore[arg-type]
