"""The chart's Orders section against the fake OrdersApi: the list newest first, placing an
order (each bad field's sentence next to it), discontinuing with a required reason, and a
stale discontinue that names who changed the order first."""

from __future__ import annotations

import threading
from datetime import date, timedelta

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLabel
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot

from backend_client.chart.dto import OrderDraft
from backend_client.errors import Unavailable
from desktop.presenters.orders import OrdersSection, make_orders_section
from desktop.tasks import InlineTaskRunner, TaskRunner
from tests.gui.fake_orders import CLOCK, FakeOrdersApi, patient
from tests.gui.schedule_support import ManualTaskRunner
from ui.orders.common import ReasonDialog
from ui.orders.orders_view import OrderDialog

TODAY = date(2026, 12, 2)


def cells(section: OrdersSection, column: int) -> list[str]:
    model = section.view.model
    return [model.index(r, column).data() for r in range(model.rowCount())]


@pytest.fixture
def api() -> FakeOrdersApi:
    api = FakeOrdersApi()
    api.add_order(7, OrderDraft("lab", "HbA1c", "4548-4"), at=CLOCK - timedelta(days=30))
    api.add_order(7, OrderDraft("imaging", "Chest X-ray", details="Cough for 3 weeks"),
                  by="Dr Amara Okafor", at=CLOCK - timedelta(days=2))
    api.add_order(8, OrderDraft("lab", "Someone else's test"))
    return api


@pytest.fixture
def section(qtbot: QtBot, api: FakeOrdersApi) -> OrdersSection:
    section = make_orders_section(patient(), api, InlineTaskRunner(), today=lambda: TODAY)
    qtbot.addWidget(section.widget())
    section.widget().resize(900, 500)
    section.widget().show()
    qtbot.waitExposed(section.widget())
    done: list[bool] = []
    section.load(lambda: done.append(True))
    assert done == [True]
    return section


def visible_errors(dialog: OrderDialog) -> dict[str, str]:
    return {k: v.text() for k, v in dialog.errors.items() if v.isVisible()}


def test_the_list_is_the_patients_orders_newest_first(
        section: OrdersSection, qtmodeltester: ModelTester) -> None:
    assert section.key == "orders" and section.title == "&Orders"
    assert cells(section, 1) == ["Chest X-ray", "HbA1c (4548-4)"]
    assert cells(section, 0) == ["Imaging", "Laboratory"]
    assert cells(section, 3) == ["Dr Amara Okafor", "Dr Anna Demo"]
    assert cells(section, 4)[0] == "30 Nov 2026 " + \
        (CLOCK - timedelta(days=2)).astimezone().strftime("%H:%M")
    assert section.view.status.text() == "2 orders, 2 active."
    # The details are in the row's tooltip.
    tip = section.view.model.index(0, 1).data(Qt.ItemDataRole.ToolTipRole)
    assert "Cough for 3 weeks" in tip
    qtmodeltester.check(section.view.model)


