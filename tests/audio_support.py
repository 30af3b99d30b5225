"""A virtual microphone for dictation tests: a private PulseAudio playing espeak-ng speech.

Why PulseAudio and not a file or ALSA's null device: only a sound server gives a clocked
input device, so the recorder is driven at real time by PortAudio's own callbacks exactly
as with a headset (../shared/BACKENDS.md has the recipe and what was measured). The
daemon is the test session's own (its socket in a private folder, ended by its PID);
``vmic_sink`` is the "mouth": what ``paplay`` plays into it is what ``vmic`` records.
A loopback from that sink's monitor to ``vmic_keepalive`` keeps the sinks at low latency
(idle null sinks render ~2 s ahead, so a recorder that just opened would get no frames for
up to 2 s), and ``vmic_speaker`` is the default output so nothing the app plays leaks
into the microphone.

PortAudio reads ``PULSE_SERVER`` once, when it initialises (sounddevice does that at
import). The rest of the suite may import sounddevice first, so ``use_pulse`` sets the
variable and, if sounddevice is already loaded, re-initialises PortAudio (``_terminate``/
``_initialize``, what sounddevice documents for re-scanning devices). Only done while no
stream is open.

Also a command line for the kill tests and benchmark: ``python -m tests.audio_support
record DATA_DIR [--open ID] [--segment-frames N]`` records from the default microphone
until killed, printing ``recording <id>`` once capture runs.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

RATE = 16_000
# Speak only this long after capture started. In the first ~0.1 s of a new capture stream
# PulseAudio may drop ~8 ms once (136 frames, seen in 3 of 8 runs on this machine: the
# lag of the played speech jumps once, then holds to the frame); with this pause, 16 of 16
# runs held one lag throughout (correlation 0.991-0.992). A person does not start talking
# within 0.1 s of pressing Record either.
SETTLE = 0.4

# Two short dictations with different voices, so that each is told apart by correlation.
SPEECH = {
    "a": ("Patient reports chest pain since Monday, worse on exertion.", []),
    "b": ("Blood pressure one forty over ninety, pulse regular.", ["-v", "en+f3", "-p", "70"]),
}


@dataclass
class PulseServer:
    """One private PulseAudio daemon with the virtual microphone."""

    folder: Path
    proc: subprocess.Popen[bytes]

    @property
    def server(self) -> str:
        return f"unix:{self.folder}/native"

    def env(self) -> dict[str, str]:
        return {**os.environ, "PULSE_SERVER": self.server}

    def play(self, wav: Path, *, wait: bool = True) -> subprocess.Popen[bytes]:
        """Speak ``wav`` into the microphone (returns when it has all been played)."""
        proc = subprocess.Popen(["paplay", "--device=vmic_sink", str(wav)], env=self.env())
        if wait:
            assert proc.wait(timeout=60) == 0
        return proc

    def kill(self) -> None:
        """The device vanishes at once (a USB headset pulled out)."""
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.kill()
        shutil.rmtree(self.folder, ignore_errors=True)


def start_pulse(settle: float = 2.0) -> PulseServer:
    """Start a private daemon; returns once it answers and has settled (BACKENDS.md)."""
    # A short folder name: a unix socket path must stay under 108 bytes.
    folder = Path(tempfile.mkdtemp(prefix="vmic-", dir="/tmp"))
    env = {**os.environ, "HOME": str(folder), "XDG_RUNTIME_DIR": str(folder),
           "XDG_CONFIG_HOME": str(folder)}
    env.pop("PULSE_SERVER", None)
    log = open(folder / "pulse.log", "wb")  # noqa: SIM115 - the daemon holds it
    proc = subprocess.Popen(
        ["pulseaudio", "-n", "--daemonize=no", "--exit-idle-time=-1", "--use-pid-file=no",
         f"--load=module-native-protocol-unix socket={folder}/native auth-anonymous=1",
         "--load=module-null-sink sink_name=vmic_sink rate=16000 channels=1",
         "--load=module-remap-source source_name=vmic master=vmic_sink.monitor",
         "--load=module-null-sink sink_name=vmic_keepalive rate=16000 channels=1",
         "--load=module-loopback source=vmic_sink.monitor sink=vmic_keepalive "
         "latency_msec=60",
         "--load=module-null-sink sink_name=vmic_speaker rate=16000 channels=1"],
        env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    log.close()
    mic = PulseServer(folder, proc)
    deadline = time.monotonic() + 15
    while subprocess.run(["pactl", "info"], env=mic.env(), capture_output=True).returncode:
        if proc.poll() is not None or time.monotonic() > deadline:
            text = (folder / "pulse.log").read_text(errors="replace")
            mic.stop()
            raise RuntimeError(f"PulseAudio did not start: {text[-2000:]}")
        time.sleep(0.05)
    for args in (["set-default-source", "vmic"], ["set-default-sink", "vmic_speaker"]):
        subprocess.run(["pactl", *args], env=mic.env(), check=True)
    time.sleep(settle)
    return mic


def use_pulse(server: str | None) -> None:
    """Point PortAudio (in this process) at ``server``; None: no sound server at all."""
    if server is None:
        os.environ.pop("PULSE_SERVER", None)
    else:
        os.environ["PULSE_SERVER"] = server
    if "sounddevice" in sys.modules:
        import sounddevice as sd

        sd._terminate()
        sd._initialize()


@contextmanager
def pulse_env(server: str | None) -> Iterator[None]:
    before = os.environ.get("PULSE_SERVER")
    use_pulse(server)
    try:
        yield
    finally:
        use_pulse(before)


_shared: dict[str, Any] = {"users": 0}


@pytest.fixture(scope="session")
def virtual_mic() -> Iterator[PulseServer]:
    """The session's virtual microphone, this process's default input device.

    Test modules import this fixture, which makes one definition per module; the daemon
    is shared through ``_shared`` and ended when the last of them is torn down."""
    if "mic" not in _shared:
        _shared["before"] = os.environ.get("PULSE_SERVER")
        _shared["mic"] = start_pulse()
        use_pulse(_shared["mic"].server)
    _shared["users"] += 1
    yield _shared["mic"]
    _shared["users"] -= 1
    if _shared["users"] == 0:
        mic = _shared.pop("mic")
        use_pulse(_shared.pop("before"))
        mic.stop()


def make_speech(folder: Path, name: str) -> Path:
    """espeak-ng → WAV, sox → 16 kHz mono int16 (cached in ``folder``)."""
    out = folder / f"{name}.wav"
    if not out.exists():
        text, voice = SPEECH[name]
        raw = folder / f"{name}-raw.wav"
        subprocess.run(["espeak-ng", *voice, "-w", str(raw), text], check=True)
        subprocess.run(["sox", str(raw), "-r", "16000", "-c", "1", "-b", "16", str(out)],
                       check=True)
    return out


@pytest.fixture(scope="session")
def speech(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.getbasetemp() / "speech"
    folder.mkdir(exist_ok=True)
    return {name: make_speech(folder, name) for name in SPEECH}


def read_wav(path: Path) -> np.ndarray:
    import soundfile as sf

    data, rate = sf.read(str(path), dtype="int16")
    assert rate == RATE
    return np.asarray(data, dtype=np.int16).reshape(-1)


# ----- comparing what was recorded with what was played -----------------------------------
def best_match(recorded: np.ndarray, played: np.ndarray) -> tuple[int, float]:
    """(lag, normalised cross-correlation) of ``played`` at its best place in ``recorded``.

    The correlation is computed by FFT for every lag; the value returned is the exact
    normalised one at the best lag: 1.0 means the same waveform up to a gain."""
    a = recorded.astype(np.float64)
    b = played.astype(np.float64)
    if len(a) < len(b):
        a = np.concatenate([a, np.zeros(len(b) - len(a))])
    n = 1 << int(np.ceil(np.log2(len(a) + len(b))))
    corr = np.fft.irfft(np.fft.rfft(a, n) * np.conj(np.fft.rfft(b, n)), n)[:len(a) - len(b) + 1]
    # Normalise by the energy of each window of ``a`` so a loud stretch does not win.
    energy = np.concatenate([[0.0], np.cumsum(a * a)])
    win = energy[len(b):] - energy[:-len(b)]
    score = corr / np.sqrt(np.maximum(win, 1e-9) * float(b @ b))
    lag = int(np.argmax(score))
    seg = a[lag:lag + len(b)]
    return lag, float(seg @ b / np.sqrt(float(seg @ seg) * float(b @ b) + 1e-9))


def speech_span(pcm: np.ndarray, floor: float = 0.02) -> int:
    """Frames from the first to the last 10 ms window louder than ``floor`` of the peak."""
    x = np.abs(pcm.astype(np.int32))
    if not len(x) or not x.max():
        return 0
    windows = x[:len(x) // 160 * 160].reshape(-1, 160).max(axis=1)
    loud = np.flatnonzero(windows > floor * x.max())
    return int((loud[-1] - loud[0] + 1) * 160)


# ----- a disk that fills up ---------------------------------------------------------------
PAGE = 4096
SMALL_SEGMENT = 8_000          # 0.5 s: one tmpfs page each, so the disk fills within seconds


def disk_full_scenario(data_dir: Path, speech_wav: Path, server: str) -> dict[str, Any]:
    """Record into ``data_dir`` (a small, empty tmpfs) while speech plays, leaving room for
    about three segments; report what the user would see and what is on disk."""
    from backend_client.dictation.capture import Recorder
    from backend_client.dictation.dto import RecordingTarget
    from backend_client.dictation.local_store import LocalDictationStore

    store = LocalDictationStore(data_dir, key=bytes(range(32)))
    recorder = Recorder(store, segment_frames=SMALL_SEGMENT)
    rec = recorder.new(1, RecordingTarget(patient_id=1, patient_caption="Full, Disk"))
    filler = data_dir / "filler"
    with open(filler, "wb") as fh:
        free = os.statvfs(data_dir).f_bavail * os.statvfs(data_dir).f_frsize
        fh.write(b"\0" * max(0, free - 4 * PAGE))   # the manifest's rewrite + ~3 segments
    player = subprocess.Popen(["paplay", "--device=vmic_sink", str(speech_wav)],
                              env={**os.environ, "PULSE_SERVER": server})
    recorder.record()
    deadline = time.monotonic() + 10
    while recorder.status().state == "recording" and time.monotonic() < deadline:
        time.sleep(0.05)
    player.kill()
    player.wait()
    status = recorder.status()
    folder = store.folder(rec.id)
    seg_frames = []
    for path in sorted(folder.glob("*.seg")):
        take, seq = int(path.name[1:5]), int(path.name[6:12])
        from backend_client.dictation import sealing
        n, _ = sealing.open_segment(store.recording_key(rec.id), rec.id, take, seq,
                                    path.read_bytes())
        seg_frames.append(n)
    out: dict[str, Any] = {
        "state": status.state, "problem": status.problem,
        "status_duration_ms": status.duration_ms, "segments": seg_frames,
        "tmp_files": [p.name for p in folder.glob("*.tmp")],
        "damaged": list(store.damaged(rec.id)), "pcm_frames": len(store.pcm(rec.id))}
    filler.unlink()                 # space again: recording goes on where it stopped
    recorder.record()
    time.sleep(1.2)
    recorder.pause()
    out["after_freeing_frames"] = store.duration_frames(rec.id)
    out["after_freeing_problem"] = recorder.status().problem
    recorder.close()
    return out


# ----- a recorder process to kill ----------------------------------------------------------
def _record_forever(args: argparse.Namespace) -> None:
    from backend_client.dictation.capture import Recorder
    from backend_client.dictation.dto import RecordingTarget
    from backend_client.dictation.local_store import LocalDictationStore

    store = LocalDictationStore(Path(args.data_dir), use_keyring=False)
    recorder = Recorder(store, segment_frames=args.segment_frames)
    if args.open:
        rec = recorder.open(args.open, args.author)
    else:
        rec = recorder.new(args.author, RecordingTarget(patient_id=1, patient_caption="Kill"))
    recorder.record()
    print(f"recording {rec.id}", flush=True)
    while True:
        time.sleep(3600)


@dataclass
class KillCounts:
    """What a run of kills found: finished segments lost, segments that do not open,
    duplicated segments or takes, recordings not found interrupted or not rendering."""

    kills: int = 0
    segments: int = 0
    lost: int = 0
    corrupt: int = 0
    duplicate: int = 0
    not_interrupted: int = 0
    not_rendering: int = 0

    def add(self, other: KillCounts) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))


def kill_lane(data_dir: Path, kills: int, server: str, seed: int, *,
              segment_frames: int = 4_000, max_wait: float = 1.2,
              per_recording: int = 10) -> KillCounts:
    """Start a recorder process, kill -9 it at a random instant, check the disk, start it
    again on the same (interrupted) recording; ``kills`` times, a new recording every
    ``per_recording`` kills (each check reads the whole recording: this keeps it small).

    Every other run is killed a random time after capture began; the others a random
    time after the process started, so kills also land while it opens the recording and
    rewrites the manifest for a new take. "Finished" segments are the ``.seg`` files the
    process had renamed into place when the folder was last listed before the kill.
    """
    import random

    from backend_client.dictation.local_store import LocalDictationStore

    rng = random.Random(seed)
    counts = KillCounts()
    rid = ""
    finished: set[str] = set()
    # 0.25 s segments: a write every quarter second, so kills often land inside one.
    root = Path(__file__).resolve().parent.parent
    env = {**os.environ, "PULSE_SERVER": server}
    for i in range(kills):
        if i % per_recording == 0:
            counts.segments += len(finished)
            rid, finished = "", set()
        cmd = [sys.executable, "-m", "tests.audio_support", "record", str(data_dir),
               "--segment-frames", str(segment_frames)] + (["--open", rid] if rid else [])
        proc = subprocess.Popen(cmd, cwd=root, env=env, stdout=subprocess.PIPE)
        assert proc.stdout is not None
        if rid and i % 2:
            # Python and its imports take ~0.35 s on an idle machine: these kills land
            # while capturing or while the recording is opened and its new take written
            # to the manifest (on a loaded machine, more of them before anything is written).
            time.sleep(0.3)
        else:
            # These a random time after capture began, however long the start took.
            said = proc.stdout.readline().decode().split()[-1]
            rid = rid or said
        folder = data_dir / "dictation" / "rec" / rid
        deadline = time.monotonic() + rng.uniform(0.05, max_wait)
        while time.monotonic() < deadline:
            finished.update(p.name for p in folder.glob("*.seg"))
            time.sleep(0.01)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        counts.kills += 1
        store = LocalDictationStore(data_dir, use_keyring=False)
        on_disk = {p.name for p in folder.glob("*.seg")}
        counts.lost += len(finished - on_disk)
        damaged = store.damaged(rid)
        counts.corrupt += len(damaged)
        blobs = [p.read_bytes() for p in folder.glob("*.seg")]
        takes = [t["take"] for t in store.manifest(rid)["takes"]]
        counts.duplicate += (len(blobs) - len(set(blobs))) + (len(takes) - len(set(takes)))
        if rid not in {r.id for r in store.interrupted(1)}:
            counts.not_interrupted += 1
        try:
            import soundfile as sf

            expected = store.duration_frames(rid)
            # An empty recording (killed before its first segment) has no audio to render.
            frames = sf.info(io.BytesIO(store.render(rid))).frames if expected else 0
            if frames != expected:
                counts.not_rendering += 1
        except Exception:  # noqa: BLE001 - counted, not raised: the run goes on
            counts.not_rendering += 1
        finished = on_disk
    counts.segments += len(finished)
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.audio_support")
    sub = parser.add_subparsers(dest="cmd", required=True)
    rec = sub.add_parser("record", help="record from the default microphone until killed")
    rec.add_argument("data_dir")
    rec.add_argument("--open", default="")
    rec.add_argument("--author", type=int, default=1)
    rec.add_argument("--segment-frames", type=int, default=32_000)
    full = sub.add_parser("diskfull", help="mount a small tmpfs at DIR and fill it while "
                          "recording (run inside unshare --user --map-root-user --mount)")
    full.add_argument("data_dir")
    full.add_argument("speech")
    full.add_argument("server")
    args = parser.parse_args()
    if args.cmd == "record":
        _record_forever(args)
    elif args.cmd == "diskfull":
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k,mode=0700", "tmpfs",
                        args.data_dir], check=True)
        os.environ["PULSE_SERVER"] = args.server
        print(json.dumps(disk_full_scenario(Path(args.data_dir), Path(args.speech),
                                            args.server)))


if __name__ == "__main__":
    main()
