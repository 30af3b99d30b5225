"""A recording's delivery file, kept encoded while it is recorded and edited (no Qt).

At stop the recording goes to the upload queue as one OGG/Opus file. Encoding five minutes
takes ~2 s of CPU, over issue 12's budget of 1 s from stop to verified in S3, so the file is
encoded as the segments are written (a second encoder beside the segments' own), and an
edit (insert or overwrite inside the audio) re-encodes only around its two joins, reusing
the packets on either side:

- Packet ``k`` of a stream decodes to the frames ``[k * F - L, (k + 1) * F - L)`` (F = 320,
  20 ms; L = the encoder's lookahead). An edit at frame ``at`` keeps the packets wholly
  before it (``k < i``, ``i = (at + L) // F``) and starts a fresh encoder half a second
  earlier, at ``s = i * F - WARM``, fed the audio already there; its packets from
  ``(i * F - s) / F`` on take over exactly where the kept ones stop. Half a second is ample
  for the encoder's adaptive state to settle (it holds ~L frames of signal and a few frames
  of prediction), so the join is not heard.
- The take's frames go to that encoder as they are written.
- When the take ends, the audio that followed the edit point (or the overwritten stretch)
  goes to the same encoder for a few packets past its own lookahead, and the old packets
  resume from there: after an insert of ``n`` frames they moved ``n`` frames later, so
  they land on the same grid only when ``n`` is a multiple of F — the recorder pads an
  inserted take to whole 20 ms frames with silence (capture.py). An insert that is not
  (a take written through another path) is not spliced: the file is assembled from the
  segments at stop instead, as after a restart.
- The old live encoder, the one at the end of the audio, stays the live encoder: appends
  after an edit continue it.

Decoding the result gives the same number of frames as the edit list, and the same audio
except within a packet or two of a join (measured in tests/unit/test_dictation_assembly.py
against assembling from scratch).
"""

from __future__ import annotations

import io
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from backend_client.dictation import ogg_opus

F = ogg_opus.FRAME
WARM = 25 * F          # half a second of audio before an edit, to settle a fresh encoder
MARGIN = 3             # packets of the old audio re-encoded past the lookahead before a join

# Audio of the recording's current edit list, frames [a, b).
Reader = Callable[[int, int], np.ndarray]


@dataclass
class _Edit:
    mode: str
    at: int
    keep: int                      # old packets kept before the edit (i)
    start: int                     # where the edit's encoder starts (s, a multiple of F)
    encoder: ogg_opus.PacketEncoder
    packets: list[bytes] = field(default_factory=list)
    pending: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int16))
    taken: int = 0                 # frames of the take written so far
    adopted: bool = False          # its encoder became the live one


def _feed(encoder: ogg_opus.PacketEncoder, pending: np.ndarray, pcm: np.ndarray,
          out: list[bytes]) -> np.ndarray:
    """Encode the whole frames of ``pending + pcm`` into ``out``; returns what is left."""
    data = np.concatenate([pending, np.asarray(pcm, dtype=np.int16).reshape(-1)])
    whole = len(data) // F * F
    if whole:
        out += encoder.encode(data[:whole])
    return data[whole:].copy()


