"""An Ogg Opus writer (RFC 7845) on libopus through ctypes: 16 kHz mono int16 in, bytes out.

Why not libsndfile's writer: it runs at ~35x real time here, under issue 12's target of
50x for encode + seal; libopus called directly, one 20 ms frame per call, is several times
faster (benchmarks/bench_dictation_encode.py). Decoding stays with libsndfile (codec.py).

The stream: page 0 holds OpusHead alone (beginning-of-stream), page 1 OpusTags, then audio
pages of at most ~1 s of 20 ms packets. Pre-skip is the encoder's own lookahead
(OPUS_GET_LOOKAHEAD) in 48 kHz samples; a page's granule position counts the 48 kHz
samples its packets decode to, pre-skip included (RFC 7845 section 4). The encoder is fed
the frames, then that lookahead in silence and silence up to a whole 20 ms frame, so every
real frame comes out of the decoder; the last page's granule position is
``pre-skip + 3 * frames``, so a decoder that honours it (libsndfile, FFmpeg) returns
exactly the frames written. The last page always holds at least the last two packets, so
the trim never reaches into an earlier page (RFC 7845 section 4.4).

``load()`` returns None when libopus cannot be loaded; codec.py then falls back to
libsndfile's writer.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import io
import logging
import os
import struct
import threading
import zlib
from types import TracebackType
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

SAMPLE_RATE = 16_000
FRAME = 320                       # 20 ms at 16 kHz
_SCALE = 48_000 // SAMPLE_RATE    # Ogg Opus granule positions count 48 kHz samples
_MAX_PACKET = 4000                # libopus's recommended output buffer size
_PAGE_PACKETS = 50                # ~1 s of audio per page: little overhead, quick seeking

_APPLICATION_AUDIO = 2049
_SET_BITRATE = 4002
_SET_VBR = 4006
_SET_COMPLEXITY = 4010
_SET_SIGNAL = 4024
_GET_LOOKAHEAD = 4027
_SIGNAL_VOICE = 3001

_DEBIAN_PATHS = ("/lib/x86_64-linux-gnu/libopus.so.0", "/usr/lib/x86_64-linux-gnu/libopus.so.0",
                 "/lib/aarch64-linux-gnu/libopus.so.0", "/usr/lib/aarch64-linux-gnu/libopus.so.0")

_lib: Any = None
_tried = False
_load_lock = threading.Lock()     # the recorder's writer thread and the upload pool race


def load() -> Any:
    """libopus as a ``ctypes.CDLL``, or None when it is not installed (cached)."""
    with _load_lock:
        return _load()


def _load() -> Any:
    global _lib, _tried
    if _tried:
        return _lib
    _tried = True
    names = [n for n in (ctypes.util.find_library("opus"),) if n]
    names += [p for p in _DEBIAN_PATHS if os.path.exists(p)] + ["libopus.so.0"]
    for name in names:
        try:
            lib = ctypes.CDLL(name)
        except OSError:
            continue
        lib.opus_encoder_create.restype = ctypes.c_void_p
        lib.opus_encoder_create.argtypes = [ctypes.c_int32, ctypes.c_int, ctypes.c_int,
                                            ctypes.POINTER(ctypes.c_int)]
        lib.opus_encoder_destroy.restype = None
        lib.opus_encoder_destroy.argtypes = [ctypes.c_void_p]
        lib.opus_encode.restype = ctypes.c_int32
        lib.opus_encode.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int,
                                    ctypes.c_void_p, ctypes.c_int32]
        lib.opus_get_version_string.restype = ctypes.c_char_p
        _lib = lib
        return lib
    log.info("dictation: libopus not found; encoding with libsndfile's slower Opus writer")
    return None


# ----- Ogg pages --------------------------------------------------------------------------
# The Ogg CRC is CRC-32, polynomial 0x04C11DB7, not reflected, initial value 0, no final
# xor. zlib's crc32 is the reflected form of the same polynomial, so it computes the Ogg CRC
# in C on bit-reversed bytes: reflect the input bytes, undo zlib's initial and final xor,
# reflect the 32-bit result. tests/unit/test_dictation_codec.py checks it against the
# table-driven definition.
_REVERSE = bytes(int(f"{b:08b}"[::-1], 2) for b in range(256))


def ogg_crc(data: bytes) -> int:
    raw = zlib.crc32(data.translate(_REVERSE), 0xFFFFFFFF) ^ 0xFFFFFFFF
    return int(f"{raw:032b}"[::-1], 2)


_PAGE_HEADER = struct.Struct("<4sBBqIIIB")


def ogg_page(packets: list[bytes], *, granule: int, serial: int, seq: int,
             flags: int = 0) -> bytes:
    """One Ogg page holding ``packets`` whole (at most 255 lacing values in all)."""
    lacing = bytearray()
    for p in packets:
        lacing += b"\xff" * (len(p) // 255) + bytes((len(p) % 255,))
    if len(lacing) > 255:
        raise ValueError("too many packets for one Ogg page")
    head = _PAGE_HEADER.pack(b"OggS", 0, flags, granule, serial, seq, 0, len(lacing))
    page = bytearray(head + lacing + b"".join(packets))
    struct.pack_into("<I", page, 22, ogg_crc(bytes(page)))
    return bytes(page)


def _lacing_len(packet: bytes) -> int:
    return len(packet) // 255 + 1


# ----- packets ----------------------------------------------------------------------------
class PacketEncoder:
    """libopus with the stream's settings: whole 20 ms frames in, one packet per frame out.

    Packet ``k`` of an encoder fed from frame 0 decodes to the input frames
    ``[k * FRAME - lookahead, (k + 1) * FRAME - lookahead)``: the encoder's lookahead delays
    its output, and a stream's pre-skip (``lookahead * 3``) drops that much at its start.
    assembly.py splices packets of several encoders on that grid.
    """

    def __init__(self, lib: Any, *, bitrate: int, complexity: int) -> None:
        self._lib = lib
        err = ctypes.c_int()
        enc = lib.opus_encoder_create(SAMPLE_RATE, 1, _APPLICATION_AUDIO, ctypes.byref(err))
        if not enc or err.value != 0:
            raise RuntimeError(f"opus_encoder_create failed ({err.value})")
        self._enc: int | None = enc
        for request, value in ((_SET_BITRATE, bitrate), (_SET_COMPLEXITY, complexity),
                               (_SET_VBR, 1), (_SET_SIGNAL, _SIGNAL_VOICE)):
            lib.opus_encoder_ctl(ctypes.c_void_p(enc), request, ctypes.c_int32(value))
        lookahead = ctypes.c_int32()
        lib.opus_encoder_ctl(ctypes.c_void_p(enc), _GET_LOOKAHEAD, ctypes.byref(lookahead))
        self.lookahead = int(lookahead.value)          # at 16 kHz
        self.pre_skip = self.lookahead * _SCALE
        self._buf = ctypes.create_string_buffer(_MAX_PACKET)
        version = lib.opus_get_version_string() or b"libopus"
        self.vendor = bytes(version)

    def encode(self, pcm: np.ndarray) -> list[bytes]:
        """The packets of ``pcm`` (int16, its length a multiple of FRAME)."""
        if self._enc is None:
            raise ValueError("encode with a freed Opus encoder")
        pcm = np.ascontiguousarray(pcm, dtype=np.int16).reshape(-1)
        if len(pcm) % FRAME:
            raise ValueError("Opus packets are made of whole 20 ms frames")
        enc, buf, encode = ctypes.c_void_p(self._enc), self._buf, self._lib.opus_encode
        base = pcm.ctypes.data
        out = []
        for i in range(len(pcm) // FRAME):
            n = encode(enc, base + i * FRAME * 2, FRAME, buf, _MAX_PACKET)
            if n < 0:
                raise RuntimeError(f"opus_encode failed ({n})")
            out.append(ctypes.string_at(buf, n))
        return out

    def tail(self, pending: np.ndarray) -> list[bytes]:
        """The last packets: ``pending`` (< one frame) and the lookahead, in silence up to
        a whole frame, so that every real frame comes out of the decoder."""
        pad = -(len(pending) + self.lookahead) % FRAME
        return self.encode(np.concatenate([np.asarray(pending, dtype=np.int16),
                                           np.zeros(self.lookahead + pad, dtype=np.int16)]))

    def free(self) -> None:
        if getattr(self, "_enc", None) is not None:
            self._lib.opus_encoder_destroy(ctypes.c_void_p(self._enc))
            self._enc = None

    def __del__(self) -> None:
        self.free()


def write_stream(out: io.BytesIO, packets: list[bytes], *, frames: int, pre_skip: int,
                 vendor: bytes, serial: int | None = None) -> None:
    """An Ogg Opus file of ``packets`` (the tail included) holding ``frames`` real frames.

    Page 0 holds OpusHead alone (beginning of stream), page 1 OpusTags, then pages of at
    most ~1 s of packets. The last page holds at least the last two packets — every packet
    the end trim reaches into (up to one frame of padding plus the lookahead) — and its
    granule position ``pre_skip + 3 * frames`` says where the audio ends.
    """
    serial = int.from_bytes(os.urandom(4), "little") if serial is None else serial
    seq = 0

    def emit(page: list[bytes], granule: int, flags: int = 0) -> None:
        nonlocal seq
        out.write(ogg_page(page, granule=granule, serial=serial, seq=seq, flags=flags))
        seq += 1

    head = struct.pack("<8sBBHIhB", b"OpusHead", 1, 1, pre_skip, SAMPLE_RATE, 0, 0)
    tags = b"OpusTags" + struct.pack("<I", len(vendor)) + vendor + struct.pack("<I", 0)
    emit([head], 0, 0x02)
    emit([tags], 0)
    done, n = 0, len(packets)
    while done < n:
        take, lacing = 0, 0
        while done + take < n and take < _PAGE_PACKETS and \
                lacing + _lacing_len(packets[done + take]) <= 255:
            lacing += _lacing_len(packets[done + take])
            take += 1
        rest = n - done - take
        if 0 < rest < 2:        # keep two packets for the last page
            take -= 2 - rest
        if done + take == n:
            emit(packets[done:], pre_skip + frames * _SCALE, 0x04)
            return
        emit(packets[done:done + take], (done + take) * FRAME * _SCALE)
        done += take
    emit([], pre_skip + frames * _SCALE, 0x04)


# ----- the writer -------------------------------------------------------------------------
class OggOpusWriter:
    """Encodes int16 mono frames written piece by piece into an Ogg Opus stream in ``out``.

    The same streaming interface as ``soundfile.SoundFile``'s: ``write(frames)``, then
    ``close()`` (or use it as a context manager), after which ``out`` holds the file.
    """

    def __init__(self, out: io.BytesIO, lib: Any, *, sample_rate: int = SAMPLE_RATE,
                 bitrate: int, complexity: int) -> None:
        if sample_rate != SAMPLE_RATE:
            raise ValueError("the Ogg Opus writer takes 16 kHz audio only")
        self._out = out
        self._encoder = PacketEncoder(lib, bitrate=bitrate, complexity=complexity)
        self.pre_skip = self._encoder.pre_skip
        self._pending = np.zeros(0, dtype=np.int16)     # < one frame, waiting for more
        self._packets: list[bytes] = []
        self.frames = 0                                 # real frames written
        self.closed = False

    def write(self, frames: np.ndarray) -> None:
        if self.closed:
            raise ValueError("write to a closed Ogg Opus writer")
        data = np.asarray(frames, dtype=np.int16).reshape(-1)
        if not len(data):
            return
        self.frames += len(data)
        if len(self._pending):
            data = np.concatenate([self._pending, data])
        whole = len(data) // FRAME * FRAME
        self._pending = data[whole:].copy()
        if whole:
            self._packets += self._encoder.encode(data[:whole])

    def close(self) -> None:
        """Flush the lookahead, write the pages (end of stream) and free the encoder."""
        if self.closed:
            return
        try:
            if self.frames:
                self._packets += self._encoder.tail(self._pending)
            write_stream(self._out, self._packets, frames=self.frames,
                         pre_skip=self.pre_skip, vendor=self._encoder.vendor)
            self._packets = []
        finally:
            self._encoder.free()
            self.closed = True

    def __enter__(self) -> OggOpusWriter:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if exc_type is None:
            self.close()
        else:
            self._encoder.free()
            self.closed = True
