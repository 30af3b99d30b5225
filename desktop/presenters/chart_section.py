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
from typing import Protocol

from PySide6.QtWidgets import QWidget


class ChartSection(Protocol):
    key: str      # "notes", "orders", ...
    title: str    # "&Notes" (the mnemonic is the section's keyboard path)

    def widget(self) -> QWidget: ...
    def load(self, done: Callable[[], None]) -> None: ...
    def refresh(self, actions: frozenset[str]) -> None: ...
    def close(self) -> bool: ...


# Makes a section for one open chart: (patient record, its caption for dialogs) → section.
# desktop/bootstrap.py holds one factory per section kind and hands them to the chart.
SectionFactory = Callable[..., ChartSection]
