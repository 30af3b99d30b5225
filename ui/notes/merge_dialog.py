"""Someone else saved the note first: per section, theirs and yours side by side, the
merge where only one side changed, and a choice (or an edit) where both did. Nothing is
overwritten silently: accepting saves the result as a new revision on top of theirs."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QButtonGroup,
    QDialog,
    QDialogButtonBox,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QRadioButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from backend_client.notes.dto import MergedSection, MergeResult, NoteContent, SectionContent
from ui.notes.text_edit import ExpandingTextEdit


def _values(text: str) -> tuple[tuple[str, str], ...]:
    """Structured values back from their "key: value" lines."""
    out = []
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip():
            out.append((key.strip(), value.strip()))
    return tuple(out)


class _SectionChoice:
    def __init__(self, section: MergedSection, theirs_by: str, parent: QWidget) -> None:
        self.section = section
        if section.conflicted:
            how = " — changed by both: choose"
        elif section.mine == section.base:
            how = f" — changed by {theirs_by} only: theirs taken"
        else:
            how = " — changed by you only: yours kept"
        self.box = QGroupBox(section.title + how, parent)
        self.box.setObjectName(f"merge_{section.key}")
        layout = QVBoxLayout(self.box)
        self.merged = ExpandingTextEdit(self.box)
        self.merged.setObjectName(f"merged_{section.key}")
        self.merged.setAccessibleName(f"{section.title}, merged")
        if not section.conflicted:
            self.merged.setPlainText(section.merged or "")
            layout.addWidget(self.merged)
            self.theirs_button = self.mine_button = None
            return
        sides = QHBoxLayout()
        for heading, text in ((f"Theirs ({theirs_by})", section.theirs),
                              ("Yours", section.mine)):
            column = QVBoxLayout()
            label = QLabel(heading, self.box)
            label.setStyleSheet("font-weight: 600;")
            view = ExpandingTextEdit(self.box)
            view.setPlainText(text)
            view.setReadOnly(True)
            view.setAccessibleName(f"{section.title}, {heading}")
            column.addWidget(label)
            column.addWidget(view)
            sides.addLayout(column)
        layout.addLayout(sides)
        choose = QHBoxLayout()
        self.theirs_button = QRadioButton("Keep &theirs", self.box)
        self.theirs_button.setObjectName(f"theirs_{section.key}")
        self.mine_button = QRadioButton("Keep &yours", self.box)
        self.mine_button.setObjectName(f"mine_{section.key}")
        group = QButtonGroup(self.box)
        group.addButton(self.theirs_button)
        group.addButton(self.mine_button)
        self.theirs_button.toggled.connect(lambda on: self._take(on, section.theirs))
        self.mine_button.toggled.connect(lambda on: self._take(on, section.mine))
        choose.addWidget(self.theirs_button)
        choose.addWidget(self.mine_button)
        choose.addStretch(1)
        layout.addLayout(choose)
        layout.addWidget(QLabel("Result (you can edit it):", self.box))
        layout.addWidget(self.merged)

    def _take(self, on: bool, text: str) -> None:
        if on:
            self.merged.setPlainText(text)

    def decided(self) -> bool:
        if self.theirs_button is None or self.mine_button is None:
            return True
        return (self.theirs_button.isChecked() or self.mine_button.isChecked()
                or bool(self.merged.toPlainText().strip()))


class MergeDialog(QDialog):
    def __init__(self, banner: QWidget, merge: MergeResult, changed_by: str,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.merge = merge
        self.setWindowTitle("Someone else saved this note")
        self.resize(760, 640)
        intro = QLabel(
            f"{changed_by or merge.theirs.author} saved this note while you were writing. "
            "Sections only one of you changed are merged; for each section you both "
            "changed, keep theirs or yours (or edit the result). Saving makes a new revision "
            "on top of theirs.", self)
        intro.setWordWrap(True)
        # Sections neither changed are named in one line, not laid out: the eye goes to
        # what differs.
        changed = [s for s in merge.sections if not (s.mine == s.base == s.theirs)]
        unchanged = [s.title for s in merge.sections if s.mine == s.base == s.theirs]
        self.choices = [_SectionChoice(s, merge.theirs.author, self) for s in changed]
        self.unchanged = tuple(s for s in merge.sections if s not in changed)
        body = QWidget()
        column = QVBoxLayout(body)
        for choice in sorted(self.choices, key=lambda c: not c.section.conflicted):
            column.addWidget(choice.box)
        if unchanged:
            same = QLabel("Unchanged by both: " + ", ".join(unchanged) + ".", body)
            same.setObjectName("unchangedSections")
            same.setWordWrap(True)
            column.addWidget(same)
        column.addStretch(1)
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setWidget(body)
        self.error = QLabel(self)
        self.error.setObjectName("mergeError")
        self.error.setStyleSheet("color: #b00020;")
        self.error.setWordWrap(True)
        self.error.hide()
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                        | QDialogButtonBox.StandardButton.Cancel, self)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("&Save merged note")
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setText(
            "&Back to my version")
        self.buttons.accepted.connect(self._on_accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(banner)
        layout.addWidget(intro)
        layout.addWidget(scroll, 1)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)

    def choice(self, key: str) -> _SectionChoice:
        return next(c for c in self.choices if c.section.key == key)

    def _on_accept(self) -> None:
        undecided = [c.section.title for c in self.choices if not c.decided()]
        if undecided:
            self.error.setText("Choose theirs or yours for: " + ", ".join(undecided) + ".")
            self.error.show()
            return
        self.accept()

    def merged_content(self) -> NoteContent:
        """The note to save. A section whose result is exactly one side's text is that
        side's section as stored (structured values included); an edited result of a
        structured section is read back from its "field: value" lines."""
        texts = {c.section.key: c.merged.toPlainText() for c in self.choices}
        theirs_content = self.merge.theirs.content
        sections = []
        for merged in self.merge.sections:
            mine = self.merge.mine.section(merged.key)
            theirs = theirs_content.section(merged.key)
            text = texts.get(merged.key, merged.mine)
            if text == merged.mine and mine is not None:
                sections.append(mine)
            elif text == merged.theirs and theirs is not None:
                sections.append(theirs)
            elif (mine is not None and mine.values) or (theirs is not None and theirs.values):
                sections.append(SectionContent(merged.key, merged.title, values=_values(text)))
            else:
                sections.append(SectionContent(merged.key, merged.title, text))
        return NoteContent(self.merge.mine.title or theirs_content.title, tuple(sections))
