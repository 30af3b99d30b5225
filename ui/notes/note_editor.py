"""The note editor inside a chart: the patient's banner first, then the template's sections
(free text with expanders, structured fields with units and ranges, smart sections filled
from the chart), and a status line that says where the text is kept.

The view holds no state beyond its widgets; ``NoteEditorPresenter`` decides what is saved
and when.
"""

from __future__ import annotations

from datetime import date

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from backend_client.dto import PatientRecord
from backend_client.notes.dto import (
    NoteContent,
    NoteTemplate,
    SectionContent,
    TemplateField,
    TemplateSection,
)
from ui.chart.banner import PatientBanner
from ui.notes.fields import field_problem
from ui.notes.text_edit import ExpandingTextEdit

ERROR_STYLE = "color: #b00020;"
BAD_FIELD = "QLineEdit { border: 2px solid #b00020; }"


class _FieldRow:
    def __init__(self, spec: TemplateField, edit: QLineEdit, error: QLabel) -> None:
        self.spec, self.edit, self.error = spec, edit, error

    def check(self) -> str:
        problem = field_problem(self.spec, self.edit.text())
        self.edit.setStyleSheet(BAD_FIELD if problem else "")
        self.edit.setAccessibleDescription(problem)
        self.error.setText(problem)
        self.error.setVisible(bool(problem))
        return problem


