"""A patient's prescriptions: the table and its actions (new, sign, discontinue, print)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, tzinfo

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import QWidget

from backend_client.chart.dto import PrescriptionItem
from ui.orders.common import ItemTableModel, SectionView, when_text

STATUS_LABELS = {"draft": "Draft (not signed)", "active": "Active", "stopped": "Stopped",
                 "completed": "Completed"}
NOT_PRESCRIBER = "Only a prescriber can sign; your role does not include prescribing."


def prescription_model(zone: tzinfo | None, today: Callable[[], date]
                       ) -> ItemTableModel[PrescriptionItem]:
    def status(p: PrescriptionItem) -> str:
        label = STATUS_LABELS.get(p.status, p.status)
        return f"{label}: {p.stop_reason}" if p.stop_reason else label

    def signed(p: PrescriptionItem) -> str:
        if not p.signed:
            return ""
        return f"{p.signed_by}, {when_text(p.signed_at, zone, today())}"

    return ItemTableModel[PrescriptionItem](
        (("Drug", lambda p: p.draft.drug),
         ("Strength", lambda p: f"{p.draft.strength} {p.draft.unit}"),
         ("Form", lambda p: p.draft.form),
         ("Dose", lambda p: p.draft.dose),
         ("Route", lambda p: p.draft.route),
         ("Frequency", lambda p: p.draft.frequency),
         ("Duration", lambda p: f"{p.draft.duration_days} d"),
         ("Quantity", lambda p: p.draft.quantity),
         ("Refills", lambda p: str(p.draft.refills)),
         ("Status", status),
         ("Signed", signed)),
        emphasis=lambda p: p.status == "draft",
        tooltip=lambda p: "\n".join(t for t in (
            p.draft.instructions and f"Instructions: {p.draft.instructions}",
            f"Prescriber: {p.prescriber}") if t))


class PrescriptionsSectionView(SectionView):
    """Signals:
        new_requested(): "New prescription…" (Alt+N or Insert).
        sign_requested(object): "Sign" the chosen draft (Alt+G: Alt+S is the Schedule tab).
        discontinue_requested(object): "Discontinue…" (Alt+D or Delete).
        print_requested(object): "Print…" a signed one (Alt+R or Ctrl+P).
    """

    new_requested = Signal()
    sign_requested = Signal(object)
    discontinue_requested = Signal(object)
    print_requested = Signal(object)

    def __init__(self, zone: tzinfo | None, today: Callable[[], date], *,
                 can_prescribe: bool, parent: QWidget | None = None) -> None:
        self.model = prescription_model(zone, today)
        super().__init__("prescriptions-section", self.model,
                         (("new", "&New prescription…", "Write a prescription (Insert)"),
                          ("sign", "Si&gn", "Sign the chosen draft prescription"),
                          ("discontinue", "&Discontinue…",
                           "Stop the chosen prescription; you will be asked why (Delete)"),
                          ("print", "P&rint…", "Print the chosen signed prescription "
                                               "(Ctrl+P)")),
                         parent)
        self.can_prescribe = can_prescribe
        self._busy = False
        self.buttons["new"].clicked.connect(self.new_requested)
        self.buttons["sign"].clicked.connect(self.on_sign_clicked)
        self.buttons["discontinue"].clicked.connect(self.on_discontinue_clicked)
        self.buttons["print"].clicked.connect(self.on_print_clicked)
        self.shortcut("Insert", self.new_requested.emit)
        self.shortcut("Delete", self.on_discontinue_clicked)
        self.shortcut("Ctrl+P", self.on_print_clicked)
        self.table.doubleClicked.connect(lambda _i: self.on_print_clicked())
        if not can_prescribe:
            self.buttons["sign"].setToolTip(NOT_PRESCRIBER)
        self.selection_changed.connect(self._update_buttons)
        self._update_buttons()

    def show_prescriptions(self, items: tuple[PrescriptionItem, ...]) -> None:
        chosen = self.selected()
        self.model.set_items(items)
        if chosen is not None:
            self.select_id(chosen.id)
        drafts = sum(1 for p in items if p.status == "draft")
        active = sum(1 for p in items if p.status == "active")
        self.status.setText("No prescriptions yet." if not items else
                            f"{active} active, {drafts} waiting to be signed.")
        self._update_buttons()

    def set_busy(self, text: str) -> None:
        self._busy = bool(text)
        if text:
            self.status.setText(text)
        self._update_buttons()

    def _update_buttons(self) -> None:
        item: PrescriptionItem | None = self.selected()
        idle = not self._busy
        self.buttons["sign"].setEnabled(idle and self.can_prescribe and item is not None
                                        and item.status == "draft")
        self.buttons["discontinue"].setEnabled(idle and item is not None
                                               and item.status in ("draft", "active"))
        self.buttons["print"].setEnabled(idle and item is not None and item.signed
                                         and item.status == "active")

    def _chosen(self, button: str) -> PrescriptionItem | None:
        item: PrescriptionItem | None = self.selected()
        return item if item is not None and self.buttons[button].isEnabled() else None

    @Slot()
    def on_sign_clicked(self) -> None:
        if (item := self._chosen("sign")) is not None:
            self.sign_requested.emit(item)

    @Slot()
    def on_discontinue_clicked(self) -> None:
        if (item := self._chosen("discontinue")) is not None:
            self.discontinue_requested.emit(item)

    @Slot()
    def on_print_clicked(self) -> None:
        if (item := self._chosen("print")) is not None:
            self.print_requested.emit(item)

