"""Patient search, this tree against another (an older commit's checkout), at the same
moment: the hard mix's queries go to two search processes in turn, the order alternating,
each query REPS times; each side keeps its best time per query.

    git worktree add /tmp/before <commit>
    BENCH_DATA_DIR=/tmp/sb-speed1m python -m benchmarks.search_duel /tmp/before

On a shared machine, whose speed drifts by half again within minutes, two benchmark runs
minutes apart compare the machine as much as the code; interleaving query by query does
not. Both sides search the same database (BENCH_DATA_DIR, already seeded and migrated by
``python -m benchmarks patient_search``) as the benchmark's receptionist; the other tree
must be able to use that schema. It also reports how many top-10 lists differ: a change
made for speed should change none.
"""

from __future__ import annotations

import os
import random
import statistics
import subprocess
import sys
from pathlib import Path
from typing import IO

from benchmarks import search_hard_mix
from benchmarks.bench_patient_search import pct

# Runs inside each tree (its own backend_client): one query per line in, "ms ids" out.
WORKER = """
import os, sys, time
from backend_client.backend import open_backend
from backend_client.config import load_settings
from backend_client.patients.service import PatientService
from benchmarks.bench_patient_search import _reception
backend = open_backend(load_settings())
service = PatientService(backend.engine, _reception(backend))
print("ready", flush=True)
for line in sys.stdin:
    t = time.perf_counter()
    page = service.search(line.rstrip("\\n"), limit=50)
    ms = (time.perf_counter() - t) * 1000
    print(f"{ms:.3f} {','.join(str(p.id) for p in page.items[:10])}", flush=True)
backend.close(stop_stack=False)
"""


class Side:
    def __init__(self, name: str, tree: Path) -> None:
        self.name = name
        self.proc = subprocess.Popen(
            [sys.executable, "-c", WORKER], cwd=tree, text=True,
            env={**os.environ, "PYTHONPATH": str(tree)},
            stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        if self._out.readline().strip() != "ready":
            raise SystemExit(f"the {name} side ({tree}) did not start")

    @property
    def _out(self) -> IO[str]:
        assert self.proc.stdout is not None
        return self.proc.stdout

    def ask(self, query: str) -> tuple[float, str]:
        assert self.proc.stdin is not None
        self.proc.stdin.write(query + "\n")
        self.proc.stdin.flush()
        ms, ids = self._out.readline().split(" ", 1)
        return float(ms), ids.strip()

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait()


def main() -> None:
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    data_dir = os.environ.setdefault("BENCH_DATA_DIR", "/tmp/seedbench")
    os.environ["DRA_DATA_DIR"] = data_dir
    reps = int(os.environ.get("REPS", "3"))
    from backend_client.backend import open_backend
    from backend_client.config import load_settings

    backend = open_backend(load_settings())
    try:
        mix = search_hard_mix.build(backend.owner_engine,
                                    int(os.environ.get("BENCH_HARD_PER", "60")),
                                    random.Random(2026))
    finally:
        backend.close(stop_stack=False)
    sides = [Side("other", Path(sys.argv[1]).resolve()),
             Side("this", Path(__file__).resolve().parents[1])]
    try:
        for _, q, _, _ in mix[:30]:  # warm both
            for side in sides:
                side.ask(q)
        best: dict[str, list[float]] = {s.name: [] for s in sides}
        differ = 0
        for n, (_, q, _, _) in enumerate(mix):
            times: dict[str, list[float]] = {s.name: [] for s in sides}
            ids: dict[str, str] = {}
            for r in range(reps):
                for side in sides if (n + r) % 2 == 0 else sides[::-1]:
                    ms, ids[side.name] = side.ask(q)
                    times[side.name].append(ms)
            differ += ids["other"] != ids["this"]
            for name, values in times.items():
                best[name].append(min(values))
    finally:
        for side in sides:
            side.close()
    print(f"hard mix, {len(mix)} queries, best of {reps} each, interleaved:")
    for name, values in best.items():
        print(f"  {name:<5} p50 {pct(values, 50):6.2f} ms  p95 {pct(values, 95):6.2f} ms  "
              f"p99 {pct(values, 99):6.2f} ms  mean {statistics.mean(values):6.2f} ms")
    ratio = statistics.median(t / o for o, t in zip(best["other"], best["this"], strict=True))
    print(f"  this / other per query, median {ratio:.3f}; top-10 lists that differ: {differ}")
    kinds = [kind for kind, _, _, _ in mix]
    for kind in sorted(set(kinds)):
        part = {name: [v for v, k in zip(values, kinds, strict=True) if k == kind]
                for name, values in best.items()}
        print(f"  {kind:<21} other p50 {pct(part['other'], 50):6.2f} p95 "
              f"{pct(part['other'], 95):6.2f} | this p50 {pct(part['this'], 50):6.2f} p95 "
              f"{pct(part['this'], 95):6.2f}")


if __name__ == "__main__":
    main()
