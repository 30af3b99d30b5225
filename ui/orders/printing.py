"""A signed prescription on paper: the clinic's header, the patient (name, date of birth,
MRN, address), the prescription, the prescriber, a signature line and when it was printed.

``render_prescription`` paints on any paint device (a QPdfWriter, a QPrinter, a QImage);
``write_pdf`` makes a PDF file; ``show_print_dialog`` opens the system print dialog and
prints when the user confirms.
"""

from __future__ import annotations

from datetime import tzinfo

from PySide6.QtCore import QMarginsF, QRectF, Qt
from PySide6.QtGui import (
    QFont,
    QPagedPaintDevice,
    QPageLayout,
    QPageSize,
    QPaintDevice,
    QPainter,
    QPdfWriter,
    QPen,
)
from PySide6.QtPrintSupport import QPrintDialog, QPrinter
from PySide6.QtWidgets import QWidget

from backend_client.chart.dto import PrintablePrescription
from ui.orders.common import when_text
from ui.orders.prescription_dialog import describe, dose_text
from ui.patients.formatting import format_date

MARGIN_MM = 12.0
PDF_DPI = 300


def prescription_lines(p: PrintablePrescription, zone: tzinfo | None = None
                       ) -> dict[str, list[str]]:
    """The printed text, block by block (what ``render_prescription`` paints)."""
    d = p.item.draft
    rx = [describe(d), dose_text(d), f"Quantity: {d.quantity}    Refills: {d.refills}"]
    if d.starts_on is not None:
        rx.append(f"Start on {format_date(d.starts_on)}")
    if d.instructions:
        rx.append(f"Instructions: {d.instructions}")
    prescriber = [p.prescriber_name + (f" · {p.prescriber_number}"
                                       if p.prescriber_number else "")]
    if p.item.signed_at is not None:
        prescriber.append(f"Signed electronically by {p.item.signed_by} on "
                          f"{when_text(p.item.signed_at, zone)}")
    return {
        "clinic": list(p.clinic_lines),
        "patient": [p.patient_name,
                    f"Born {format_date(p.patient_birth_date)} · MRN {p.patient_mrn}",
                    p.patient_address],
        "rx": rx,
        "prescriber": prescriber,
        "footer": [f"Prescription no. {p.item.id} · printed {when_text(p.printed_at, zone)}"],
    }


def render_prescription(painter: QPainter, device: QPaintDevice, p: PrintablePrescription,
                        zone: tzinfo | None = None) -> None:
    """Paint one page on ``device`` (already begun by ``painter``)."""
    dpi = device.logicalDpiX()

    def mm(value: float) -> float:
        return value * dpi / 25.4

    page = QRectF(0, 0, device.width(), device.height()).adjusted(
        mm(MARGIN_MM), mm(MARGIN_MM), -mm(MARGIN_MM), -mm(MARGIN_MM))
    blocks = prescription_lines(p, zone)
    y = page.top()
    flags = int(Qt.AlignmentFlag.AlignLeft | Qt.TextFlag.TextWordWrap)

    def text(line: str, size: float, *, bold: bool = False, gap: float = 0.8) -> None:
        nonlocal y
        font = QFont("DejaVu Sans", 1)
        font.setPointSizeF(size)
        font.setBold(bold)
        painter.setFont(font)
        box = painter.boundingRect(QRectF(page.left(), y, page.width(), page.height()),
                                   flags, line)
        painter.drawText(QRectF(page.left(), y, page.width(), box.height()), flags, line)
        y += box.height() + mm(gap)

    def rule(weight: float = 0.3) -> None:
        nonlocal y
        painter.setPen(QPen(Qt.GlobalColor.black, mm(weight)))
        painter.drawLine(int(page.left()), int(y), int(page.right()), int(y))
        y += mm(3)

    def caption(word: str) -> None:
        text(word.upper(), 7.5, bold=True, gap=0.5)

    clinic = blocks["clinic"]
    if clinic:
        text(clinic[0], 13, bold=True)
    for line in clinic[1:]:
        text(line, 9, gap=0.3)
    y += mm(1)
    rule(0.5)
    caption("Patient")
    name, *rest = blocks["patient"]
    text(name, 12, bold=True)
    for line in rest:
        if line:
            text(line, 10, gap=0.4)
    y += mm(2)
    rule()
    text("℞", 20, bold=True, gap=0.5)
    first, *details = blocks["rx"]
    text(first, 13, bold=True)
    for line in details:
        text(line, 10.5)
    y += mm(4)
    rule()
    caption("Prescriber")
    for line in blocks["prescriber"]:
        text(line, 10, gap=0.4)
    # The signature line sits low on the page, room above it for a pen.
    y = max(y + mm(14), page.bottom() - mm(28))
    painter.setPen(QPen(Qt.GlobalColor.black, mm(0.3)))
    painter.drawLine(int(page.left()), int(y), int(page.left() + page.width() * 0.55), int(y))
    y += mm(1)
    text("Signature", 8)
    y = page.bottom() - mm(6)
    text(blocks["footer"][0], 7.5)


def _print_on(device: QPagedPaintDevice, p: PrintablePrescription,
              zone: tzinfo | None) -> None:
    painter = QPainter()
    if not painter.begin(device):
        raise OSError("The printer or file could not be opened for writing.")
    try:
        render_prescription(painter, device, p, zone)
    finally:
        painter.end()


def write_pdf(path: str, p: PrintablePrescription, *, zone: tzinfo | None = None,
              size: QPageSize.PageSizeId = QPageSize.PageSizeId.A5) -> None:
    """The prescription as a one-page PDF at ``path``."""
    writer = QPdfWriter(path)
    writer.setResolution(PDF_DPI)
    writer.setTitle(f"Prescription {p.item.id}")
    writer.setCreator("Dr. Assistant")
    writer.setPageLayout(QPageLayout(QPageSize(size), QPageLayout.Orientation.Portrait,
                                     QMarginsF(0, 0, 0, 0)))
    _print_on(writer, p, zone)


def show_print_dialog(parent: QWidget, p: PrintablePrescription,
                      zone: tzinfo | None = None) -> QPrintDialog:
    """The system print dialog (window-modal, so the app keeps running); prints on OK."""
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    printer.setPageSize(QPageSize(QPageSize.PageSizeId.A5))
    printer.setDocName(f"Prescription {p.item.id}")
    dialog = QPrintDialog(printer, parent)
    dialog.setWindowTitle("Print prescription")
    dialog.setObjectName("print-prescription-dialog")
    dialog.accepted.connect(lambda: _print_on(printer, p, zone))
    dialog.finished.connect(dialog.deleteLater)
    dialog._printer = printer  # type: ignore[attr-defined]  # kept alive with the dialog
    dialog.setWindowModality(Qt.WindowModality.WindowModal)
    dialog.show()
    return dialog
