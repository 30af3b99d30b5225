"""Printing a signed prescription: Print… fetches what is printed, the page is painted with
the patient (name, date of birth, MRN, address), the drug, the prescriber and a signature
line; the PDF's text is read back; the system print dialog opens when asked."""

from __future__ import annotations

import re
import zlib
from datetime import date
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QPainter
from PySide6.QtPrintSupport import QPrintDialog
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot

from backend_client.chart.dto import PrescriptionDraft, PrintablePrescription
from desktop.presenters.orders import make_prescriptions_section
from desktop.tasks import InlineTaskRunner
from tests.gui.conftest import ARTIFACTS
from tests.gui.fake_orders import FakeOrdersApi, patient
from ui.orders.printing import render_prescription, show_print_dialog, write_pdf

TODAY = date(2026, 12, 2)
DRAFT = PrescriptionDraft("Metformin", "500", "mg", frequency="twice daily",
                          duration_days=28, refills=2, instructions="Take with food")


def pdf_text(path: Path) -> str:
    """The text drawn in a PDF written by QPdfWriter, one line per text object, glyphs
    mapped back to characters through each font's ToUnicode map (Qt maps its space glyph
    to a tab: compare words, not whitespace)."""
    data = path.read_bytes()
    objects = {int(n): body for n, body in re.findall(rb"(\d+) 0 obj(.*?)endobj", data, re.S)}

    def stream(body: bytes) -> bytes:
        head, rest = body.split(b"stream", 1)
        raw = rest.lstrip(b"\r\n").rsplit(b"endstream", 1)[0]
        return zlib.decompress(raw) if b"FlateDecode" in head else raw

    def cmap(body: bytes) -> dict[int, str]:
        text = stream(body).decode("latin-1")
        out: dict[int, str] = {}
        for block in re.findall(r"beginbfrange(.*?)endbfrange", text, re.S):
            for lo, hi, dst in re.findall(r"<(\w+)>\s*<(\w+)>\s*(\[[^\]]*\]|<\w+>)", block):
                if dst.startswith("["):
                    for i, code in enumerate(re.findall(r"<(\w+)>", dst)):
                        out[int(lo, 16) + i] = bytes.fromhex(code).decode("utf-16-be")
                else:
                    start = int(dst[1:-1], 16)
                    for i in range(int(hi, 16) - int(lo, 16) + 1):
                        out[int(lo, 16) + i] = chr(start + i)
        for block in re.findall(r"beginbfchar(.*?)endbfchar", text, re.S):
            for src, dst in re.findall(r"<(\w+)>\s*<(\w+)>", block):
                out[int(src, 16)] = bytes.fromhex(dst).decode("utf-16-be")
        return out

    fonts: dict[int, dict[int, str]] = {}
    for number, body in objects.items():
        found = re.search(rb"/ToUnicode (\d+) 0 R", body)
        if b"/Type /Font" in body and found:
            fonts[number] = cmap(objects[int(found.group(1))])
    lines: list[str] = []
    for body in objects.values():
        if b"stream" not in body or b"/Length1" in body:
            continue
        try:
            content = stream(body).decode("latin-1")
        except zlib.error:
            continue
        for block in re.findall(r"BT(.*?)ET", content, re.S):
            font = re.search(r"/F(\d+) ", block)
            table = fonts.get(int(font.group(1)), {}) if font else {}
            glyphs = re.findall(r"<([0-9A-Fa-f]+)> Tj", block)
            lines.append("".join(table.get(int(g, 16), "?") for g in glyphs))
    return "\n".join(lines)


def signed(api: FakeOrdersApi) -> int:
    return api.add_prescription(7, DRAFT, signed=True).id