def test_a_new_order_says_what_is_wrong_per_field_then_is_placed(
        qtbot: QtBot, section: OrdersSection, api: FakeOrdersApi) -> None:
    qtbot.keyClick(section.view.table, Qt.Key.Key_Insert)        # the keyboard path
    dialog = section.dialog
    assert isinstance(dialog, OrderDialog)
    assert dialog.banner.text().startswith("Müller, Anna · born 12 Mar 1984")
    assert "MRN 000123" in dialog.banner.text()
    qtbot.keyClicks(dialog.code, "not a code!")
    dialog.on_place()
    assert visible_errors(dialog) == {
        "description": "⚠ Say what is ordered, e.g. Full blood count.",
        "code": "⚠ A code is letters, digits, dots or dashes (at most 20)."}
    assert dialog.isVisible()
    assert dialog.code.text() == "not a code!"                   # nothing lost
    dialog.code.clear()
    dialog.kind.setCurrentIndex(dialog.kind.findData("lab"))
    qtbot.keyClicks(dialog.description, "Full blood count")
    qtbot.keyClicks(dialog.details, "Tired for a month")
    qtbot.waitUntil(lambda: QApplication.activeWindow() is dialog, timeout=2000)
    qtbot.keyClick(dialog.details, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert not dialog.isVisible()
    assert cells(section, 1)[0] == "Full blood count"
    assert section.view.selected().draft.details == "Tired for a month"
    assert api.calls[-2][0] == "place_order"


def test_a_failed_placement_keeps_the_form_and_says_why(
        qtbot: QtBot, section: OrdersSection, api: FakeOrdersApi) -> None:
    section.view.buttons["new"].click()
    dialog = section.dialog
    assert isinstance(dialog, OrderDialog)
    qtbot.keyClicks(dialog.description, "Lipid profile")
    api.fail["place_order"] = Unavailable("postgres", "The clinic database cannot be "
                                                      "reached.")
    dialog.on_place()
    assert dialog.isVisible()
    assert dialog.failure.text() == ("⚠ The order cannot be placed right now: the clinic "
                                     "database cannot be reached.")
    assert dialog.description.text() == "Lipid profile"
    assert dialog.place_button.isEnabled()


def test_discontinue_needs_a_reason_and_says_who_changed_it_first(
        qtbot: QtBot, section: OrdersSection, api: FakeOrdersApi) -> None:
    view = section.view
    assert not view.buttons["discontinue"].isEnabled()          # nothing chosen
    view.table.selectRow(0)
    assert view.buttons["discontinue"].isEnabled()
    qtbot.keyClick(view.table, Qt.Key.Key_Delete)
    dialog = section.dialog
    assert isinstance(dialog, ReasonDialog)
    assert dialog.banner is not None and "Müller, Anna" in dialog.banner.text()
    assert "Chest X-ray" in dialog.what.text()
    dialog.confirm_button.click()
    assert dialog.error.isVisible()
    assert dialog.error.text() == "⚠ Say why it is discontinued: pick a reason or type one."
    assert not any(c[0] == "discontinue_order" for c in api.calls)

    chosen = view.selected()
    api.change_behind_the_back(chosen.id, "Nurse Li Wei")
    qtbot.keyClicks(dialog.reason, "Done at the hospital")
    dialog.confirm_button.click()
    assert dialog.isVisible()
    assert dialog.error.text().startswith("⚠ Nurse Li Wei changed this order meanwhile, "
                                          "so nothing was saved.")
    assert dialog.reason.text() == "Done at the hospital"
    assert view.selected().version == chosen.version + 1       # the list was refetched

    dialog.reject()
    view.table.selectRow(0)
    view.buttons["discontinue"].click()
    dialog = section.dialog
    assert isinstance(dialog, ReasonDialog)
    qtbot.keyClicks(dialog.reason, "Done at the hospital")
    qtbot.keyClick(dialog.reason, Qt.Key.Key_Return)
    assert not dialog.isVisible()
    assert cells(section, 2)[0] == "Discontinued: Done at the hospital"
    assert not view.buttons["discontinue"].isEnabled()          # already stopped
    assert view.status.text() == "2 orders, 1 active."


def test_refresh_refetches_only_for_orders_and_load_failure_is_a_sentence(
        qtbot: QtBot, api: FakeOrdersApi) -> None:
    api.fail["orders"] = Unavailable("postgres", "The clinic database cannot be reached.")
    section = make_orders_section(patient(), api, InlineTaskRunner(), today=lambda: TODAY)
    qtbot.addWidget(section.widget())
    section.widget().show()
    done: list[bool] = []
    section.load(lambda: done.append(True))
    assert done == [True]                                       # the next section may start
    message: QLabel = section.view.message
    assert message.isVisible()
    assert message.text() == ("The orders cannot be shown right now: the clinic database "
                              "cannot be reached.")
    before = len(api.calls)
    section.refresh(frozenset({"problem"}))
    assert len(api.calls) == before
    section.refresh(frozenset({"order"}))
    assert not message.isVisible()
    assert cells(section, 1) == ["Chest X-ray", "HbA1c (4548-4)"]
    api.add_order(7, OrderDraft("referral", "Cardiology"))
    section.refresh(frozenset())                                 # a reconnect: everything
    assert cells(section, 1)[0] == "Cardiology"
    # Closing the chart while a form has typing in it keeps the tab (and the typing).
    section.view.buttons["new"].click()
    dialog = section.dialog
    assert isinstance(dialog, OrderDialog)
    qtbot.keyClicks(dialog.description, "Ferritin")
    assert section.close() is False
    assert dialog.isVisible() and dialog.description.text() == "Ferritin"
    dialog.reject()
    assert section.close() is True
    before = len(api.calls)
    section.refresh(frozenset())                                 # closed: quiet
    assert len(api.calls) == before


def test_an_older_answer_arriving_last_is_dropped(qtbot: QtBot, api: FakeOrdersApi) -> None:
    runner = ManualTaskRunner()
    section = make_orders_section(patient(), api, runner, today=lambda: TODAY)
    qtbot.addWidget(section.widget())
    section.load(lambda: None)                                  # read now: two orders
    stale = api.orders(7)
    runner.jobs[0] = (lambda: stale, *runner.jobs[0][1:])
    api.add_order(7, OrderDraft("referral", "Cardiology"))
    section.refresh(frozenset({"order"}))                      # answer 2: three orders
    runner.finish(1)
    assert cells(section, 1)[0] == "Cardiology"
    runner.finish(0)                                            # the older one, last
    assert cells(section, 1)[0] == "Cardiology"
    assert section.view.model.rowCount() == 3


def test_loading_and_placing_run_off_the_gui_thread(
        qtbot: QtBot, api: FakeOrdersApi, runner: TaskRunner) -> None:
    gui = threading.get_ident()
    threads: list[int] = []
    real_orders = api.orders

    def orders(patient_id: int) -> tuple[object, ...]:
        threads.append(threading.get_ident())
        return real_orders(patient_id)

    api.orders = orders  # type: ignore[method-assign]
    section = make_orders_section(patient(), api, runner, today=lambda: TODAY)
    qtbot.addWidget(section.widget())
    done: list[bool] = []
    section.load(lambda: done.append(True))
    assert section.view.model.rowCount() == 0                    # nothing waited for
    qtbot.waitUntil(lambda: done == [True], timeout=2000)
    assert cells(section, 1) == ["Chest X-ray", "HbA1c (4548-4)"]
    assert threads and gui not in threads
