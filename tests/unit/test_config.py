from __future__ import annotations

import os
from pathlib import Path

import pytest

from backend_client.config import load_settings
from backend_client.errors import ConfigError

CLINIC = {
    "DRA_POSTGRES_URL": "postgresql://app:hunter2@db.clinic.example:5432/dra",
    "DRA_MONGO_URL": "mongodb://mongo1.clinic.example,mongo2.clinic.example/?replicaSet=rs0",
    "DRA_REDIS_URL": "redis://:hunter2@cache.clinic.example:6379/0",
    "DRA_S3_ENDPOINT_URL": "https://s3.clinic.example:9000",
    "DRA_S3_BUCKET": "dra",
}


@pytest.fixture(autouse=True)
def _no_config_file(monkeypatch: pytest.MonkeyPatch) -> None:
    """No file unless a test writes one (a DRA_CONFIG_FILE that does not exist is an error)."""
    monkeypatch.setenv("DRA_CONFIG_FILE", os.devnull)


def _problem(monkeypatch: pytest.MonkeyPatch, **env: str) -> str:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(ConfigError) as info:
        load_settings()
    message = str(info.value)
    assert "\n" not in message and "Traceback" not in message
    assert "hunter2" not in message  # passwords are never echoed
    return message


@pytest.mark.parametrize(
    ("var", "value", "expected"),
    [
        ("DRA_POSTGRES_URL", "mysql://admin:hunter2@db/x",
         "DRA_POSTGRES_URL must be a URL such as"),
        ("DRA_MONGO_URL", "http://mongo:27017", "DRA_MONGO_URL must be a URL such as"),
        ("DRA_REDIS_URL", "localhost:6379", "DRA_REDIS_URL must be"),
        ("DRA_S3_ENDPOINT_URL", "ftp://s3", "DRA_S3_ENDPOINT_URL must be"),
        ("DRA_HEALTH_INTERVAL_SECONDS", "often", "DRA_HEALTH_INTERVAL_SECONDS must be a number"),
        ("DRA_STORE_TIMEOUT_SECONDS", "-1", "DRA_STORE_TIMEOUT_SECONDS must be more than 0"),
        ("DRA_IDLE_LOCK_MINUTES", "1", "DRA_IDLE_LOCK_MINUTES must be at least 2"),
        ("DRA_REQUIRE_TLS", "maybe", "DRA_REQUIRE_TLS must be true or false"),
        ("DRA_MODE", "cloud", "DRA_MODE must be one of 'embedded' or 'clinic'"),
        ("DRA_POSTGRES_CA_FILE", "/nonexistent/ca.pem",
         "DRA_POSTGRES_CA_FILE names /nonexistent/ca.pem, which does not exist"),
    ],
)
def test_a_wrong_value_names_the_setting_in_one_sentence(
    monkeypatch: pytest.MonkeyPatch, var: str, value: str, expected: str
) -> None:
    assert expected in _problem(monkeypatch, **{var: value})


def test_s3_endpoint_without_bucket_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    message = _problem(monkeypatch, **{**CLINIC, "DRA_S3_BUCKET": ""})
    assert "DRA_S3_BUCKET is not set" in message


def test_with_no_store_configured_the_embedded_stack_is_used() -> None:
    s = load_settings()
    assert s.embedded
    assert (s.postgres_url, s.mongo_url, s.redis_url, s.s3_endpoint_url) == (None,) * 4