def test_print_makes_a_page_with_the_patient_and_the_drug(
        qtbot: QtBot, tmp_path: Path) -> None:
    api = FakeOrdersApi()
    rx_id = signed(api)
    printed: list[PrintablePrescription] = []

    def to_pdf(parent: QWidget, p: PrintablePrescription) -> None:
        printed.append(p)
        write_pdf(str(tmp_path / "rx.pdf"), p)

    section = make_prescriptions_section(patient(), api, InlineTaskRunner(),
                                         can_prescribe=True, today=lambda: TODAY,
                                         print_handler=to_pdf)
    qtbot.addWidget(section.widget())
    section.widget().show()
    section.load(lambda: None)
    qtbot.waitExposed(section.widget())
    section.widget().activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is section.widget(), timeout=2000)
    section.view.table.selectRow(0)
    qtbot.keyClick(section.view.table, Qt.Key.Key_P, Qt.KeyboardModifier.ControlModifier)
    assert [p.item.id for p in printed] == [rx_id]
    assert ("printable", (rx_id,)) in api.calls                 # fetched (and audited) once
    pdf = tmp_path / "rx.pdf"
    assert pdf.read_bytes().startswith(b"%PDF")
    lines = [" ".join(line.split()) for line in pdf_text(pdf).splitlines()]
    text = "\n".join(lines)
    for expected in ("Linden Street Medical Centre", "Anna Müller",
                     "Born 12 Mar 1984 · MRN 000123", "4 Linden Street, 10115 Berlin",
                     "Metformin 500 mg tablet", "1 tablet twice daily, oral, for 28 days",
                     "Quantity: 56", "Instructions: Take with food",
                     "Dr Anna Demo · LANR 123456789", "Signature", "Prescription no. 1"):
        assert expected in text, f"{expected!r} not printed:\n{text}"


def test_the_page_painted_on_an_image_looks_like_a_prescription(qtbot: QtBot) -> None:
    api = FakeOrdersApi()
    printable = api.printable(signed(api))
    image = QImage(1240, 1748, QImage.Format.Format_RGB32)      # A5 at 150 dpi
    image.setDotsPerMeterX(5906)
    image.setDotsPerMeterY(5906)
    image.fill(Qt.GlobalColor.white)
    painter = QPainter(image)
    render_prescription(painter, image, printable)
    painter.end()
    ARTIFACTS.mkdir(exist_ok=True)
    assert image.save(str(ARTIFACTS / "prescription-print.png"))
    # Something is painted in the top (header), the middle (drug) and near the bottom
    # (signature line), and nothing past the right margin.
    def inked(y0: int, y1: int, x0: int = 0, x1: int = 1240) -> bool:
        return any(image.pixelColor(x, y).value() < 128
                   for y in range(y0, y1, 3) for x in range(x0, x1, 3))
    assert inked(60, 200) and inked(480, 620) and inked(1450, 1650)
    assert not inked(0, 1748, 1240 - 60, 1240)


def test_print_opens_the_system_print_dialog(qtbot: QtBot) -> None:
    api = FakeOrdersApi()
    parent = QWidget()
    qtbot.addWidget(parent)
    parent.show()
    dialog = show_print_dialog(parent, api.printable(signed(api)))
    assert isinstance(dialog, QPrintDialog)
    qtbot.waitUntil(dialog.isVisible, timeout=2000)
    assert dialog.windowTitle() == "Print prescription"
    assert dialog.printer().pageLayout().pageSize().name() == "A5"
    dialog.reject()
    assert not dialog.isVisible()


def test_an_unsigned_prescription_cannot_be_printed(qtbot: QtBot) -> None:
    api = FakeOrdersApi()
    api.add_prescription(7, DRAFT)
    section = make_prescriptions_section(patient(), api, InlineTaskRunner(),
                                         can_prescribe=True, today=lambda: TODAY,
                                         print_handler=lambda *_a: None)
    qtbot.addWidget(section.widget())
    section.load(lambda: None)
    section.view.table.selectRow(0)
    assert not section.view.buttons["print"].isEnabled()
    section.view.on_print_clicked()                              # Ctrl+P does nothing either
    assert not any(c[0] == "printable" for c in api.calls)
