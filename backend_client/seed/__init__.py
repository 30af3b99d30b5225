"""Deterministic synthetic clinic data (``generator``) and its bulk loader (``loader``).

``dr-assistant-admin seed`` loads a clinic of any size; the embedded default seeds a
small demo clinic on first start with ``seed_demo_if_empty``.
"""

from backend_client.seed.loader import SeedReport, seed, seed_demo_if_empty

__all__ = ["SeedReport", "seed", "seed_demo_if_empty"]
