"""Configuration: environment variables (``DRA_*``), then an optional TOML file.

A store whose URL is left unset is provided by the local stack (the embedded default).
``load_settings`` turns every validation problem into one :class:`ConfigError` sentence that
names the setting and what is wrong with it, without echoing passwords.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import platformdirs
from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic import ValidationError as PydanticValidationError
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from backend_client.errors import ConfigError

APP_NAME = "dr-assistant"
ENV_PREFIX = "DRA_"


def default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def default_config_file() -> Path:
    override = os.environ.get(f"{ENV_PREFIX}CONFIG_FILE")
    if override:
        return Path(override)
    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False)) / "config.toml"


def _check_url(value: str | None, schemes: tuple[str, ...], example: str) -> str | None:
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    parts = urlsplit(value)
    if parts.scheme not in schemes:
        got = f"a '{parts.scheme}' URL" if parts.scheme else "no URL scheme"
        raise ValueError(f"must be a URL such as {example} (got {got})")
    if not parts.netloc and "host=" not in parts.query and parts.scheme != "unix":
        raise ValueError(f"must name a host, as in {example}")
    return value


class Settings(BaseSettings):
    """Everything the app reads from its environment. Construct with :func:`load_settings`."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore")

    postgres_url: str | None = None
    mongo_url: str | None = None
    mongo_database: str = "dr_assistant"
    redis_url: str | None = None
    s3_endpoint_url: str | None = None
    s3_bucket: str | None = None
    s3_access_key_id: str | None = None
    s3_secret_access_key: SecretStr | None = None
    s3_region: str = "us-east-1"
    data_dir: Path = Field(default_factory=default_data_dir)
    health_interval_seconds: float = Field(default=15.0, ge=1.0, le=3600.0)
    # Sessions (HIPAA automatic logoff): the screen locks after this many idle minutes;
    # a session ends, whatever happens, after session_max_hours.
    idle_lock_minutes: int = Field(default=10, ge=2, le=30)
    session_max_hours: float = Field(default=12.0, ge=1.0, le=24.0)
    # Shown in the audit trail and the session list; the computer's name when unset.
    workstation_name: str | None = Field(default=None, max_length=100)
    # The owner's URL for `dr-assistant-admin migrate|seed` when the app's own login
    # (postgres_url) may not change the schema; unset: postgres_url is used.
    postgres_admin_url: str | None = None
    # MongoDB as a user who may create collections, validators and indexes and grant the
    # app's user its role, for `dr-assistant-admin migrate`; unset: mongo_url is used.
    mongo_admin_url: str | None = None
    store_timeout_seconds: float = Field(default=3.0, gt=0.0, le=60.0)

    @field_validator("postgres_url", "postgres_admin_url")
    @classmethod
    def _postgres(cls, v: str | None) -> str | None:
        return _check_url(
            v, ("postgresql", "postgres", "postgresql+psycopg"),
            "postgresql://user@host:5432/dbname",
        )

    @field_validator("mongo_url", "mongo_admin_url")
    @classmethod
    def _mongo(cls, v: str | None) -> str | None:
        return _check_url(v, ("mongodb", "mongodb+srv"), "mongodb://host:27017/?replicaSet=rs0")

    @field_validator("redis_url")
    @classmethod
    def _redis(cls, v: str | None) -> str | None:
        return _check_url(v, ("redis", "rediss", "unix"), "redis://host:6379/0")

    @field_validator("s3_endpoint_url")
    @classmethod
    def _s3(cls, v: str | None) -> str | None:
        return _check_url(v, ("http", "https"), "https://s3.clinic.example:9000")

    @field_validator("data_dir")
    @classmethod
    def _data_dir(cls, v: Path) -> Path:
        v = v.expanduser()
        if v.exists() and not v.is_dir():
            raise ValueError(f"must be a folder, but {v} is a file")
        return v

    @model_validator(mode="after")
    def _s3_complete(self) -> Settings:
        if self.s3_endpoint_url and not self.s3_bucket:
            raise ValueError("DRA_S3_BUCKET must be set when DRA_S3_ENDPOINT_URL is set")
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Environment beats the file: an administrator can override one value for one run.
        toml = TomlConfigSettingsSource(settings_cls, toml_file=default_config_file())
        return (init_settings, env_settings, toml)

    @property
    def uses_object_store_s3(self) -> bool:
        return bool(self.s3_endpoint_url)


def load_settings(**overrides: Any) -> Settings:
    """Read the settings, or raise :class:`ConfigError` with one readable sentence."""
    try:
        return Settings(**overrides)
    except PydanticValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = [str(p) for p in err.get("loc", ()) if p != "__root__"]
            name = f"{ENV_PREFIX}{loc[0].upper()}" if loc else "configuration"
            msg = str(err.get("msg", "is not valid"))
            msg = msg.removeprefix("Value error, ")
            if not loc:
                problems.append(msg)
            elif msg.startswith("must"):
                problems.append(f"{name} {msg}")
            else:
                problems.append(f"{name} is not valid: {msg[:1].lower()}{msg[1:]}")
        raise ConfigError("Configuration problem: " + "; ".join(problems) + ".") from None
    except Exception as exc:  # a broken TOML file, for one
        raise ConfigError(
            f"Configuration problem: cannot read {default_config_file()}: {exc}."
        ) from None
