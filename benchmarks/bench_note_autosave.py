"""What autosaving a note costs: the local store's put (SQLite WAL, fsync at every
commit, AES-GCM sealing), the GUI thread's share of an autosave tick (reading the editor,
hashing), and a keystroke burst typed into the editor. Prints figures; asserts nothing.

    python -m benchmarks note_autosave
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from pathlib import Path


def _figures(name: str, samples: list[float]) -> None:
    ms = sorted(s * 1000 for s in samples)
    p95 = ms[int(len(ms) * 0.95) - 1]
    print(f"{name}: n={len(ms)} median {statistics.median(ms):.2f} ms, p95 {p95:.2f} ms, "
          f"max {ms[-1]:.2f} ms", flush=True)


def main() -> None:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    from backend_client.notes.dto import NoteContent, SectionContent
    from backend_client.notes.local_store import LocalNoteStore, content_hash

    app = QApplication.instance() or QApplication([])
    with tempfile.TemporaryDirectory() as tmp:
        store = LocalNoteStore(Path(tmp) / "notes.sqlite3", 1, bytes(range(32)))
        for size in (2_000, 20_000):
            text = ("Cough for three weeks, worse at night; no fever. " * 400)[:size]
            samples = []
            for i in range(200):
                content = NoteContent("Bench", (SectionContent("s", "Subjective",
                                                               f"{i} {text}"),))
                start = time.perf_counter()
                store.put("n1", 42, "Patient", "Bench", None, content)
                samples.append(time.perf_counter() - start)
            _figures(f"LocalNoteStore.put, {size // 1000} KB note (fsync each)", samples)
        store.close()

    from tests.gui.fake_notes import FakeNotesApi, Harness

    api = FakeNotesApi()
    api.add_note(42, note_id="n1", texts={"subjective": "Cough " * 2000})
    h = Harness(api)
    h.load()
    widget = h.section.widget()
    widget.resize(1000, 800)
    widget.show()  # painted, as on screen
    h.section.on_view_open_requested("n1")
    editor = h.section.editor
    assert editor is not None
    view = editor.view
    samples = []
    for _ in range(200):
        start = time.perf_counter()
        content_hash(view.content())
        samples.append(time.perf_counter() - start)
    _figures("GUI thread per autosave tick (read editor + hash, 12 KB note)", samples)

    box = view.texts["plan"]
    box.setFocus()
    samples = []
    for _ in range(5):
        start = time.perf_counter()
        QTest.keyClicks(box, "Review in two weeks with bloods ")  # 32 keystrokes
        app.processEvents()  # the repaints they caused (a benchmark, not the app)
        samples.append((time.perf_counter() - start) / 32)
        QTest.keyClick(box, Qt.Key.Key_Return)
    _figures("GUI time per keystroke in a 32-key burst (expanders, box growth)", samples)
    del app


if __name__ == "__main__":
    main()
