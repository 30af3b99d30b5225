"""The chart's Orders and Prescriptions sections (``ChartSection``s): list, place or write,
discontinue with a reason, sign (prescribers), print.

``OrdersApi.check_prescription`` is pure (no I/O, per its contract), so the prescription
form's live check calls it directly on the GUI thread, debounced by the dialog; every write
and read goes through the TaskRunner.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, tzinfo
from typing import Any

from PySide6.QtCore import QObject, Slot
from PySide6.QtWidgets import QWidget

from backend_client.chart.allergy_check import allergy_conflicts
from backend_client.chart.api import OrdersApi
from backend_client.chart.dto import (
    OrderDraft,
    OrderItem,
    PrescriptionDraft,
    PrescriptionItem,
    PrintablePrescription,
)
from backend_client.dto import PatientRecord
from backend_client.errors import Conflict, ValidationError
from desktop.presenters.messages import failure_sentence
from desktop.presenters.orders_common import ItemsSection, Runner, write_failure
from ui.orders.common import ReasonDialog
from ui.orders.orders_view import OrderDialog, OrdersSectionView
from ui.orders.prescription_dialog import PrescriptionDialog, describe
from ui.orders.prescriptions_view import PrescriptionsSectionView
from ui.orders.printing import show_print_dialog

PrintHandler = Callable[[QWidget, PrintablePrescription], object]
ORDER_REASONS = ("No longer needed", "Ordered in error", "Duplicate")
RX_REASONS = ("Course changed", "Side effects", "Prescribed in error")


class OrdersSection(ItemsSection):
    key = "orders"
    title = "&Orders"
    what = "order"
    actions = frozenset({"order"})

    def __init__(self, record: PatientRecord, api: OrdersApi, tasks: Runner, *,
                 today: Callable[[], date], zone: tzinfo | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(record, tasks, today=today, zone=zone, parent=parent)
        self.api = api
        self.view = OrdersSectionView(zone, today)
        self.view.new_requested.connect(self.on_view_new_requested)
        self.view.discontinue_requested.connect(self.on_view_discontinue_requested)

    def widget(self) -> QWidget:
        return self.view

    def _read(self) -> tuple[OrderItem, ...]:
        return self.api.orders(self.record.id)

    def _show(self, items: tuple[Any, ...]) -> None:
        self.view.show_orders(items)

    def _show_message(self, text: str) -> None:
        self.view.show_message(text)

    @Slot()
    def on_view_new_requested(self) -> None:
        dialog = OrderDialog(self.view, self.record, self.today())
        dialog.place_requested.connect(lambda d: self._place(dialog, d))
        self._open(dialog)

    def _place(self, dialog: OrderDialog, draft: OrderDraft) -> None:
        dialog.set_busy(True)
        pid = self.record.id

        def ok(item: OrderItem) -> None:
            dialog.set_busy(False)
            dialog.accept()
            self._fetch(then=lambda: self.view.select_id(item.id))

        def failed(exc: BaseException) -> None:
            dialog.set_busy(False)
            if isinstance(exc, ValidationError):
                dialog.show_errors(exc.errors)
            else:
                dialog.show_failure(failure_sentence(exc, "The order cannot be placed "
                                                          "right now"))

        self._write(lambda: self.api.place_order(pid, draft), ok, failed)

    @Slot(object)
    def on_view_discontinue_requested(self, item: OrderItem) -> None:
        dialog = ReasonDialog(self.view, record=self.record, today=self.today(),
                              title="Discontinue order",
                              what=f"Discontinue: {item.draft.description} "
                                   f"(ordered by {item.ordered_by})",
                              confirm="Discontinue order",
                              missing="Say why it is discontinued: pick a reason or type one.",
                              quick=ORDER_REASONS)
        dialog.reason_given.connect(lambda r: self._discontinue(dialog, item, r))
        self._open(dialog)

    def _discontinue(self, dialog: ReasonDialog, item: OrderItem, reason: str) -> None:
        dialog.set_busy(True)

        def ok(new: OrderItem) -> None:
            dialog.set_busy(False)
            dialog.accept()
            self._fetch(then=lambda: self.view.select_id(new.id))

        def failed(exc: BaseException) -> None:
            dialog.set_busy(False)
            dialog.show_failure(write_failure(exc, "order", "The order cannot be "
                                                            "discontinued right now"))
            if isinstance(exc, Conflict):
                self._fetch()

        self._write(lambda: self.api.discontinue_order(item.id, item.version, reason), ok,
                    failed)


class PrescriptionsSection(ItemsSection):
    key = "prescriptions"
    title = "Prescrip&tions"
    what = "prescription"
    actions = frozenset({"prescription"})

    def __init__(self, record: PatientRecord, api: OrdersApi, tasks: Runner, *,
                 can_prescribe: bool, today: Callable[[], date], zone: tzinfo | None = None,
                 print_handler: PrintHandler | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(record, tasks, today=today, zone=zone, parent=parent)
        self.api = api
        self.can_prescribe = can_prescribe
        self.print_handler: PrintHandler = print_handler or (
            lambda parent, p: show_print_dialog(parent, p, zone))
        self.view = PrescriptionsSectionView(zone, today, can_prescribe=can_prescribe)
        self.view.new_requested.connect(self.on_view_new_requested)
        self.view.sign_requested.connect(self.on_view_sign_requested)
        self.view.discontinue_requested.connect(self.on_view_discontinue_requested)
        self.view.print_requested.connect(self.on_view_print_requested)

    def widget(self) -> QWidget:
        return self.view

    def _read(self) -> tuple[PrescriptionItem, ...]:
        return self.api.prescriptions(self.record.id)

    def _show(self, items: tuple[Any, ...]) -> None:
        self.view.show_prescriptions(items)

    def _show_message(self, text: str) -> None:
        self.view.show_message(text)

    # ---------------------------------------------------------------- new

    @Slot()
    def on_view_new_requested(self) -> None:
        dialog = PrescriptionDialog(self.view, self.record, self.today())
        dialog.check_requested.connect(lambda d: self._check(dialog, d))
        dialog.save_requested.connect(lambda d: self._create(dialog, d))
        self._open(dialog)

    def _check(self, dialog: PrescriptionDialog, draft: PrescriptionDraft) -> None:
        # The patient's allergies as the chart read them (the record's clinical alerts):
        # no I/O either.
        dialog.show_allergy_warnings(allergy_conflicts(
            draft.drug, [(a.description, a.severity) for a in self.record.alerts
                         if a.kind == "allergy"]))
        # Pure by contract (no I/O), so called here on the GUI thread.
        try:
            normal = self.api.check_prescription(draft)
        except ValidationError as exc:
            dialog.show_errors(exc.errors)
            return
        dialog.show_checked(normal)

    def _create(self, dialog: PrescriptionDialog, draft: PrescriptionDraft) -> None:
        dialog.set_busy(True)
        pid = self.record.id

        def ok(item: PrescriptionItem) -> None:
            dialog.set_busy(False)
            dialog.accept()
            self._fetch(then=lambda: self.view.select_id(item.id))

        def failed(exc: BaseException) -> None:
            dialog.set_busy(False)
            if isinstance(exc, ValidationError):
                dialog.show_errors(exc.errors)
            else:
                dialog.show_failure(failure_sentence(exc, "The prescription cannot be "
                                                          "saved right now"))

        self._write(lambda: self.api.create_prescription(pid, draft), ok, failed)

    # ---------------------------------------------------------------- sign

    @Slot(object)
    def on_view_sign_requested(self, item: PrescriptionItem) -> None:
        self.view.set_busy(f"Signing {describe(item.draft)}…")

        def ok(new: PrescriptionItem) -> None:
            self.view.set_busy("")
            self._fetch(then=lambda: self.view.select_id(new.id))
            self.view.status.setText(f"Signed: {describe(new.draft)}.")

        def failed(exc: BaseException) -> None:
            self.view.set_busy("")
            self.view.show_message(write_failure(exc, "prescription", "The prescription "
                                                                      "cannot be signed now"))
            if isinstance(exc, Conflict):
                self._fetch(then=lambda: self.view.show_message(
                    write_failure(exc, "prescription", "")))

        self._write(lambda: self.api.sign_prescription(item.id, item.version), ok, failed)

    # ---------------------------------------------------------------- discontinue

    @Slot(object)
    def on_view_discontinue_requested(self, item: PrescriptionItem) -> None:
        dialog = ReasonDialog(self.view, record=self.record, today=self.today(),
                              title="Discontinue prescription",
                              what=f"Discontinue: {describe(item.draft)}",
                              confirm="Discontinue prescription",
                              missing="Say why it is discontinued: pick a reason or type one.",
                              quick=RX_REASONS)
        dialog.reason_given.connect(lambda r: self._discontinue(dialog, item, r))
        self._open(dialog)

    def _discontinue(self, dialog: ReasonDialog, item: PrescriptionItem, reason: str) -> None:
        dialog.set_busy(True)

        def ok(new: PrescriptionItem) -> None:
            dialog.set_busy(False)
            dialog.accept()
            self._fetch(then=lambda: self.view.select_id(new.id))

        def failed(exc: BaseException) -> None:
            dialog.set_busy(False)
            dialog.show_failure(write_failure(exc, "prescription", "The prescription "
                                                                   "cannot be discontinued "
                                                                   "right now"))
            if isinstance(exc, Conflict):
                self._fetch()

        self._write(lambda: self.api.discontinue_prescription(item.id, item.version, reason),
                    ok, failed)

    # ---------------------------------------------------------------- print

    @Slot(object)
    def on_view_print_requested(self, item: PrescriptionItem) -> None:
        self.view.set_busy("Preparing the prescription for printing…")

        def ok(printable: PrintablePrescription) -> None:
            self.view.set_busy("")
            self.print_handler(self.view, printable)

        def failed(exc: BaseException) -> None:
            self.view.set_busy("")
            self.view.show_message(failure_sentence(exc, "The prescription cannot be "
                                                         "printed right now"))

        self.tasks.run(lambda: self.api.printable(item.id), ok, failed)


def make_orders_section(record: PatientRecord, api: OrdersApi, tasks: Runner, *,
                        today: Callable[[], date] = date.today, zone: tzinfo | None = None
                        ) -> OrdersSection:
    """The chart's Orders section for ``record``."""
    return OrdersSection(record, api, tasks, today=today, zone=zone)


def make_prescriptions_section(record: PatientRecord, api: OrdersApi, tasks: Runner, *,
                               can_prescribe: bool, today: Callable[[], date] = date.today,
                               zone: tzinfo | None = None,
                               print_handler: PrintHandler | None = None
                               ) -> PrescriptionsSection:
    """The chart's Prescriptions section; ``can_prescribe`` (the role holds
    ``prescription.write``) enables Sign — the service refuses anyone else anyway."""
    return PrescriptionsSection(record, api, tasks, can_prescribe=can_prescribe, today=today,
                                zone=zone, print_handler=print_handler)