class Assembly:
    """One recording's delivery file, encoded as it is made (see the module docstring).

    ``frames`` is the length of the audio it holds. Thread-safe: the recorder's writer
    thread appends while the upload pool may finish it.
    """

    def __init__(self, lib: object, *, bitrate: int, complexity: int) -> None:
        self._make = lambda: ogg_opus.PacketEncoder(lib, bitrate=bitrate,
                                                    complexity=complexity)
        self._encoder = self._make()                  # live, at the end of the audio
        self._packets: list[bytes] = []
        self._pending = np.zeros(0, dtype=np.int16)   # < one frame at the end
        self.frames = 0
        self._edit: _Edit | None = None
        self._done: bytes | None = None
        self._lock = threading.Lock()

    @property
    def lookahead(self) -> int:
        return self._encoder.lookahead

    @property
    def editing(self) -> bool:
        return self._edit is not None

    def write(self, pcm: np.ndarray) -> None:
        """Frames recorded: appended at the end, or into the edit under way."""
        with self._lock:
            if self._done is not None:
                return      # finished at stop; the recorder writes nothing after that
            edit = self._edit
            if edit is None:
                self._pending = _feed(self._encoder, self._pending, pcm, self._packets)
                self.frames += len(pcm)
            else:
                edit.pending = _feed(edit.encoder, edit.pending, pcm, edit.packets)
                edit.taken += len(pcm)

    def begin_edit(self, mode: str, at: int, read: Reader) -> None:
        """A take in ``mode`` ("insert" or "overwrite") starts at frame ``at`` (< frames)."""
        with self._lock:
            if self._edit is not None or not 0 <= at < self.frames:
                raise ValueError("an edit is under way, or the position is not inside")
            keep = min((at + self.lookahead) // F, len(self._packets))
            start = max(0, keep * F - WARM)
            edit = _Edit(mode, at, keep, start, self._make())
            edit.pending = _feed(edit.encoder, edit.pending, read(start, at), edit.packets)
            self._edit = edit

    def end_edit(self, read: Reader) -> bool:
        """The take has ended: join the audio after it. ``read`` reads the edit list that
        now includes the take. False when the take cannot be joined on the packet grid
        (an insert of a length that is not whole frames): the caller drops the assembly."""
        with self._lock:
            edit, self._edit = self._edit, None
            if edit is None:
                return True
            try:
                return self._join(edit, read)
            finally:
                if not edit.adopted:
                    edit.encoder.free()

    def _join(self, edit: _Edit, read: Reader) -> bool:
        old_frames = self.frames
        n = edit.taken
        if edit.mode == "insert":
            resume, shift = edit.at, n          # old frame ``resume`` is now at + shift
        else:
            resume, shift = edit.at + n, max(0, edit.at + n - old_frames)
        first = edit.keep - edit.start // F     # the edit encoder's first packet we keep
        left = self._packets[:edit.keep]
        if resume >= old_frames:
            # Nothing after the take (an overwrite running past the end): the edit's
            # encoder is at the end of the audio now and carries on as the live one.
            self._packets = left + edit.packets[first:]
            self._pending = edit.pending
            self._adopt(edit)
            self.frames = edit.at + n
            return True
        if shift % F:
            return False
        back = -(-(resume + self.lookahead) // F) + MARGIN   # first old packet to reuse
        new_at = resume + shift                        # where the old audio goes on
        if back >= len(self._packets):
            # Close to the end: re-encode the rest, and the edit's encoder goes on.
            pcm = read(new_at, old_frames + shift)
            pending = _feed(edit.encoder, edit.pending, pcm, edit.packets)
            self._packets = left + edit.packets[first:]
            self._pending = pending
            self._adopt(edit)
            self.frames = old_frames + shift
            return True
        pcm = read(new_at, back * F + shift)
        pending = _feed(edit.encoder, edit.pending, pcm, edit.packets)
        assert not len(pending)
        upto = back + (shift - edit.start) // F         # the edit encoder's packets so far
        assert upto == len(edit.packets), (upto, len(edit.packets))
        self._packets = left + edit.packets[first:upto] + self._packets[back:]
        self.frames = old_frames + shift
        return True

    def _adopt(self, edit: _Edit) -> None:
        self._encoder.free()
        self._encoder = edit.encoder
        edit.adopted = True

    def finish(self) -> bytes:
        """The file, the live encoder's tail included (no more writes after this)."""
        with self._lock:
            if self._edit is not None:
                raise ValueError("an edit is under way")
            if self._done is None:
                packets = self._packets + self._encoder.tail(self._pending)
                out = io.BytesIO()
                ogg_opus.write_stream(out, packets, frames=self.frames,
                                      pre_skip=self._encoder.pre_skip,
                                      vendor=self._encoder.vendor)
                self._done = out.getvalue()
                self._encoder.free()
                self._packets = []
            return self._done

    def close(self) -> None:
        with self._lock:
            self._encoder.free()
            if self._edit is not None:
                self._edit.encoder.free()
