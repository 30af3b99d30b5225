"""Book an appointment (or a series) in a slot: patient, provider, time, type, length,
reason and how it repeats.

The dialog only asks: it emits ``check_requested`` while the user fills it (the presenter
answers with :meth:`BookingDialog.show_warnings`, :meth:`show_clash` or
:meth:`show_errors`) and ``book_requested`` on Book. Every failure leaves each field as
typed and says what is wrong next to the field concerned.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time, timedelta, tzinfo

from PySide6.QtCore import QDate, Qt, QTime, QTimer, Signal, Slot
from PySide6.QtGui import QColor, QIcon, QKeySequence, QPixmap, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QDialog,
    QFormLayout,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QScrollArea,
    QSpinBox,
    QTimeEdit,
    QVBoxLayout,
    QWidget,
)

from backend_client.dto import (
    AppointmentTypeInfo,
    BookingRequest,
    BookingWarning,
    ProviderInfo,
    Recurrence,
)
from ui.scheduling.booking_text import aware, describe_recurrence, hhmm, local
from ui.scheduling.patient_picker import PatientPicker

STYLE = """
QLabel[role="field-error"] { color: #b71c1c; }
QFrame#booking-warnings { background: #fff8e1; border: 1px solid #f9a825; border-radius: 4px; }
QFrame#booking-warnings QLabel { color: #4e3400; }
QLabel#booking-failure { background: #fdecea; color: #7f1d1d; border: 1px solid #e57373;
    border-radius: 4px; padding: 6px 10px; }
