"""kill -9 of a recording app at random instants: every finished segment survives and
opens, nothing is duplicated, the recording is found interrupted and plays.

30 kills: three recorder processes side by side, each killed and restarted on its
recording ten times (0.25 s segments, so kills often land inside a segment's write). The
1,000-kill run is ``python -m benchmarks dictation_kill``.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tests.audio_support import (  # noqa: F401 - fixtures
    KillCounts,
    PulseServer,
    kill_lane,
    virtual_mic,
)


def test_kill_at_random_instants_loses_no_finished_segment(
        virtual_mic: PulseServer, tmp_path: Path) -> None:  # noqa: F811
    with ThreadPoolExecutor(3) as pool:
        lanes = [pool.submit(kill_lane, tmp_path / f"lane{i}", 10, virtual_mic.server, i)
                 for i in range(3)]
        total = KillCounts()
        for lane in lanes:
            total.add(lane.result())
    print(total)
    assert total.kills == 30
    assert total.segments >= 10                 # kills did land among written segments
    assert (total.lost, total.corrupt, total.duplicate) == (0, 0, 0)
    assert (total.not_interrupted, total.not_rendering) == (0, 0)
