"""Run every benchmark module in this folder: ``python -m benchmarks [name ...]``."""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path


def main() -> int:
    wanted = set(sys.argv[1:])
    here = Path(__file__).parent
    for info in sorted(pkgutil.iter_modules([str(here)]), key=lambda m: m.name):
        if not info.name.startswith("bench_"):
            continue
        if wanted and info.name.removeprefix("bench_") not in wanted and info.name not in wanted:
            continue
        print(f"== {info.name}", flush=True)
        importlib.import_module(f"benchmarks.{info.name}").main()
    return 0


if __name__ == "__main__":
    sys.exit(main())
