"""How a section plugs into a patient's chart (``desktop/presenters/chart.py``).

The chart loads its header first, then each section in turn, off the GUI thread: it calls
``load(done)`` and the section calls ``done()`` once its first data is shown (or its error
sentence is), so the next section starts. When a change event for the patient arrives
(kind "chart"/"note"/"task", or a reconnect), the chart calls ``refresh(actions)`` on every
section with the events' actions ("problem", "order", "saved", ... ; empty = everything);
a section refetches only what concerns it. ``close()`` is called when the chart tab closes:
a section with unsaved work (a note being written) saves it first and returns False if it
must keep the tab open (the user is asked).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from PySide6.QtWidgets import QWidget

from backend_client.dto import PatientRecord


class ChartSection(Protocol):
    key: str      # "notes", "orders", ...
    title: str    # "&Notes" (the mnemonic is the section's keyboard path)

    def widget(self) -> QWidget: ...
    def load(self, done: Callable[[], None]) -> None: ...
    def refresh(self, actions: frozenset[str]) -> None: ...
    def close(self) -> bool: ...


@dataclass(frozen=True)
class SectionFactory:
    """Makes one kind of section for an open chart: ``make(patient record, its caption for
    dialogs)``. Its key and title are known before it is made, so a chart lists every
    section (and its Alt+digit) at once and makes each one only when its turn to load comes
    or the user asks for it: making ten sections at once held the GUI thread ~20 ms.
    desktop/bootstrap.py holds one factory per section kind and hands them to the chart.
    """

    key: str
    title: str
    make: Callable[[PatientRecord, str], ChartSection]

    def __call__(self, record: PatientRecord, caption: str) -> ChartSection:
        return self.make(record, caption)
