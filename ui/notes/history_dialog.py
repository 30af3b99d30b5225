"""A note's revisions (who saved, when) and a readable diff between any two: removed lines
struck through on red with "−", added lines on green with "+" (the markers and the
strike-through carry the meaning without the colours)."""

from __future__ import annotations

import html

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from backend_client.notes.dto import NoteRevision, RevisionDiff
from ui.notes.notes_model import when

_STYLE = {"-": ("#fde7e9", "−", "text-decoration: line-through;"),
          "+": ("#e6f4ea", "+", ""), " ": ("transparent", " ", "")}


def diff_html(diff: RevisionDiff) -> str:
    older, newer = diff.older, diff.newer
    out = [f"<p><b>Revision {older.seq}</b> ({html.escape(older.author)}, "
           f"{when(older.saved_at)}) → <b>revision {newer.seq}</b> "
           f"({html.escape(newer.author)}, {when(newer.saved_at)})</p>"]
    if not diff.changed:
        out.append("<p>These two revisions have the same text.</p>")
    section = None
    for line in diff.lines:
        if line.section != section:
            section = line.section
            out.append(f"<h4 style='margin:8px 0 2px 0'>{html.escape(section)}</h4>")
        background, marker, extra = _STYLE.get(line.kind, _STYLE[" "])
        out.append(f"<div style='background:{background}; font-family:monospace; "
                   f"white-space:pre-wrap'><b>{marker}</b> "
                   f"<span style='{extra}'>{html.escape(line.text) or '&nbsp;'}</span></div>")
    return "".join(out)


class HistoryDialog(QDialog):
    """Signals:
        compare_requested(str, str): older and newer revision ids.
    """

    compare_requested = Signal(str, str)

    def __init__(self, banner: QWidget, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"History of {title}")
        self.resize(820, 600)
        self.revisions: tuple[NoteRevision, ...] = ()
        self.table = QTableWidget(0, 3, self)
        self.table.setObjectName("revisionTable")
        self.table.setHorizontalHeaderLabels(["Revision", "Saved by", "Saved at"])
        self.table.verticalHeader().hide()
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.MultiSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setStretchLastSection(True)
        hint = QLabel("Select two revisions (Space or click) and compare them.", self)
        hint.setWordWrap(True)
        self.compare_button = QPushButton("&Compare", self)
        self.compare_button.setObjectName("compareButton")
        self.compare_button.clicked.connect(self._on_compare)
        self.message = QLabel(self)
        self.message.setObjectName("historyMessage")
        self.message.setWordWrap(True)
        self.diff_view = QTextBrowser(self)
        self.diff_view.setObjectName("diffView")
        self.diff_view.setAccessibleName("Differences")
        top = QWidget()
        top_layout = QVBoxLayout(top)
        top_layout.setContentsMargins(0, 0, 0, 0)
        top_layout.addWidget(hint)
        top_layout.addWidget(self.table)
        top_layout.addWidget(self.compare_button, 0, Qt.AlignmentFlag.AlignLeft)
        top_layout.addWidget(self.message)
        split = QSplitter(Qt.Orientation.Vertical, self)
        split.addWidget(top)
        split.addWidget(self.diff_view)
        split.setStretchFactor(1, 2)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        close.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(banner)
        layout.addWidget(split, 1)
        layout.addWidget(close)

    def show_revisions(self, revisions: tuple[NoteRevision, ...]) -> None:
        self.revisions = revisions
        self.table.setRowCount(len(revisions))
        for row, rev in enumerate(revisions):
            for col, text in enumerate((str(rev.seq), rev.author, when(rev.saved_at))):
                self.table.setItem(row, col, QTableWidgetItem(text))
        self.table.resizeColumnsToContents()
        if len(revisions) >= 2:  # the last change, to start with
            self.select(revisions[-2].id, revisions[-1].id)
            self._on_compare()

    def select(self, *revision_ids: str) -> None:
        self.table.clearSelection()
        for row, rev in enumerate(self.revisions):
            if rev.id in revision_ids:
                self.table.selectRow(row)

    def _on_compare(self) -> None:
        rows = sorted({i.row() for i in self.table.selectionModel().selectedRows()})
        if len(rows) != 2:
            self.show_message("Select exactly two revisions to compare "
                              f"({len(rows)} selected).")
            return
        self.show_message("")
        self.compare_requested.emit(self.revisions[rows[0]].id, self.revisions[rows[1]].id)

    def show_diff(self, diff: RevisionDiff) -> None:
        self.diff_view.setHtml(diff_html(diff))

    def show_message(self, sentence: str) -> None:
        self.message.setText(sentence)
        self.message.setVisible(bool(sentence))
