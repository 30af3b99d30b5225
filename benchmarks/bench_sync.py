"""Live updates across processes: a change committed in one process → the ``changed`` Qt
signal in another.

    python -m benchmarks sync        (BENCH_SYNC_N changes, default 1000)

One embedded stack in a temp dir. This process is workstation A: each change is a real
unit of work on PostgreSQL (an UPDATE as the schema owner, ``announce``d) whose ``commit()``
commits and then publishes on ``dra:events``. A second process is workstation B: a
QCoreApplication (offscreen) running ``RedisNotificationBridge`` on the app's own Redis
login; its slot on ``changed`` notes ``time.time()`` for every event it delivers.

Both processes read the same wall clock of this machine (``time.time()``; the
monotonic clocks of two processes are not comparable by contract), so a latency is B's
time at the signal minus A's time just before ``commit()``: the commit itself, the
publish, Redis, B's subscriber thread, the queued hop to B's GUI thread and the signal.
Changes are paced (one every BENCH_SYNC_GAP_MS, default 5 ms), as edits at a clinic
are; a burst with no gap is measured as well (one emission may then carry several).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RECEIVER_URL_ENV = "BENCH_SYNC_REDIS_URL"


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


# ---------------------------------------------------------------- workstation B


def receive(expected: int, timeout_s: float) -> None:
    """Runs in the child: prints 'ready' once subscribed, then one JSON line with
    [[version, time.time()], ...] and the number of emissions."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QCoreApplication, QTimer

    from backend_client.stores.redis.client import build_redis
    from desktop.bridges.notifications import RedisNotificationBridge

    app = QCoreApplication([])
    bridge = RedisNotificationBridge(build_redis(os.environ[RECEIVER_URL_ENV]))
    got: list[tuple[int, float]] = []
    emissions = [0]

    def on_changed(events: tuple[object, ...]) -> None:
        now = time.time()
        emissions[0] += 1
        got.extend((getattr(e, "version", -1), now) for e in events)
        if len(got) >= expected:
            app.quit()

    bridge.changed.connect(on_changed)
    bridge.resynced.connect(lambda: print("ready", flush=True))
    QTimer.singleShot(int(timeout_s * 1000), app.quit)
    bridge.start()
    app.exec()
    bridge.stop()
    print(json.dumps({"received": got, "emissions": emissions[0]}), flush=True)


# ---------------------------------------------------------------- workstation A


def _run_round(backend: object, uid: int, n: int, gap_s: float, first: int,
               redis_url: str) -> tuple[list[float], int, int]:
    from sqlalchemy import text

    from backend_client.sync.events import ChangeEvent, RedisChangePublisher
    from backend_client.uow import unit_of_work

    root = Path(__file__).resolve().parent.parent
    env = {**os.environ, RECEIVER_URL_ENV: redis_url, "QT_QPA_PLATFORM": "offscreen",
           "PYTHONPATH": str(root)}
    child = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.bench_sync", "--receive", str(n), "120"],
        stdout=subprocess.PIPE, text=True, env=env, cwd=root)
    try:
        assert child.stdout is not None
        line = child.stdout.readline().strip()
        if line != "ready":
            raise RuntimeError(f"the receiving process did not start: {line!r}")
        publisher = RedisChangePublisher(backend.redis)  # type: ignore[attr-defined]
        engine = backend.owner_engine  # type: ignore[attr-defined]
        rename = text("UPDATE users SET display_name = :n, version = version + 1 "
                      "WHERE id = :id")
        sent: dict[int, float] = {}
        for i in range(first, first + n):
            with unit_of_work(engine, publisher=publisher) as uow:
                uow.session.execute(rename, {"n": f"Bench {i}", "id": uid})
                uow.announce(ChangeEvent(kind="directory", id=uid, version=i,
                                         action="renamed", workstation="bench-a"))
                sent[i] = time.time()
                uow.commit()
            if gap_s:
                time.sleep(gap_s)
        out, _ = child.communicate(timeout=150)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    result = json.loads(out.strip().splitlines()[-1])
    latencies = [(t - sent[v]) * 1000 for v, t in result["received"] if v in sent]
    return latencies, len(result["received"]), int(result["emissions"])


def main() -> None:
    from sqlalchemy import text

    from backend_client.backend import open_backend
    from backend_client.config import load_settings
    from backend_client.schema import migrate

    n = int(os.environ.get("BENCH_SYNC_N", "1000"))
    gap_s = float(os.environ.get("BENCH_SYNC_GAP_MS", "5")) / 1000
    with tempfile.TemporaryDirectory(prefix="bench-sync-") as tmp:
        backend = open_backend(load_settings(data_dir=Path(tmp)))
        try:
            migrate(backend)
            with backend.owner_engine.begin() as conn:
                uid = int(conn.execute(text(
                    "INSERT INTO users (username, display_name) VALUES ('benchsync', "
                    "'Bench') RETURNING id")).scalar_one())
            redis_url = backend.stack.endpoints().redis_url  # type: ignore[union-attr]
            _run_round(backend, uid, 50, gap_s, 1, redis_url)  # warm-up, not counted
            paced, got, emissions = _run_round(backend, uid, n, gap_s, 1000, redis_url)
            burst, got_b, emissions_b = _run_round(backend, uid, n, 0.0, 10**6, redis_url)
        finally:
            backend.close(stop_stack=True)
    print("change committed in process A (PostgreSQL UPDATE + announce, commit()) → "
          "'changed' Qt signal in process B (RedisNotificationBridge on a QCoreApplication); "
          "latency = B's time.time() at the signal − A's time.time() before commit()")
    for label, lat, count, emits in (
            (f"paced, one change every {gap_s * 1000:.0f} ms", paced, got, emissions),
            ("burst, back to back", burst, got_b, emissions_b)):
        print(f"{label}: {count}/{n} received in {emits} emissions; "
              f"p50 {statistics.median(lat):.2f} ms, p99 {pct(lat, 99):.2f} ms, "
              f"max {max(lat):.2f} ms (target p99 <= 50 ms)")


if __name__ == "__main__":
    if len(sys.argv) >= 2 and sys.argv[1] == "--receive":
        receive(int(sys.argv[2]), float(sys.argv[3]))
    else:
        main()
