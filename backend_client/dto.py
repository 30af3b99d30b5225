"""Frozen data-transfer objects: what services return and the UI renders."""

from __future__ import annotations

from dataclasses import dataclass

STORES: tuple[str, ...] = ("postgres", "mongo", "redis", "objects")
STORE_LABELS = {"postgres": "PostgreSQL", "mongo": "MongoDB", "redis": "Redis",
                "objects": "Object storage"}


@dataclass(frozen=True)
class StoreHealth:
    """One store's health as last checked."""

    store: str
    ok: bool
    version: str
    round_trip_ms: float | None
    location: str
    error: str = ""

    @property
    def label(self) -> str:
        return STORE_LABELS[self.store]

    def sentence(self) -> str:
        if self.ok:
            return (f"{self.label} is reachable at {self.location} ({self.version}, "
                    f"{self.round_trip_ms or 0:.1f} ms round trip).")
        return f"{self.label} is not reachable at {self.location}: {self.error}"
