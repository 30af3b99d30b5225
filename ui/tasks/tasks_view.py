"""Tasks: the table (a patient's, or the inbox's with the patient named), the "New task"
dialog, and how a task is written on screen (overdue said in words, not only in colour)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime, time, timedelta, tzinfo

from PySide6.QtCore import QDate, QTime, Signal, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QTimeEdit,
    QVBoxLayout,
    QWidget,
)

from backend_client.chart.dto import TASK_PRIORITIES, Assignee, TaskDraft, TaskItem
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
from ui.scheduling.booking_text import aware, local

PRIORITY_LABELS = {"low": "Low", "normal": "Normal", "high": "High", "urgent": "Urgent"}
STATUS_LABELS = {"open": "Open", "done": "Done", "cancelled": "Cancelled"}
OVERDUE = "⚠ Overdue"


def is_overdue(task: TaskItem, now: datetime) -> bool:
    return task.open and task.draft.due_at is not None and task.draft.due_at < now


def task_model(zone: tzinfo | None, now: Callable[[], datetime], *, with_patient: bool
               ) -> ItemTableModel[TaskItem]:
    def due(t: TaskItem) -> str:
        if t.draft.due_at is None:
            return "No due date"
        moment = now()
        text = when_text(t.draft.due_at, zone, local(moment, zone).date())
        return f"{OVERDUE}: {text}" if is_overdue(t, moment) else text

    def status(t: TaskItem) -> str:
        label = STATUS_LABELS.get(t.status, t.status)
        if t.status == "done" and t.done_by:
            return f"{label} ({t.done_by})"
        return label

    columns: list[tuple[str, Callable[[TaskItem], str]]] = [
        ("Due", due),
        ("Priority", lambda t: PRIORITY_LABELS.get(t.draft.priority, t.draft.priority)),
        ("Task", lambda t: t.draft.title)]
    if with_patient:
        columns.append(("Patient", lambda t: t.patient_label or "—"))
    columns += [("Assigned to", lambda t: t.assignee_label), ("Status", status),
                ("From", lambda t: t.stamp.recorded_by)]
    return ItemTableModel[TaskItem](columns, emphasis=lambda t: is_overdue(t, now()),
                                    tooltip=lambda t: t.draft.details)


class TasksTableView(SectionView):
    """A table of tasks with New / Mark done / Cancel.

    Signals:
        new_requested(): "New task…" (Alt+N or Insert).
        done_requested(object): "Mark done" on the chosen TaskItem (Alt+M or Ctrl+D).
        cancel_requested(object): "Cancel task…" (Alt+C or Delete).
    """

    new_requested = Signal()
    done_requested = Signal(object)
    cancel_requested = Signal(object)

    def __init__(self, name: str, zone: tzinfo | None, now: Callable[[], datetime], *,
                 with_patient: bool, can_create: bool = True,
                 parent: QWidget | None = None) -> None:
        self.model = task_model(zone, now, with_patient=with_patient)
        buttons = [("new", "&New task…", "Give someone a task about this patient (Insert)"),
                   ("done", "&Mark done", "Mark the chosen task done (Ctrl+D)"),
                   ("cancel", "&Cancel task…", "Cancel the chosen task; you will be asked why "
                                               "(Delete)")]
        super().__init__(name, self.model, buttons if can_create else buttons[1:], parent)
        if can_create:
            self.buttons["new"].clicked.connect(self.new_requested)
            self.shortcut("Insert", self.new_requested.emit)
        self.buttons["done"].clicked.connect(self.on_done_clicked)
        self.buttons["cancel"].clicked.connect(self.on_cancel_clicked)
        self.shortcut("Ctrl+D", self.on_done_clicked)
        self.shortcut("Delete", self.on_cancel_clicked)
        self._busy = False
        self.selection_changed.connect(self._update_buttons)
        self._update_buttons()

    def show_tasks(self, items: Sequence[TaskItem], now: datetime) -> None:
        chosen = self.selected()
        self.model.set_items(items)
        if chosen is not None:
            self.select_id(chosen.id)
        open_ = [t for t in items if t.open]
        late = sum(1 for t in open_ if is_overdue(t, now))
        self.status.setText("No tasks." if not items else
                            f"{len(open_)} open" + (f", {late} overdue." if late else "."))
        self._update_buttons()

    def set_busy(self, busy: bool) -> None:
        self._busy = busy
        self._update_buttons()

    def _update_buttons(self) -> None:
        item: TaskItem | None = self.selected()
        can = not self._busy and item is not None and item.open
        self.buttons["done"].setEnabled(can)
        self.buttons["cancel"].setEnabled(can)

    @Slot()
    def on_done_clicked(self) -> None:
        item: TaskItem | None = self.selected()
        if item is not None and self.buttons["done"].isEnabled():
            self.done_requested.emit(item)

    @Slot()
    def on_cancel_clicked(self) -> None:
        item: TaskItem | None = self.selected()
        if item is not None and self.buttons["cancel"].isEnabled():
            self.cancel_requested.emit(item)


class TaskDialog(QDialog):
    """Title, details, who (a person or a role), due date and time, priority.

    Signals:
        create_requested(object): the TaskDraft to create.
    """

    create_requested = Signal(object)

    def __init__(self, parent: QWidget | None, *, record: PatientRecord | None, today: date,
                 assignees: Sequence[Assignee], zone: tzinfo | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("task-dialog")
        self.setWindowTitle("New task")
        self.setStyleSheet(STYLE)
        self._zone = zone
        self._patient_id = record.id if record is not None else None
        layout = QVBoxLayout(self)
        if record is not None:
            self.banner: PatientBanner | None = PatientBanner(record, today, self)
            layout.addWidget(self.banner)
        else:
            self.banner = None
        self.failure = error_label(self)
        layout.addWidget(self.failure)
        form = QFormLayout()
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.errors: dict[str, QLabel] = {}

        def row(key: str, caption: str, *widgets: QWidget) -> None:
            cell = QVBoxLayout()
            cell.setSpacing(2)
            line = QHBoxLayout()
            for w in widgets:
                line.addWidget(w, 1 if isinstance(w, QLineEdit | QComboBox
                                                  | QPlainTextEdit) else 0)
            if not any(isinstance(w, QLineEdit | QComboBox | QPlainTextEdit) for w in widgets):
                line.addStretch(1)
            cell.addLayout(line)
            self.errors[key] = error_label(self)
            cell.addWidget(self.errors[key])
            label = QLabel(caption, self)
            label.setBuddy(widgets[0])
            form.addRow(label, cell)

        self.title = QLineEdit(self)
        self.title.setAccessibleName("What is to be done")
        self.title.setPlaceholderText("e.g. Call with blood results")
        self.title.setMaxLength(200)
        row("title", "&Task", self.title)
        self.details = QPlainTextEdit(self)
        self.details.setAccessibleName("Details")
        self.details.setTabChangesFocus(True)
        self.details.setFixedHeight(70)
        row("details", "D&etails", self.details)
        self.assignee = QComboBox(self)
        self.assignee.setAccessibleName("Assign to a person or a role")
        people = [a for a in assignees if a.user_id is not None]
        roles = [a for a in assignees if a.user_id is None]
        for a in people + roles:
            self.assignee.addItem(a.label, a)
        if people and roles:
            self.assignee.insertSeparator(len(people))
        row("assignee", "&Assign to", self.assignee)
        self.has_due = QCheckBox("&Due", self)
        self.has_due.setChecked(True)
        self.due_day = QDateEdit(self)
        self.due_day.setDisplayFormat("ddd d MMM yyyy")
        self.due_day.setCalendarPopup(True)
        self.due_day.setAccessibleName("Due date")
        tomorrow = today + timedelta(days=1)
        self.due_day.setDate(QDate(tomorrow.year, tomorrow.month, tomorrow.day))
        self.due_time = QTimeEdit(self)
        self.due_time.setDisplayFormat("HH:mm")
        self.due_time.setAccessibleName("Due time")
        self.due_time.setTime(QTime(12, 0))
        self.has_due.toggled.connect(self.due_day.setEnabled)
        self.has_due.toggled.connect(self.due_time.setEnabled)
        row("due_at", "When", self.has_due, self.due_day, self.due_time)
        self.priority = QComboBox(self)
        self.priority.setAccessibleName("Priority")
        for p in TASK_PRIORITIES:
            self.priority.addItem(PRIORITY_LABELS.get(p, p), p)
        self.priority.setCurrentIndex(max(0, self.priority.findData("normal")))
        row("priority", "&Priority", self.priority)
        layout.addLayout(form)
        layout.addStretch(1)
        buttons, self.create_button = dialog_buttons(self, "Create task", self.on_create)
        layout.addLayout(buttons)
        self.resize(540, self.sizeHint().height())
        self.title.setFocus()

    def choose_assignee(self, label: str) -> None:
        self.assignee.setCurrentIndex(self.assignee.findText(label))

    def draft(self) -> TaskDraft:
        who: Assignee | None = self.assignee.currentData()
        due = None
        if self.has_due.isChecked():
            d, t = self.due_day.date(), self.due_time.time()
            due = aware(datetime.combine(date(d.year(), d.month(), d.day()),
                                         time(t.hour(), t.minute())), self._zone)
        return TaskDraft(title=" ".join(self.title.text().split()),
                         details=self.details.toPlainText().strip(),
                         patient_id=self._patient_id,
                         assignee_user_id=who.user_id if who else None,
                         assignee_role=who.role if who else "",
                         due_at=due, priority=str(self.priority.currentData()))

    def show_errors(self, errors: dict[str, str]) -> None:
        show_field_errors(self.errors, self.failure, errors)

    def show_failure(self, text: str) -> None:
        show_error(self.failure, text)

    def set_busy(self, busy: bool) -> None:
        self.create_button.setEnabled(not busy)
        self.create_button.setText("Creating…" if busy else "Create task")

    @Slot()
    def on_create(self) -> None:
        if not self.create_button.isEnabled():
            return
        if not self.title.text().strip():
            show_error(self.errors["title"], "Say what is to be done.")
            self.title.setFocus()
            return
        self.create_requested.emit(self.draft())

