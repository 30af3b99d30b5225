"""The chart at 1280×800 and at 700 px wide: the header wraps rather than clipping (many
allergies, long names), buttons keep their text, every label has the room its text needs.
Screenshots of both sizes and of a form, to look at."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QRect, Qt
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QCheckBox,
    QLabel,
    QStyle,
    QWidget,
)
from pytestqt.qtbot import QtBot

from backend_client.chart.dto import AlertDraft
from desktop.presenters.chart import ChartPresenter
from tests.gui.chart_support import Desk, close_dialogs, desk, search
from ui.chart.chart_view import ChartView
from ui.chart.list_section import ListSectionView

SHOTS = Path("/tmp/shots-chart")


def _clipped(root: QWidget) -> list[str]:
    """Visible labels whose text needs more room than they have, and buttons narrower than
    their text."""
    out = []
    for w in root.findChildren(QWidget):
        if not w.isVisibleTo(root) or w.width() <= 0:
            continue
        name = w.objectName() or type(w).__name__
        if isinstance(w, QLabel) and w.text():
            if w.wordWrap():
                need = w.heightForWidth(w.width())
                if need > w.height() + 1:
                    out.append(f"{name} {w.text()[:40]!r}: needs {need} px high, has "
                               f"{w.height()}")
            elif w.sizeHint().width() > w.width() + 1:
                out.append(f"{name} {w.text()[:40]!r}: needs {w.sizeHint().width()} px "
                           f"wide, has {w.width()}")
        elif isinstance(w, QAbstractButton) and not isinstance(w, QCheckBox) and w.text() \
                and w.width() < w.minimumSizeHint().width():
            out.append(f"{name} {w.text()!r}: {w.width()} < {w.minimumSizeHint().width()}")
        elif isinstance(w, QCheckBox) and w.width() < w.sizeHint().width():
            out.append(f"{name} {w.text()!r}: {w.width()} < {w.sizeHint().width()}")
    return out


def _cells_cut(section: ListSectionView) -> list[str]:
    """Cells whose text does not fit their column (wrapped at word boundaries) or row."""
    table, model = section.table, section.model
    metrics = table.fontMetrics()
    out = []
    for column in range(model.columnCount()):
        if table.isColumnHidden(column):
            continue
        # The cell's text margins, as QCommonStyle lays out an item's text.
        margin = table.style().pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin, None,
                                           table) + 1
        width = table.columnWidth(column) - 2 * margin
        for row in range(model.rowCount()):
            text = str(model.index(row, column).data() or "")
            need = metrics.boundingRect(QRect(0, 0, width, 10_000),
                                        int(Qt.TextFlag.TextWordWrap), text)
            if need.width() > width or need.height() > table.rowHeight(row):
                out.append(f"{model.HEADERS[column]} {text!r}: needs {need.width()}x"
                           f"{need.height()}, has {width}x{table.rowHeight(row)}")
    return out


def _open(qtbot: QtBot, d: Desk) -> ChartPresenter:
    c = d.clinic.chart
    for text, severity, reaction in (
            ("Co-trimoxazole (sulfamethoxazole with trimethoprim)", "high",
             "Stevens-Johnson syndrome"),
            ("Iodinated contrast media", "moderate", "urticaria and wheeze"),
            ("Latex", "moderate", "contact dermatitis"),
            ("Peanuts", "high", "anaphylaxis")):
        c.seed_alert(d.clinic.muller, AlertDraft("allergy", text, severity, reaction))
    c.seed_alert(d.clinic.muller, AlertDraft("infection", "MRSA carrier — barrier nursing",
                                             "high"))
    search(qtbot, d, "müller")
    qtbot.keyClick(d.window.patient_list.search_box, Qt.Key.Key_Return)
    qtbot.keyClick(d.window.patient_list.table, Qt.Key.Key_Return)
    assert d.presenters.charts is not None
    chart = d.presenters.charts.current()
    assert chart is not None
    return chart


@pytest.mark.parametrize("size", [(1280, 800), (700, 800)])
def test_the_chart_fits_without_clipping(qtbot: QtBot, size: tuple[int, int]) -> None:
    d = desk(qtbot, size=size)
    chart = _open(qtbot, d)
    view: ChartView = chart.view
    QApplication.processEvents()  # test only: let the layouts settle before measuring
    assert d.window.width() == size[0], "the window can be made this narrow"
    header = view.header
    chips = [w for w in header.allergies.widgets() if isinstance(w, QLabel)]
    assert len(chips) == 6
    # Most severe first, and every chip inside the header's width.
    assert [c.text().startswith("⚠") for c in chips] == [True] * 3 + [False] * 3
    assert all(c.geometry().right() <= header.allergies.width() for c in chips)
    # The header is shown whole: its scroll area is as tall as its content needs.
    assert view.header_scroll.height() >= min(header.heightForWidth(header.width())
                                              if header.hasHeightForWidth()
                                              else header.sizeHint().height(),
                                              view.height() // 2)
    problems = _clipped(view.header)
    for key in ("timeline", "problems", "medications", "alerts"):
        view.show_section(key)
        QApplication.processEvents()
        section = view.section_widget(key)
        assert isinstance(section, ListSectionView)
        problems += [f"{key}: {p}" for p in _clipped(section) + _cells_cut(section)]
    assert problems == []
    SHOTS.mkdir(exist_ok=True)
    view.show_section("alerts")
    QApplication.processEvents()
    assert d.window.grab().save(str(SHOTS / f"chart-{size[0]}.png"))
    view.show_section("timeline")
    QApplication.processEvents()
    assert d.window.grab().save(str(SHOTS / f"chart-timeline-{size[0]}.png"))
    assert d.window.width() == size[0], "still this narrow with every section shown"
    close_dialogs()


def test_a_form_fits_at_its_size_and_names_the_patient(qtbot: QtBot) -> None:
    d = desk(qtbot, size=(700, 800))
    chart = _open(qtbot, d)
    view = chart.view.section_widget("medications")
    assert isinstance(view, ListSectionView)
    chart.view.show_section("medications", focus=True)
    qtbot.keyClick(view.table, Qt.Key.Key_F2)
    dialog = chart.section("medications").dialog  # type: ignore[attr-defined]
    assert dialog is not None
    qtbot.waitExposed(dialog)
    dialog.name.clear()
    dialog.dose.clear()
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    QApplication.processEvents()
    assert _clipped(dialog) == []
    SHOTS.mkdir(exist_ok=True)
    assert dialog.grab().save(str(SHOTS / "chart-medication-form.png"))
    close_dialogs()


def test_the_death_form_and_its_confirmation(qtbot: QtBot) -> None:
    d = desk(qtbot, size=(700, 800))
    search(qtbot, d, "müller")
    qtbot.keyClick(d.window.patient_list.search_box, Qt.Key.Key_Return)
    qtbot.keyClick(d.window.patient_list.table, Qt.Key.Key_Return)
    d.window.show_patients()
    qtbot.mouseClick(d.window.patient_header.deceased_button, Qt.MouseButton.LeftButton)
    dialog = d.presenters.editor.deceased
    assert dialog is not None
    qtbot.waitExposed(dialog)
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    QApplication.processEvents()
    assert _clipped(dialog) == []
    SHOTS.mkdir(exist_ok=True)
    assert dialog.grab().save(str(SHOTS / "death-form.png"))
    dialog.date_field.edit.setText("20 Nov 2026")
    dialog.source.setCurrentIndex(1)
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    box = dialog.confirmation
    assert box is not None
    qtbot.waitExposed(box)
    assert box.grab().save(str(SHOTS / "death-confirm.png"))
    close_dialogs()