class NoteEditorView(QWidget):
    """Signals:
        changed(): the user changed the title, a section or a field.
        save_requested(): Ctrl+S or Save.
        sign_requested(), cosign_requested(), addendum_requested(), history_requested(),
        export_requested(), expanders_requested(), close_requested(): the buttons.
        fill_requested(str): "Fill from chart" for the section with this key.
    """

    changed = Signal()
    save_requested = Signal()
    sign_requested = Signal()
    cosign_requested = Signal()
    addendum_requested = Signal()
    history_requested = Signal()
    export_requested = Signal()
    expanders_requested = Signal()
    close_requested = Signal()
    fill_requested = Signal(str)

    def __init__(self, record: PatientRecord, today: date, template: NoteTemplate,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.template = template
        self.setObjectName("noteEditor")
        self.banner = PatientBanner(record, today, self)
        self.title_edit = QLineEdit(self)
        self.title_edit.setObjectName("noteTitle")
        self.title_edit.setAccessibleName("Note title")
        self.title_edit.setPlaceholderText(template.title)

        self.back_button = self._button("&Back to notes", "backButton", self.close_requested)
        self.save_button = self._button("S&ave", "saveButton", self.save_requested)
        self.save_button.setToolTip("Save a revision (Ctrl+S)")
        self.sign_button = self._button("Si&gn…", "signButton", self.sign_requested)
        self.cosign_button = self._button("&Co-sign", "cosignButton", self.cosign_requested)
        self.addendum_button = self._button("&Addendum…", "addendumButton",
                                            self.addendum_requested)
        self.history_button = self._button("His&tory…", "historyButton",
                                           self.history_requested)
        self.export_button = self._button("Export P&DF…", "exportButton", self.export_requested)
        self.expanders_button = self._button("E&xpanders…", "expandersButton",
                                             self.expanders_requested)
        QShortcut(QKeySequence.StandardKey.Save, self, self.save_requested.emit,
                  context=Qt.ShortcutContext.WidgetWithChildrenShortcut)

        self.status_label = QLabel(self)
        self.status_label.setObjectName("noteStatus")
        self.status_label.setWordWrap(True)
        self.warning_label = QLabel(self)
        self.warning_label.setObjectName("noteWarning")
        self.warning_label.setWordWrap(True)
        self.warning_label.setStyleSheet("QLabel { color: white; background: #b00020;"
                                         " padding: 4px; font-weight: 600; }")
        self.warning_label.hide()
        self.problem_label = QLabel(self)
        self.problem_label.setObjectName("noteProblem")
        self.problem_label.setWordWrap(True)
        self.problem_label.setStyleSheet(ERROR_STYLE)
        self.problem_label.hide()

        self.texts: dict[str, ExpandingTextEdit] = {}
        self.fill_buttons: dict[str, QPushButton] = {}
        self.fields: dict[str, dict[str, _FieldRow]] = {}
        body = QWidget()
        self._body = QVBoxLayout(body)
        for section in template.sections:
            self._add_section(body, section)
        self.addenda_box = QVBoxLayout()
        self._body.addLayout(self.addenda_box)
        self._body.addStretch(1)
        scroll = QScrollArea(self)
        scroll.setObjectName("noteScroll")
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(body)
        self.note_scroll = scroll

        top = QHBoxLayout()
        top.addWidget(self.back_button)
        top.addWidget(self.title_edit, 1)
        self.top_row = top
        buttons = QHBoxLayout()
        for button in (self.save_button, self.sign_button, self.cosign_button,
                       self.addendum_button, self.history_button, self.export_button,
                       self.expanders_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        # Other capabilities' tools for this note (the dictation recorder) go here; their
        # toggles in the top row, where the title leaves room at 700 px.
        self.extras_box = QVBoxLayout()
        layout = QVBoxLayout(self)
        layout.addWidget(self.banner)
        layout.addLayout(top)
        layout.addLayout(buttons)
        layout.addWidget(self.status_label)
        layout.addWidget(self.warning_label)
        layout.addWidget(self.problem_label)
        layout.addLayout(self.extras_box)
        layout.addWidget(scroll, 1)
        self.title_edit.textEdited.connect(lambda _text: self.changed.emit())
        self.set_mode(signed=False, can_sign=True, can_cosign=False, can_write=True)

    def _button(self, text: str, name: str, signal: object) -> QPushButton:
        button = QPushButton(text, self)
        button.setObjectName(name)
        button.clicked.connect(signal.emit)  # type: ignore[attr-defined]
        return button

    def _add_section(self, body: QWidget, section: TemplateSection) -> None:
        title = QLabel(section.title + (" *" if section.required else ""), body)
        title.setObjectName(f"title_{section.key}")
        title.setStyleSheet("font-weight: 600; margin-top: 6px;")
        if section.kind == "fields":
            self._body.addWidget(title)
            grid = QGridLayout()
            rows: dict[str, _FieldRow] = {}
            for i, spec in enumerate(section.fields):
                label = QLabel(spec.label, body)
                edit = QLineEdit(body)
                edit.setObjectName(f"field_{section.key}_{spec.key}")
                edit.setAccessibleName(f"{spec.label} ({spec.unit})" if spec.unit
                                       else spec.label)
                edit.setMaximumWidth(110)
                bounds = ("" if spec.minimum is None or spec.maximum is None
                          else f"{spec.minimum:g}–{spec.maximum:g}")
                edit.setPlaceholderText(bounds)
                label.setBuddy(edit)
                unit = QLabel(spec.unit, body)
                error = QLabel(body)
                error.setObjectName(f"error_{section.key}_{spec.key}")
                error.setStyleSheet(ERROR_STYLE)
                error.setWordWrap(True)
                error.hide()
                grid.addWidget(label, 2 * i, 0)
                grid.addWidget(edit, 2 * i, 1)
                grid.addWidget(unit, 2 * i, 2)
                grid.addWidget(error, 2 * i + 1, 1, 1, 3)
                row = _FieldRow(spec, edit, error)
                rows[spec.key] = row
                edit.textEdited.connect(lambda _t, r=row: self._on_field_edited(r))
            grid.setColumnStretch(3, 1)
            self.fields[section.key] = rows
            self._body.addLayout(grid)
            return
        text = ExpandingTextEdit(body)
        text.setObjectName(f"text_{section.key}")
        text.setAccessibleName(section.title)
        text.setPlaceholderText(section.hint)
        title.setBuddy(text)
        text.textChanged.connect(self._on_text_changed)
        self.texts[section.key] = text
        if section.kind == "smart":
            line = QHBoxLayout()
            line.addWidget(title)
            fill = QPushButton("Fill from chart", body)
            fill.setObjectName(f"fill_{section.key}")
            fill.setAccessibleName(f"Fill {section.title} from chart")
            fill.clicked.connect(lambda _c=False, k=section.key: self.fill_requested.emit(k))
            self.fill_buttons[section.key] = fill
            line.addWidget(fill)
            line.addStretch(1)
            self._body.addLayout(line)
        else:
            self._body.addWidget(title)
        self._body.addWidget(text)

    def _on_field_edited(self, row: _FieldRow) -> None:
        row.check()
        self.changed.emit()

    def _on_text_changed(self) -> None:
        if not self._loading:
            self.changed.emit()

    _loading = False

    # ------------------------------------------------------------ content

    def set_content(self, content: NoteContent) -> None:
        """Show ``content`` without announcing a change (it is not the user's edit)."""
        self._loading = True
        try:
            self.title_edit.setText(content.title)
            for section in self.template.sections:
                got = content.section(section.key)
                if section.key in self.texts:
                    self.texts[section.key].setPlainText(got.text if got else "")
                for key, row in self.fields.get(section.key, {}).items():
                    row.edit.setText(got.value(key) if got else "")
                    row.check()
        finally:
            self._loading = False

    def content(self) -> NoteContent:
        sections = []
        for section in self.template.sections:
            if section.key in self.fields:
                values = tuple((k, row.edit.text().strip())
                               for k, row in self.fields[section.key].items()
                               if row.edit.text().strip())
                sections.append(SectionContent(section.key, section.title, values=values))
            else:
                sections.append(SectionContent(section.key, section.title,
                                               self.texts[section.key].toPlainText()))
        return NoteContent(self.title_edit.text().strip() or self.template.title,
                           tuple(sections))

    def set_section_text(self, key: str, text: str) -> None:
        """Smart fill: the user asked for it, so it is a change."""
        self.texts[key].setPlainText(text)

    def field_problems(self) -> list[str]:
        return [p for rows in self.fields.values() for row in rows.values()
                if (p := row.check())]

    def empty_required(self) -> list[str]:
        content = self.content()
        out = []
        for section in self.template.sections:
            got = content.section(section.key)
            if section.required and (got is None or not (got.text.strip() or got.values)):
                out.append(section.title)
        return out

    def set_expanders(self, expanders: dict[str, str]) -> None:
        for edit in self.texts.values():
            edit.expanders = expanders

    # ------------------------------------------------------------ state

    def set_mode(self, *, signed: bool, can_sign: bool, can_cosign: bool,
                 can_write: bool) -> None:
        """A signed note is read-only; its actions are addendum, co-sign, export."""
        editable = can_write and not signed
        self.title_edit.setReadOnly(not editable)
        for edit in self.texts.values():
            edit.setReadOnly(not editable)
            # A frozen note does not look like a form waiting for input.
            edit.setStyleSheet("" if editable else "QPlainTextEdit { background: "
                               "palette(window); }")
        for rows in self.fields.values():
            for row in rows.values():
                row.edit.setReadOnly(not editable)
        for button in self.fill_buttons.values():
            button.setVisible(editable)
        self.save_button.setVisible(editable)
        self.expanders_button.setVisible(editable)
        self.sign_button.setVisible(editable and can_sign)
        self.addendum_button.setVisible(signed and can_write)
        self.cosign_button.setVisible(signed and can_cosign)
        self.export_button.setVisible(signed)

    def set_status(self, text: str) -> None:
        self.status_label.setText(text)

    def show_problem(self, sentence: str) -> None:
        self.problem_label.setText(sentence)
        self.problem_label.setVisible(bool(sentence))

    def set_warning(self, sentence: str) -> None:
        self.warning_label.setText(sentence)
        self.warning_label.setVisible(bool(sentence))

    def set_addenda(self, addenda: list[tuple[str, str]]) -> None:
        """(heading, text) per addendum, shown after the original."""
        while self.addenda_box.count():
            item = self.addenda_box.takeAt(0)
            old = item.widget() if item is not None else None
            if old is not None:
                old.deleteLater()
        for heading, text in addenda:
            label = QLabel(f"<b>{_escape(heading)}</b><br>{_escape(text)}")
            label.setObjectName("addendum")
            label.setWordWrap(True)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            label.setStyleSheet("QLabel { border-left: 3px solid #1976d2; padding: 4px 8px;"
                                " margin-top: 8px; }")
            self.addenda_box.addWidget(label)


def _escape(text: str) -> str:
    import html

    return html.escape(text).replace("\n", "<br>")