def test_a_complete_clinic_setup_is_not_embedded(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in CLINIC.items():
        monkeypatch.setenv(key, value)
    assert not load_settings().embedded


@pytest.mark.parametrize("given", list(CLINIC))
def test_one_store_setting_asks_for_all_four_and_names_what_is_missing(
        monkeypatch: pytest.MonkeyPatch, given: str) -> None:
    """The finding: one store left unset made the app 'embedded', and it migrated the
    clinic's PostgreSQL and seeded demo accounts into it."""
    message = _problem(monkeypatch, **{given: CLINIC[given]})
    missing = [k for k in CLINIC if k != given]
    assert f"{given} is set, so this is a clinic setup" in message
    assert all(name in message for name in missing), message


def test_mode_embedded_refuses_store_settings_and_clinic_requires_them(
        monkeypatch: pytest.MonkeyPatch) -> None:
    assert "DRA_MODE=embedded runs the local stack, so DRA_REDIS_URL must not be set" in \
        _problem(monkeypatch, DRA_MODE="embedded", DRA_REDIS_URL=CLINIC["DRA_REDIS_URL"])
    monkeypatch.delenv("DRA_REDIS_URL")
    message = _problem(monkeypatch, DRA_MODE="clinic")
    assert "DRA_MODE=clinic needs all four stores" in message
    assert "DRA_POSTGRES_URL" in message and "DRA_S3_BUCKET" in message


def test_unknown_variables_are_errors_with_a_suggestion(monkeypatch: pytest.MonkeyPatch) -> None:
    message = _problem(monkeypatch, DRA_REDIS_URI="redis://cache:6379/0")
    assert "DRA_REDIS_URI is not a setting of Dr. Assistant (did you mean DRA_REDIS_URL?)" \
        in message


def test_a_config_file_that_does_not_exist_is_an_error(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    message = _problem(monkeypatch, DRA_CONFIG_FILE=str(tmp_path / "config.toml"))
    assert f"DRA_CONFIG_FILE names {tmp_path / 'config.toml'}, which does not exist" in message


def test_unknown_keys_in_the_file_are_errors(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    cfg = tmp_path / "config.toml"
    cfg.write_text('redis_uri = "redis://cache.clinic:6379/0"\n')
    message = _problem(monkeypatch, DRA_CONFIG_FILE=str(cfg))
    assert f"redis_uri in {cfg} is not a setting of Dr. Assistant (did you mean redis_url?)" \
        in message


def test_a_bad_value_in_the_file_is_named_as_the_file_spells_it(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    cfg = tmp_path / "config.toml"
    cfg.write_text("idle_lock_minutes = 1\n")
    message = _problem(monkeypatch, DRA_CONFIG_FILE=str(cfg))
    assert f"idle_lock_minutes in {cfg} must be at least 2" in message


def test_toml_file_is_read_and_environment_wins(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    cfg = tmp_path / "config.toml"
    cfg.write_text("".join(f'{k.removeprefix("DRA_").lower()} = "{v}"\n'
                           for k, v in CLINIC.items()))
    monkeypatch.setenv("DRA_CONFIG_FILE", str(cfg))
    monkeypatch.setenv("DRA_POSTGRES_URL", "postgresql://app@other.clinic/dra")
    s = load_settings()
    assert s.redis_url == CLINIC["DRA_REDIS_URL"]
    assert s.postgres_url == "postgresql://app@other.clinic/dra"
    assert not s.embedded


def test_a_broken_toml_file_is_one_clear_sentence(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    cfg = tmp_path / "config.toml"
    cfg.write_text("redis_url = \n")
    assert f"{cfg} is not valid TOML" in _problem(monkeypatch, DRA_CONFIG_FILE=str(cfg))


def test_data_dir_that_is_a_file_is_refused(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    f = tmp_path / "afile"
    f.write_text("x")
    assert "DRA_DATA_DIR must be a folder" in _problem(monkeypatch, DRA_DATA_DIR=str(f))
    assert f"DRA_DATA_DIR must be a folder, but {f} is a file" in \
        _problem(monkeypatch, DRA_DATA_DIR=str(f / "below"))


def test_require_tls_refuses_plain_connections_to_other_computers(
        monkeypatch: pytest.MonkeyPatch) -> None:
    message = _problem(monkeypatch, DRA_REQUIRE_TLS="true", **CLINIC)
    assert "DRA_REQUIRE_TLS is on, but DRA_POSTGRES_URL reaches db.clinic.example without " \
        "verified TLS" in message
    assert "DRA_MONGO_URL reaches mongo1.clinic.example" in message
    assert "DRA_REDIS_URL reaches cache.clinic.example" in message
    assert "DRA_S3_ENDPOINT_URL" not in message  # https is TLS


@pytest.mark.parametrize(("var", "url"), [
    ("DRA_POSTGRES_URL", "postgresql://app@db.clinic.example/dra?sslmode=verify-full"),
    ("DRA_MONGO_URL", "mongodb://mongo.clinic.example/?tls=true"),
    ("DRA_MONGO_URL", "mongodb+srv://cluster.clinic.example/"),
    ("DRA_REDIS_URL", "rediss://cache.clinic.example:6380/0"),
])
def test_require_tls_accepts_verified_tls(monkeypatch: pytest.MonkeyPatch, var: str,
                                          url: str) -> None:
    """Every other store on loopback (which DRA_REQUIRE_TLS leaves alone), this one remote
    over TLS that checks the server's certificate."""
    for key, value in {
        "DRA_POSTGRES_URL": "postgresql://app@127.0.0.1/dra",
        "DRA_MONGO_URL": "mongodb://localhost/?directConnection=true",
        "DRA_REDIS_URL": "redis://[::1]:6379/0",
        "DRA_S3_ENDPOINT_URL": "http://127.0.0.1:9000",
        "DRA_S3_BUCKET": "dra",
        "DRA_REQUIRE_TLS": "true",
        var: url,
    }.items():
        monkeypatch.setenv(key, value)
    assert load_settings().require_tls


@pytest.mark.parametrize(("var", "url"), [
    ("DRA_MONGO_URL", "mongodb://mongo.clinic.example/?tls=true&tlsInsecure=true"),
    ("DRA_REDIS_URL", "rediss://cache.clinic.example:6380/0?ssl_cert_reqs=none"),
    ("DRA_POSTGRES_URL", "postgresql://app@db.clinic.example/dra?sslmode=require"),
])
def test_require_tls_refuses_tls_that_does_not_check_the_certificate(
        monkeypatch: pytest.MonkeyPatch, var: str, url: str) -> None:
    assert f"DRA_REQUIRE_TLS is on, but {var} reaches" in _problem(
        monkeypatch, DRA_REQUIRE_TLS="true", **{**CLINIC, var: url})


def test_s3_over_http_to_another_computer_needs_to_be_allowed(
        monkeypatch: pytest.MonkeyPatch) -> None:
    plain = {**CLINIC, "DRA_S3_ENDPOINT_URL": "http://s3.clinic.example:9000"}
    assert "DRA_S3_ENDPOINT_URL sends recordings to s3.clinic.example unencrypted (http)" in \
        _problem(monkeypatch, **plain)
    monkeypatch.setenv("DRA_S3_ALLOW_HTTP", "true")
    assert load_settings().s3_allow_http
    # DRA_REQUIRE_TLS wins over the permission.
    assert "DRA_S3_ENDPOINT_URL reaches s3.clinic.example without verified TLS" in \
        _problem(monkeypatch, DRA_REQUIRE_TLS="true", **{
            **plain, "DRA_POSTGRES_URL": "postgresql://app@127.0.0.1/dra",
            "DRA_MONGO_URL": "mongodb://127.0.0.1/", "DRA_REDIS_URL": "redis://127.0.0.1/0"})


def test_a_ca_file_with_a_plain_url_is_a_contradiction(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_text("not a certificate")
    message = _problem(monkeypatch, DRA_REDIS_CA_FILE=str(ca), **CLINIC)
    assert "DRA_REDIS_CA_FILE is set, but DRA_REDIS_URL does not use TLS" in message
    assert f"DRA_REDIS_CA_FILE must hold CA certificates in PEM form, but {ca} does not" \
        in message
