"""The one SQLAlchemy Engine (psycopg 3), built in the composition root."""

from __future__ import annotations

from sqlalchemy import Engine, create_engine
from sqlalchemy.engine import make_url


def normalise_url(url: str) -> str:
    """Accept ``postgresql://`` and ``postgres://`` and use the psycopg 3 driver."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def build_engine(url: str, *, timeout_seconds: float = 3.0, pool_size: int = 5) -> Engine:
    return create_engine(
        normalise_url(url),
        pool_pre_ping=True,
        # Bound values are patient data: never into exception texts and so never into logs.
        hide_parameters=True,
        pool_size=pool_size,
        max_overflow=5,
        pool_timeout=timeout_seconds * 2,
        connect_args={"connect_timeout": max(1, int(round(timeout_seconds))),
                      "application_name": "dr-assistant"},
    )
