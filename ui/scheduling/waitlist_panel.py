"""The waitlist: who waits for what, adding and removing entries, and the free slots
today that entries fit; plus the offer shown when a cancellation frees a slot."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, tzinfo

from PySide6.QtCore import QDate, Qt, Signal, Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSizePolicy,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from backend_client.dto import ProviderInfo, SlotOffer, WaitlistEntry
from ui.patients.formatting import format_date
from ui.scheduling.booking_dialog import STYLE, error_label, from_qdate, show_error, to_qdate
from ui.scheduling.booking_text import span
from ui.scheduling.patient_picker import PatientPicker

PARTS_OF_DAY = (("any", "Any time"), ("morning", "Mornings"), ("afternoon", "Afternoons"))
OFFER_ROLE = Qt.ItemDataRole.UserRole + 1


def offer_sentence(offer: SlotOffer, provider_name: str, zone: tzinfo | None) -> str:
    n = len(offer.entries)
    who = "1 patient" if n == 1 else f"{n} patients"
    verb = "fits" if n == 1 else "fit"
    return (f"{who} on the waitlist {verb} {span(offer.starts_at, offer.ends_at, zone)} "
            f"with {provider_name or 'this provider'}:")


def entry_text(entry: WaitlistEntry) -> str:
    part = dict(PARTS_OF_DAY).get(entry.part_of_day, entry.part_of_day).lower()
    text = f"{entry.patient_name} ({entry.minutes} min, {part})"
    return text + (f"\nNote: {entry.note}" if entry.note else "")


class WaitlistOfferDialog(QDialog):
    """After a cancellation: the waitlist entries that fit the freed slot, each bookable.

    Signals:
        book_requested(object): the WaitlistEntry to book into the slot.
    """

    book_requested = Signal(object)

    def __init__(self, parent: QWidget | None, offer: SlotOffer, *, provider_name: str = "",
                 zone: tzinfo | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("waitlist-offer")
        self.setWindowTitle("The slot is free")
        self.offer = offer
        self.heading = QLabel(offer_sentence(offer, provider_name, zone), self)
        self.heading.setObjectName("offer-heading")
        self.heading.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(self.heading)
        self.book_buttons: list[QPushButton] = []
        for entry in offer.entries:
            row = QHBoxLayout()
            label = QLabel(entry_text(entry), self)
            label.setTextFormat(Qt.TextFormat.PlainText)
            label.setWordWrap(True)
            button = QPushButton(f"Book {entry.patient_name}…", self)
            button.setAutoDefault(False)
            button.setAccessibleName(f"Book {entry.patient_name} into this slot")
            button.clicked.connect(lambda _=False, e=entry: self._book(e))
            row.addWidget(label, 1)
            row.addWidget(button)
            layout.addLayout(row)
            self.book_buttons.append(button)
        later = QPushButton("Not now", self)
        later.setAutoDefault(False)
        later.clicked.connect(self.reject)
        end = QHBoxLayout()
        end.addStretch(1)
        end.addWidget(later)
        layout.addStretch(1)
        layout.addLayout(end)
        self.resize(540, max(self.sizeHint().height(), self.heightForWidth(540)))
        if self.book_buttons:
            self.book_buttons[0].setFocus()

    def _book(self, entry: WaitlistEntry) -> None:
        self.accept()
        self.book_requested.emit(entry)


class WaitlistPanel(QDialog):
    """Signals:
        patient_search_requested(str): look a patient up for a new entry.
        add_requested(dict): keyword arguments of ``add_to_waitlist`` (patient_id, ...).
        remove_requested(object, str): a WaitlistEntry and why it goes.
        book_requested(object, object): a SlotOffer and one of its WaitlistEntries.
    """

    patient_search_requested = Signal(str)
    add_requested = Signal(dict)
    remove_requested = Signal(object, str)
    book_requested = Signal(object, object)

    def __init__(self, parent: QWidget | None, providers: Sequence[ProviderInfo], *,
                 today: date, zone: tzinfo | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("waitlist-panel")
        self.setWindowTitle("Waitlist")
        self.setStyleSheet(STYLE)
        self._zone = zone
        self._names = {p.id: p.display_name for p in providers}
        self.entries: list[WaitlistEntry] = []

        self.table = QTableWidget(0, 5, self)
        self.table.setObjectName("waitlist-table")
        self.table.setAccessibleName("Patients on the waitlist")
        self.table.setHorizontalHeaderLabels(["Patient", "Provider", "Length", "Between",
                                              "Note"])
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.
                                                           ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.add_button = QPushButton("&Add patient…", self)
        self.add_button.setAutoDefault(False)
        self.add_button.clicked.connect(self.on_add_button_clicked)
        self.remove_button = QPushButton("&Remove…", self)
        self.remove_button.setAutoDefault(False)
        self.remove_button.clicked.connect(self.on_remove_button_clicked)
        self.error = error_label(self)

        self._build_remove()
        self._build_add(providers, today)

        offers_box = QGroupBox("Free slots today that waiting patients fit", self)
        self.offers = QListWidget(offers_box)
        self.offers.setObjectName("waitlist-offers")
        self.offers.setAccessibleName("Free slots today and who fits them; Enter books")
        self.offers.itemActivated.connect(self.on_offers_item_activated)
        self.offers_empty = QLabel("No free slot today fits anyone on the waitlist.",
                                   offers_box)
        self.book_offer_button = QPushButton("&Book selected…", offers_box)
        self.book_offer_button.setAutoDefault(False)
        self.book_offer_button.clicked.connect(
            lambda: self.on_offers_item_activated(self.offers.currentItem()))
        box = QVBoxLayout(offers_box)
        box.addWidget(self.offers)
        box.addWidget(self.offers_empty)
        box.addWidget(self.book_offer_button, 0, Qt.AlignmentFlag.AlignRight)

        close = QPushButton("Close", self)
        close.setAutoDefault(False)
        close.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.remove_button)
        buttons.addStretch(1)
        buttons.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table, 2)
        layout.addWidget(self.error)
        layout.addWidget(self.remove_box)
        layout.addWidget(self.add_box)
        layout.addWidget(offers_box, 1)
        layout.addLayout(buttons)
        self.resize(760, 600)

    # ------------------------------------------------------------------ building

    def _build_remove(self) -> None:
        self.remove_box = QGroupBox("Remove from the waitlist", self)
        self.remove_reason = QLineEdit(self.remove_box)
        self.remove_reason.setAccessibleName("Why the entry is removed")
        self.remove_reason.setPlaceholderText("Why? For example: booked elsewhere, no longer "
                                              "needed")
        self.remove_error = error_label(self.remove_box)
        go = QPushButton("Remove entry", self.remove_box)
        go.setAutoDefault(False)
        go.clicked.connect(self.on_remove_go_clicked)
        self.remove_reason.returnPressed.connect(self.on_remove_go_clicked)
        row = QHBoxLayout()
        row.addWidget(self.remove_reason, 1)
        row.addWidget(go)
        box = QVBoxLayout(self.remove_box)
        box.addLayout(row)
        box.addWidget(self.remove_error)
        self.remove_box.hide()

    def _build_add(self, providers: Sequence[ProviderInfo], today: date) -> None:
        self.add_box = QGroupBox("Add to the waitlist", self)
        self.patient = PatientPicker(self.add_box, zone=self._zone)
        self.patient.search_requested.connect(self.patient_search_requested)
        self.provider = QComboBox(self.add_box)
        self.provider.setAccessibleName("Provider")
        self.provider.addItem("Any provider", None)
        for p in providers:
            self.provider.addItem(p.display_name, p.id)
        self.minutes = QSpinBox(self.add_box)
        self.minutes.setRange(5, 600)
        self.minutes.setSingleStep(5)
        self.minutes.setValue(20)
        self.minutes.setSuffix(" min")
        self.minutes.setAccessibleName("Length in minutes")
        self.earliest = QDateEdit(to_qdate(today), self.add_box)
        self.earliest.setDisplayFormat("d MMM yyyy")
        self.earliest.setCalendarPopup(True)
        self.earliest.setAccessibleName("Earliest date")
        self.has_latest = QCheckBox("until", self.add_box)
        self.latest = QDateEdit(QDate(to_qdate(today)).addDays(28), self.add_box)
        self.latest.setDisplayFormat("d MMM yyyy")
        self.latest.setCalendarPopup(True)
        self.latest.setAccessibleName("Latest date")
        self.latest.setEnabled(False)
        self.has_latest.toggled.connect(self.latest.setEnabled)
        self.part = QComboBox(self.add_box)
        self.part.setAccessibleName("Part of the day")
        for code, label in PARTS_OF_DAY:
            self.part.addItem(label, code)
        self.note = QLineEdit(self.add_box)
        self.note.setAccessibleName("Note")
        self.add_error = error_label(self.add_box)
        go = QPushButton("Add to waitlist", self.add_box)
        go.setAutoDefault(False)
        go.clicked.connect(self.on_add_go_clicked)
        dates = QHBoxLayout()
        dates.addWidget(self.earliest)
        dates.addWidget(self.has_latest)
        dates.addWidget(self.latest)
        dates.addStretch(1)
        form = QFormLayout(self.add_box)
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        # Line edits and the patient search grow; lengths and dates keep their size.
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)
        self.patient.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        form.addRow("Patient", self.patient)
        form.addRow("Provider", self.provider)
        form.addRow("Length", self.minutes)
        form.addRow("From", dates)
        form.addRow("When", self.part)
        form.addRow("Note", self.note)
        form.addRow(self.add_error)
        end = QHBoxLayout()
        end.addStretch(1)
        end.addWidget(go)
        form.addRow(end)
        self.add_box.hide()

    # ------------------------------------------------------------------ answers

    def show_entries(self, entries: Sequence[WaitlistEntry]) -> None:
        self.entries = list(entries)
        self.table.setRowCount(len(entries))
        for row, e in enumerate(entries):
            between = format_date(e.earliest) + (f" – {format_date(e.latest)}"
                                                 if e.latest else " onwards")
            cells = (e.patient_name, self._names.get(e.provider_id, "Any provider")
                     if e.provider_id is not None else "Any provider",
                     f"{e.minutes} min", between, e.note)
            for col, text in enumerate(cells):
                self.table.setItem(row, col, QTableWidgetItem(text))
        self.remove_button.setEnabled(bool(entries))
        if entries:
            self.table.selectRow(0)

    def show_offers(self, offers: Sequence[SlotOffer]) -> None:
        self.offers.clear()
        for offer in offers:
            name = self._names.get(offer.provider_id, "")
            for entry in offer.entries:
                item = QListWidgetItem(f"{span(offer.starts_at, offer.ends_at, self._zone)} "
                                       f"with {name}: {entry_text(entry)}")
                item.setData(OFFER_ROLE, (offer, entry))
                self.offers.addItem(item)
        has = self.offers.count() > 0
        self.offers.setVisible(has)
        self.book_offer_button.setVisible(has)
        self.offers_empty.setVisible(not has)

    def show_failure(self, text: str) -> None:
        show_error(self.error, text)

    def added(self) -> None:
        self.add_box.hide()
        self.patient.clear()
        self.note.clear()

    def show_add_failure(self, text: str) -> None:
        show_error(self.add_error, text)

    # ------------------------------------------------------------------ slots

    @Slot()
    def on_add_button_clicked(self) -> None:
        self.remove_box.hide()
        self.add_box.show()
        self.patient.setFocus()

    @Slot()
    def on_add_go_clicked(self) -> None:
        if self.patient.patient_id is None:
            show_error(self.add_error, "Choose the patient first: type their name, then Enter.")
            return
        show_error(self.add_error, "")
        self.add_requested.emit({
            "patient_id": self.patient.patient_id, "provider_id": self.provider.currentData(),
            "type_id": None, "minutes": self.minutes.value(),
            "earliest": from_qdate(self.earliest.date()),
            "latest": from_qdate(self.latest.date()) if self.has_latest.isChecked() else None,
            "part_of_day": str(self.part.currentData()),
            "note": self.note.text().strip()})

    def selected_entry(self) -> WaitlistEntry | None:
        row = self.table.currentRow()
        return self.entries[row] if 0 <= row < len(self.entries) else None

    @Slot()
    def on_remove_button_clicked(self) -> None:
        entry = self.selected_entry()
        if entry is None:
            return
        self.add_box.hide()
        self.remove_box.setTitle(f"Remove {entry.patient_name} from the waitlist")
        self.remove_box.show()
        self.remove_reason.setFocus()

    @Slot()
    def on_remove_go_clicked(self) -> None:
        entry = self.selected_entry()
        reason = " ".join(self.remove_reason.text().split())
        if entry is None:
            return
        if not reason:
            show_error(self.remove_error, "Say why the entry is removed.")
            return
        show_error(self.remove_error, "")
        self.remove_box.hide()
        self.remove_reason.clear()
        self.remove_requested.emit(entry, reason)

    @Slot(QListWidgetItem)
    def on_offers_item_activated(self, item: QListWidgetItem | None) -> None:
        if item is None:
            return
        offer, entry = item.data(OFFER_ROLE)
        self.book_requested.emit(offer, entry)
