from __future__ import annotations

from pathlib import Path

import pytest

from backend_client.config import load_settings
from backend_client.errors import ConfigError


@pytest.mark.parametrize(
    ("var", "value", "expected"),
    [
        ("DRA_POSTGRES_URL", "mysql://admin:hunter2@db/x",
         "DRA_POSTGRES_URL must be a URL such as"),
        ("DRA_MONGO_URL", "http://mongo:27017", "DRA_MONGO_URL must be a URL such as"),
        ("DRA_REDIS_URL", "localhost:6379", "DRA_REDIS_URL must be"),
        ("DRA_S3_ENDPOINT_URL", "ftp://s3", "DRA_S3_ENDPOINT_URL must be"),
        ("DRA_HEALTH_INTERVAL_SECONDS", "often", "DRA_HEALTH_INTERVAL_SECONDS is not valid"),
        ("DRA_STORE_TIMEOUT_SECONDS", "-1", "DRA_STORE_TIMEOUT_SECONDS is not valid"),
    ],
)
def test_a_wrong_value_names_the_setting_in_one_sentence(
    monkeypatch: pytest.MonkeyPatch, var: str, value: str, expected: str
) -> None:
    monkeypatch.setenv(var, value)
    with pytest.raises(ConfigError) as info:
        load_settings()
    message = str(info.value)
    assert expected in message
    assert "\n" not in message and "Traceback" not in message
    assert "hunter2" not in message  # passwords are never echoed


def test_s3_endpoint_without_bucket_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DRA_S3_ENDPOINT_URL", "https://s3.example:9000")
    with pytest.raises(ConfigError, match="DRA_S3_BUCKET must be set"):
        load_settings()


def test_unset_stores_are_left_to_the_local_stack() -> None:
    s = load_settings()
    assert (s.postgres_url, s.mongo_url, s.redis_url, s.s3_endpoint_url) == (None,) * 4


def test_toml_file_is_read_and_environment_wins(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    cfg = tmp_path / "config.toml"
    cfg.write_text('redis_url = "redis://cache.clinic:6379/0"\n'
                   'postgres_url = "postgresql://app@db.clinic/dra"\n')
    monkeypatch.setenv("DRA_CONFIG_FILE", str(cfg))
    monkeypatch.setenv("DRA_POSTGRES_URL", "postgresql://app@other.clinic/dra")
    s = load_settings()
    assert s.redis_url == "redis://cache.clinic:6379/0"
    assert s.postgres_url == "postgresql://app@other.clinic/dra"


def test_a_broken_toml_file_is_one_clear_sentence(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    cfg = tmp_path / "config.toml"
    cfg.write_text("redis_url = \n")
    monkeypatch.setenv("DRA_CONFIG_FILE", str(cfg))
    with pytest.raises(ConfigError, match="cannot read .*config.toml"):
        load_settings()


def test_data_dir_that_is_a_file_is_refused(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    f = tmp_path / "afile"
    f.write_text("x")
    monkeypatch.setenv("DRA_DATA_DIR", str(f))
    with pytest.raises(ConfigError, match="DRA_DATA_DIR must be a folder"):
        load_settings()
