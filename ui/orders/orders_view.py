"""A patient's orders (labs, imaging, referrals, procedures): the table, newest first, and
the "New order" dialog."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, tzinfo

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from backend_client.chart.dto import ORDER_KINDS, OrderDraft, OrderItem
from backend_client.dto import PatientRecord
from ui.chart.banner import PatientBanner
from ui.orders.common import (
    ItemTableModel,
    SectionView,
    dialog_buttons,
    show_field_errors,
    when_text,
)
from ui.scheduling.booking_dialog import STYLE, error_label, show_error

KIND_LABELS = {"lab": "Laboratory", "imaging": "Imaging", "referral": "Referral",
               "procedure": "Procedure", "other": "Other"}
STATUS_LABELS = {"draft": "Draft", "active": "Active", "completed": "Completed",
                 "cancelled": "Discontinued"}


def order_model(zone: tzinfo | None, today: Callable[[], date]) -> ItemTableModel[OrderItem]:
    def status(o: OrderItem) -> str:
        label = STATUS_LABELS.get(o.status, o.status)
        return f"{label}: {o.discontinued_reason}" if o.discontinued_reason else label

    return ItemTableModel[OrderItem](
        (("Kind", lambda o: KIND_LABELS.get(o.draft.kind, o.draft.kind)),
         ("Description", lambda o: o.draft.description
          + (f" ({o.draft.code})" if o.draft.code else "")),
         ("Status", status),
         ("Ordered by", lambda o: o.ordered_by),
         ("When", lambda o: when_text(o.stamp.recorded_at, zone, today()))),
        tooltip=lambda o: o.draft.details)


class OrdersSectionView(SectionView):
    """Signals:
        new_requested(): "New order…" (Alt+N or Insert).
        discontinue_requested(object): "Discontinue…" on the chosen OrderItem (Alt+D or
            Delete).
    """

    new_requested = Signal()
    discontinue_requested = Signal(object)

    def __init__(self, zone: tzinfo | None, today: Callable[[], date],
                 parent: QWidget | None = None) -> None:
        self.model = order_model(zone, today)
        super().__init__("orders-section", self.model,
                         (("new", "&New order…", "Order a test, imaging, a referral (Insert)"),
                          ("discontinue", "&Discontinue…",
                           "Stop the chosen order; you will be asked why (Delete)")),
                         parent)
        self.buttons["new"].clicked.connect(self.new_requested)
        self.buttons["discontinue"].clicked.connect(self.on_discontinue_clicked)
        self.shortcut("Insert", self.new_requested.emit)
        self.shortcut("Delete", self.on_discontinue_clicked)
        self.selection_changed.connect(self._update_buttons)
        self._update_buttons()

    def show_orders(self, items: tuple[OrderItem, ...]) -> None:
        chosen = self.selected()
        self.model.set_items(items)
        if chosen is not None:
            self.select_id(chosen.id)
        n = len(items)
        active = sum(1 for o in items if o.status == "active")
        self.status.setText("No orders yet." if not n else
                            f"{n} order{'s' if n != 1 else ''}, {active} active.")
        self._update_buttons()

    def _update_buttons(self) -> None:
        item = self.selected()
        self.buttons["discontinue"].setEnabled(item is not None
                                               and item.status in ("draft", "active"))

    @Slot()
    def on_discontinue_clicked(self) -> None:
        item = self.selected()
        if item is not None and item.status in ("draft", "active"):
            self.discontinue_requested.emit(item)


class OrderDialog(QDialog):
    """Kind, description, code and details. Failures leave everything as typed and say
    what is wrong next to the field.

    Signals:
        place_requested(object): the OrderDraft to place.
    """

    place_requested = Signal(object)

    def __init__(self, parent: QWidget | None, record: PatientRecord, today: date) -> None:
        super().__init__(parent)
        self.setObjectName("order-dialog")
        self.setWindowTitle("New order")
        self.setStyleSheet(STYLE)
        self.banner = PatientBanner(record, today, self)
        self.failure = error_label(self)
        form = QFormLayout()
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.errors: dict[str, QLabel] = {}

        def row(key: str, caption: str, widget: QWidget) -> None:
            cell = QVBoxLayout()
            cell.setSpacing(2)
            cell.addWidget(widget)
            self.errors[key] = error_label(self)
            cell.addWidget(self.errors[key])
            label = QLabel(caption, self)
            label.setBuddy(widget)
            form.addRow(label, cell)

        self.kind = QComboBox(self)
        self.kind.setAccessibleName("Kind of order")
        for kind in ORDER_KINDS:
            self.kind.addItem(KIND_LABELS.get(kind, kind), kind)
        row("kind", "&Kind", self.kind)
        self.description = QLineEdit(self)
        self.description.setAccessibleName("What is ordered")
        self.description.setPlaceholderText("e.g. Full blood count")
        self.description.setMaxLength(300)
        row("description", "&What", self.description)
        self.code = QLineEdit(self)
        self.code.setAccessibleName("Code")
        self.code.setPlaceholderText("optional, e.g. LOINC 58410-2")
        self.code.setMaxLength(40)
        row("code", "C&ode", self.code)
        self.details = QPlainTextEdit(self)
        self.details.setAccessibleName("Details")
        self.details.setPlaceholderText("Clinical question, urgency, instructions")
        self.details.setTabChangesFocus(True)
        self.details.setMinimumHeight(80)
        row("details", "D&etails", self.details)

        buttons, self.place_button = dialog_buttons(self, "Place order", self.on_place)
        layout = QVBoxLayout(self)
        layout.addWidget(self.banner)
        layout.addWidget(self.failure)
        layout.addLayout(form)
        layout.addStretch(1)
        layout.addLayout(buttons)
        self.resize(560, self.sizeHint().height())
        self.description.setFocus()

    def draft(self) -> OrderDraft:
        return OrderDraft(kind=str(self.kind.currentData()),
                          description=self.description.text().strip(),
                          code=self.code.text().strip(),
                          details=self.details.toPlainText().strip())

    def show_errors(self, errors: dict[str, str]) -> None:
        show_field_errors(self.errors, self.failure, errors)
        first = next((k for k in self.errors if k in errors), None)
        widget = {"kind": self.kind, "description": self.description, "code": self.code,
                  "details": self.details}.get(first or "")
        if widget is not None:
            widget.setFocus()

    def show_failure(self, text: str) -> None:
        show_error(self.failure, text)

    def set_busy(self, busy: bool) -> None:
        self.place_button.setEnabled(not busy)
        self.place_button.setText("Placing…" if busy else "Place order")

    @Slot()
    def on_place(self) -> None:
        if self.place_button.isEnabled():
            self.place_requested.emit(self.draft())