QLabel#repeat-description { color: #1a237e; }
QGroupBox { font-weight: bold; }
QGroupBox QLabel, QGroupBox QComboBox, QGroupBox QSpinBox, QGroupBox QRadioButton,
QGroupBox QDateEdit { font-weight: normal; }
"""
ERROR_MARK = "⚠ "
# (label, frequency, interval); None: does not repeat.
REPEAT_CHOICES: tuple[tuple[str, str | None, int], ...] = (
    ("Does not repeat", None, 1),
    ("Every day", "daily", 1),
    ("Every week", "weekly", 1),
    ("Every N weeks", "weekly", 2),
    ("Every month, same date", "monthly_date", 1),
    ("Every month, same weekday", "monthly_weekday", 1),
)
EVERY_N_WEEKS = 3


def error_label(parent: QWidget) -> QLabel:
    label = QLabel(parent)
    label.setProperty("role", "field-error")
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setWordWrap(True)
    label.hide()
    return label


def show_error(label: QLabel, sentence: str) -> None:
    label.setText(ERROR_MARK + sentence if sentence else "")
    label.setAccessibleName(sentence)
    label.setVisible(bool(sentence))


def required_reason(edit: QLineEdit, error: QLabel, missing: str) -> str:
    """The reason typed in ``edit`` with its spaces tidied, or "" after saying ``missing``
    at ``error`` and putting the cursor there (the dialogs that cannot go on without one)."""
    reason = " ".join(edit.text().split())
    show_error(error, "" if reason else missing)
    if not reason:
        edit.setFocus()
    return reason


def sentence(text: str) -> str:
    text = text.strip()
    text = text[:1].upper() + text[1:]
    return text if not text or text.endswith((".", "!", "?")) else text + "."


def colour_icon(colour: str) -> QIcon:
    pixmap = QPixmap(14, 14)
    pixmap.fill(QColor(colour) if QColor.isValidColorName(colour) else QColor("#9e9e9e"))
    return QIcon(pixmap)


def to_qdate(value: date) -> QDate:
    return QDate(value.year, value.month, value.day)


def from_qdate(value: QDate) -> date:
    return date(value.year(), value.month(), value.day())


class BookingDialog(QDialog):
    """Signals:
        patient_search_requested(str): look these words up in the registry.
        check_requested(object): a complete BookingRequest whose warnings to show.
        book_requested(object): the BookingRequest the user asked to book.
    """

    patient_search_requested = Signal(str)
    check_requested = Signal(object)
    book_requested = Signal(object)

    def __init__(self, parent: QWidget | None, *, providers: Sequence[ProviderInfo],
                 types: Sequence[AppointmentTypeInfo], provider_id: int,
                 starts_at: datetime, zone: tzinfo | None = None, minutes: int | None = None,
                 type_id: int | None = None, debounce_ms: int = 150) -> None:
        super().__init__(parent)
        self.setObjectName("booking-dialog")
        self.setWindowTitle("Book appointment")
        self.setStyleSheet(STYLE)
        self._zone = zone
        self._types = {t.id: t for t in types}
        self._busy = False
        self._filling = True

        self.failure = QLabel(self)
        self.failure.setObjectName("booking-failure")
        self.failure.setTextFormat(Qt.TextFormat.PlainText)
        self.failure.setWordWrap(True)
        self.failure.hide()

        body = QWidget()
        self._build(body, providers, types)
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(body)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)

        self.cancel_button = QPushButton("Cancel", self)
        self.cancel_button.setAutoDefault(False)
        self.cancel_button.clicked.connect(self.reject)
        self.book_button = QPushButton("Book", self)
        self.book_button.setObjectName("book-button")
        self.book_button.setToolTip("Book (Enter or Ctrl+Enter)")
        self.book_button.setDefault(True)
        self.book_button.clicked.connect(self.on_book_button_clicked)
        for keys in ("Ctrl+Return", "Ctrl+Enter"):
            QShortcut(QKeySequence(keys), self, self.on_book_button_clicked)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.book_button)

        layout = QVBoxLayout(self)
        layout.addWidget(self.failure)
        layout.addWidget(scroll, 1)
        layout.addWidget(self.warnings)
        layout.addLayout(buttons)
        self.resize(640, 580)  # room for the search results without scrolling

        # Prefill from the slot.
        index = self.provider.findData(provider_id)
        self.provider.setCurrentIndex(max(index, 0))
        start = local(starts_at, zone)
        self.day.setDate(to_qdate(start.date()))
        self.time.setTime(QTime(start.hour, start.minute))
        if type_id is not None and self.type.findData(type_id) >= 0:
            self.type.setCurrentIndex(self.type.findData(type_id))
        self.on_type_changed()
        if minutes:
            self.minutes.setValue(minutes)
        self.until.setDate(to_qdate(start.date() + timedelta(weeks=12)))
        self._filling = False
        self._update_end()
        self._update_repeat()

        self._check_timer = QTimer(self)
        self._check_timer.setSingleShot(True)
        self._check_timer.setInterval(debounce_ms)
        self._check_timer.timeout.connect(self.on_check_timer_timeout)
        self.patient.search.setFocus()

    # ------------------------------------------------------------------ building

    def _build(self, body: QWidget, providers: Sequence[ProviderInfo],
               types: Sequence[AppointmentTypeInfo]) -> None:
        form = QFormLayout()
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)
        self.errors: dict[str, QLabel] = {}

        def row(key: str, caption: str, *widgets: QWidget) -> None:
            cell = QVBoxLayout()
            cell.setSpacing(2)
            line = QHBoxLayout()
            for w in widgets:
                line.addWidget(w, 1 if isinstance(w, (QLineEdit, PatientPicker)) else 0)
            if not any(isinstance(w, (QLineEdit, PatientPicker, QComboBox)) for w in widgets):
                line.addStretch(1)
            cell.addLayout(line)
            self.errors[key] = error_label(body)
            cell.addWidget(self.errors[key])
            label = QLabel(caption, body)
            label.setBuddy(widgets[0])
            form.addRow(label, cell)

        self.patient = PatientPicker(body, zone=self._zone)
        self.patient.search_requested.connect(self.patient_search_requested)
        self.patient.picked.connect(self.on_patient_picked)
        self.patient.cleared.connect(self._changed)
        row("patient", "&Patient", self.patient)

        self.provider = QComboBox(body)
        self.provider.setAccessibleName("Provider")
        for p in providers:
            self.provider.addItem(p.display_name + (f" ({p.specialty})" if p.specialty else ""),
                                  p.id)
        row("provider", "Pro&vider", self.provider)

        self.day = QDateEdit(body)
        self.day.setDisplayFormat("ddd d MMM yyyy")
        self.day.setCalendarPopup(True)
        self.day.setAccessibleName("Date")
        self.time = QTimeEdit(body)
        self.time.setDisplayFormat("HH:mm")
        self.time.setAccessibleName("Start time")
        row("time", "&Date and time", self.day, self.time)

        self.type = QComboBox(body)
        self.type.setAccessibleName("Appointment type")
        self.type.addItem("No particular type", None)
        for t in types:
            self.type.addItem(colour_icon(t.colour), f"{t.name} ({t.default_minutes} min)", t.id)
        self.type_colour = QLabel(body)
        self.type_colour.setObjectName("type-colour")
        self.type_colour.setFixedSize(18, 18)
        self.type.currentIndexChanged.connect(self.on_type_changed)
        row("type", "&Type", self.type, self.type_colour)

        self.minutes = QSpinBox(body)
        self.minutes.setRange(5, 600)
        self.minutes.setSingleStep(5)
        self.minutes.setSuffix(" min")
        self.minutes.setAccessibleName("Length in minutes")
        self.minutes.setValue(15)
        self.ends_label = QLabel(body)
        self.ends_label.setObjectName("ends-at")
        row("minutes", "&Length", self.minutes, self.ends_label)

        self.reason = QLineEdit(body)
        self.reason.setAccessibleName("Reason for the visit")
        self.reason.setPlaceholderText("Reason for the visit (optional)")
        row("reason", "&Reason", self.reason)

        repeat = self._build_repeat(body)
        layout = QVBoxLayout(body)
        layout.setContentsMargins(0, 0, 4, 0)
        layout.addLayout(form)
        layout.addWidget(repeat)
        layout.addStretch(1)

        self.warnings = QFrame(self)
        self.warnings.setObjectName("booking-warnings")
        self.warnings_text = QLabel(self.warnings)
        self.warnings_text.setObjectName("booking-warnings-text")
        self.warnings_text.setTextFormat(Qt.TextFormat.PlainText)
        self.warnings_text.setWordWrap(True)
        box = QVBoxLayout(self.warnings)
        box.setContentsMargins(10, 6, 10, 6)
        box.addWidget(self.warnings_text)
        self.warnings.hide()

        for signal in (self.provider.currentIndexChanged, self.day.dateChanged,
                       self.time.timeChanged, self.minutes.valueChanged,
                       self.type.currentIndexChanged):
            signal.connect(self._changed)

    def _build_repeat(self, body: QWidget) -> QGroupBox:
        group = QGroupBox("Repeats", body)
        self.repeat = QComboBox(group)
        self.repeat.setAccessibleName("Repeats")
        for label, _freq, _n in REPEAT_CHOICES:
            self.repeat.addItem(label)
        self.interval = QSpinBox(group)
        self.interval.setRange(2, 52)
        self.interval.setValue(2)
        self.interval.setPrefix("every ")
        self.interval.setSuffix(" weeks")
        self.interval.setAccessibleName("Number of weeks between appointments")
        self.by_count = QRadioButton("&Times", group)
        self.count = QSpinBox(group)
        self.count.setRange(2, 200)
        self.count.setValue(6)
        self.count.setAccessibleName("How many appointments in all")
        self.by_until = QRadioButton("&Until", group)
        self.until = QDateEdit(group)
        self.until.setDisplayFormat("d MMM yyyy")
        self.until.setCalendarPopup(True)
        self.until.setAccessibleName("Last possible date")
        self.by_count.setChecked(True)
        self.repeat_description = QLabel(group)
        self.repeat_description.setObjectName("repeat-description")
        self.repeat_description.setWordWrap(True)
        self.errors["recurrence"] = error_label(group)

        first = QHBoxLayout()
        first.addWidget(self.repeat, 1)
        first.addWidget(self.interval)
        ends = QHBoxLayout()
        ends.addWidget(QLabel("Ends:", group))
        ends.addWidget(self.by_count)
        ends.addWidget(self.count)
        ends.addSpacing(12)
        ends.addWidget(self.by_until)
        ends.addWidget(self.until)
        ends.addStretch(1)
        self._ends = QWidget(group)
        self._ends.setLayout(ends)
        ends.setContentsMargins(0, 0, 0, 0)
        layout = QVBoxLayout(group)
        layout.addLayout(first)
        layout.addWidget(self._ends)
        layout.addWidget(self.repeat_description)
        layout.addWidget(self.errors["recurrence"])
        for signal in (self.repeat.currentIndexChanged, self.interval.valueChanged,
                       self.count.valueChanged, self.until.dateChanged,
                       self.by_count.toggled):
            signal.connect(self._update_repeat)
            signal.connect(self._changed)
        return group

    # ------------------------------------------------------------------ reading

    def starts_at(self) -> datetime:
        t = self.time.time()
        naive = datetime.combine(from_qdate(self.day.date()), time(t.hour(), t.minute()))
        return aware(naive, self._zone)

    def recurrence(self) -> Recurrence | None:
        _label, frequency, interval = REPEAT_CHOICES[self.repeat.currentIndex()]
        if frequency is None:
            return None
        if self.repeat.currentIndex() == EVERY_N_WEEKS:
            interval = self.interval.value()
        if self.by_count.isChecked():
            return Recurrence(frequency, interval, count=self.count.value())
        return Recurrence(frequency, interval, until=from_qdate(self.until.date()))

    def request(self) -> BookingRequest | None:
        """What is on screen as a request; None while no patient is chosen."""
        if self.patient.patient_id is None:
            return None
        start = self.starts_at()
        return BookingRequest(
            provider_id=int(self.provider.currentData()), patient_id=self.patient.patient_id,
            starts_at=start, ends_at=start + timedelta(minutes=self.minutes.value()),
            type_id=self.type.currentData(), reason=self.reason.text().strip(),
            recurrence=self.recurrence())

    # ------------------------------------------------------------------ answers

    def set_patient(self, patient_id: int, text: str) -> None:
        self.patient.set_patient(patient_id, text)
        self._changed()

    def show_patient_results(self, query: str, items: Sequence[object]) -> None:
        self.patient.show_results(query, items)  # type: ignore[arg-type]

    def show_patient_message(self, sentence_: str) -> None:
        self.patient.show_message(sentence_)

    def show_warnings(self, warnings: Sequence[BookingWarning]) -> None:
        """The latest check's answer: its warnings, and no field errors any more (the
        service found nothing wrong with the fields as they are now)."""
        for key, label in self.errors.items():
            if key != "patient":
                show_error(label, "")
        if not warnings:
            self.warnings.hide()
            return
        lines = ["To book this you will be asked why:"]
        lines += [f"{ERROR_MARK}{sentence(w.sentence)}" for w in warnings]
        self.warnings_text.setText("\n".join(lines))
        self.warnings.setAccessibleName(" ".join(lines))
        self.warnings.show()

    def show_clash(self, text: str) -> None:
        show_error(self.errors["time"], sentence(text))

    def show_errors(self, errors: dict[str, str]) -> None:
        """The service's sentences at their fields; the rest at the top."""
        where = {"patient_id": "patient", "provider_id": "provider", "starts_at": "time",
                 "ends_at": "minutes", "minutes": "minutes", "type_id": "type",
                 "reason": "reason", "recurrence": "recurrence"}
        rest = []
        for field, reason in errors.items():
            key = where.get(field.split(".")[0])
            if key is None:
                rest.append(sentence(reason))
            else:
                show_error(self.errors[key], sentence(reason))
        if rest:
            self.show_failure(" ".join(rest))

    def show_failure(self, text: str) -> None:
        self.failure.setText(text)
        self.failure.setAccessibleName(text)
        self.failure.setVisible(bool(text))

    def clear_errors(self) -> None:
        for label in self.errors.values():
            show_error(label, "")
        self.show_failure("")

    def set_busy(self, busy: bool) -> None:
        self._busy = busy
        self.book_button.setEnabled(not busy)
        self.book_button.setText("Booking…" if busy else "Book")

    # ------------------------------------------------------------------ slots

    @Slot(int)
    def on_patient_picked(self, _patient_id: int) -> None:
        show_error(self.errors["patient"], "")
        self._changed()
        self.type.setFocus()

    @Slot()
    def on_type_changed(self) -> None:
        type_id = self.type.currentData()
        info = self._types.get(type_id) if type_id is not None else None
        if info is None:
            self.type_colour.clear()
            self.type_colour.setStyleSheet("")
            self.type_colour.setAccessibleName("")
            return
        self.type_colour.setStyleSheet(f"background: {info.colour}; border: 1px solid #546e7a;"
                                       " border-radius: 3px;")
        self.type_colour.setToolTip(f"{info.name} shows in this colour on the day sheet")
        self.type_colour.setAccessibleName(f"{info.name} colour")
        self.minutes.setValue(info.default_minutes)  # the type's usual length

    def _update_end(self) -> None:
        end = self.starts_at() + timedelta(minutes=self.minutes.value())
        self.ends_label.setText(f"ends {hhmm(end, self._zone)}")

    @Slot()
    def _update_repeat(self) -> None:
        rule = self.recurrence()
        self.interval.setVisible(self.repeat.currentIndex() == EVERY_N_WEEKS)
        self._ends.setVisible(rule is not None)
        self.count.setEnabled(self.by_count.isChecked())
        self.until.setEnabled(not self.by_count.isChecked())
        first = local(self.starts_at(), self._zone)
        self.repeat_description.setText(describe_recurrence(rule, first))
        self.repeat_description.setVisible(rule is not None)

    @Slot()
    def _changed(self) -> None:
        if self._filling:
            return
        self._update_end()
        self._update_repeat()
        if self.request() is not None:
            self._check_timer.start()
        else:  # no patient: the last check's warnings were about someone else
            self._check_timer.stop()
            self.show_warnings(())

    @Slot()
    def on_check_timer_timeout(self) -> None:
        request = self.request()
        if request is not None:
            self.check_requested.emit(request)

    @Slot()
    def on_book_button_clicked(self) -> None:
        if self._busy:
            return
        request = self.request()
        if request is None:
            show_error(self.errors["patient"], "Choose the patient first: type their name, "
                                               "then Enter.")
            self.patient.setFocus()
            return
        self.clear_errors()
        self._check_timer.stop()
        self.book_requested.emit(request)
