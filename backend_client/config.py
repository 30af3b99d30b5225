"""Configuration: environment variables (``DRA_*``), then an optional TOML file.

Which stores the app uses is decided once, here, and never guessed from half a setup:

- **embedded**: no store is configured (or ``DRA_MODE=embedded``). The local stack under the
  data folder provides all four.
- **clinic**: any store setting is given (or ``DRA_MODE=clinic``). Then PostgreSQL, MongoDB,
  Redis and S3 must all be configured; a missing one is an error that names it, never a
  silent fall-back to the local stack (which would migrate the clinic's database and fill it
  with demo data).

``load_settings`` turns every problem into one :class:`ConfigError` sentence that names the
setting and what is wrong with it, without echoing passwords. An unknown ``DRA_*`` variable,
an unknown key in the TOML file and a ``DRA_CONFIG_FILE`` that does not exist are errors too:
a typo must not quietly leave a setting at its default.
"""

from __future__ import annotations

import difflib
import ipaddress
import os
import re
import ssl
import stat
import tomllib
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qs, unquote, urlsplit

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
CONFIG_FILE_VAR = f"{ENV_PREFIX}CONFIG_FILE"


def default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def _config_file_choice() -> tuple[Path, bool]:
    """The TOML file to read, and whether ``DRA_CONFIG_FILE`` named it."""
    override = os.environ.get(CONFIG_FILE_VAR)
    if override:
        return Path(override).expanduser(), True
    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False)) / "config.toml", False


def default_config_file() -> Path:
    return _config_file_choice()[0]


# --------------------------------------------------------------------------- URLs and hosts


def _env_name(field: str) -> str:
    return f"{ENV_PREFIX}{field.upper()}"


def _split_hosts(netloc: str, example: str) -> list[str]:
    """Host names of a URL's netloc, which may list several (``h1:1,h2:2``) as libpq and
    MongoDB allow. Raises ValueError for a port that is not a number from 1 to 65535."""
    hostlist = netloc.rpartition("@")[2]
    hosts = []
    for item in hostlist.split(","):
        if not item:
            continue
        if item.startswith("["):  # [::1]:5432
            host, _, rest = item[1:].partition("]")
            port = rest[1:] if rest.startswith(":") else ""
        else:
            host, _, port = item.partition(":")
        if port and not (port.isdigit() and 0 < int(port) < 65536):
            raise ValueError(f"must have a port from 1 to 65535, as in {example}")
        hosts.append(unquote(host))
    return hosts


def is_loopback(host: str) -> bool:
    """Whether traffic to ``host`` stays on this computer (a unix socket counts)."""
    if not host or host.startswith("/") or host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _query(url: str) -> dict[str, str]:
    """A URL's query parameters, names lower-cased, the last value of each."""
    return {k.lower(): v[-1] for k, v in parse_qs(urlsplit(url).query).items()}


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
    query_hosts = [h for h in parse_qs(parts.query).get("host", []) if h]
    if not _split_hosts(parts.netloc, example) and not query_hosts and parts.scheme != "unix":
        raise ValueError(f"must name a host, as in {example}")
    return value


def url_hosts(url: str) -> list[str]:
    """Every host a store URL may connect to (netloc and libpq's ``host=``)."""
    parts = urlsplit(url)
    if parts.scheme == "unix":
        return [parts.path or "/"]
    hosts = _split_hosts(parts.netloc, url)
    for value in parse_qs(parts.query).get("host", []):
        hosts.extend(h for h in value.split(",") if h)
    return hosts or [""]


def masked(url: str) -> str:
    """The URL with its password, if any, replaced by ***."""
    parts = urlsplit(url)
    userinfo, at, hosts = parts.netloc.rpartition("@")
    if not at or ":" not in userinfo:
        return url
    user = userinfo.split(":", 1)[0]
    return parts._replace(netloc=f"{user}:***@{hosts}").geturl()


def where(url: str) -> str:
    """``host:port`` of a URL (or hosts, comma-separated), never its credentials."""
    parts = urlsplit(url)
    if parts.scheme == "unix":
        return parts.path
    netloc = parts.netloc.rpartition("@")[2]
    if netloc:
        return netloc
    return ",".join(url_hosts(url)) or "localhost"


_PG_VERIFIED = ("verify-ca", "verify-full")
_PG_SSLMODES = ("disable", "allow", "prefer", "require", *_PG_VERIFIED)
_MONGO_DB_FORBIDDEN = set('/\\. "$*<>:|?\0')
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_REGION = re.compile(r"^[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$")
_TRUE = ("true", "1", "yes", "on")

# Settings that only mean something for a configured store: giving any of them asks for the
# clinic setup. (mongo_database names the database on the embedded stack too.)
STORE_FIELDS = (
    "postgres_url", "postgres_admin_url", "postgres_ca_file", "postgres_cert_file",
    "postgres_key_file", "mongo_url", "mongo_admin_url", "mongo_ca_file", "mongo_cert_file",
    "redis_url", "redis_ca_file", "redis_cert_file", "redis_key_file", "s3_endpoint_url",
    "s3_bucket", "s3_access_key_id", "s3_secret_access_key", "s3_region", "s3_ca_file",
    "s3_allow_http",
)
# What a clinic setup cannot do without.
CLINIC_REQUIRED = ("postgres_url", "mongo_url", "redis_url", "s3_endpoint_url", "s3_bucket")


# --------------------------------------------------------------------------- TLS files


def _readable_file(v: Path | None) -> Path | None:
    if v is None:
        return None
    v = v.expanduser()
    if not v.exists():
        raise ValueError(f"names {v}, which does not exist")
    if not v.is_file():
        raise ValueError(f"must be a file, but {v} is not")
    try:
        with v.open("rb"):
            pass
    except OSError as exc:
        raise ValueError(f"names {v}, which cannot be read ({exc.strerror or 'error'})") from None
    return v


def _check_ca(field: str, path: Path) -> str | None:
    try:
        ssl.create_default_context(cafile=str(path))
    except (ssl.SSLError, ValueError):
        return f"{_env_name(field)} must hold CA certificates in PEM form, but {path} does not"
    return None


def _check_pair(cert_field: str, cert: Path, key_field: str | None, key: Path | None) -> str | None:
    """The certificate and its key load together (and the key needs no passphrase)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    try:
        # A callback, so that an encrypted key fails here instead of OpenSSL asking for its
        # passphrase on the terminal.
        ctx.load_cert_chain(str(cert), str(key) if key else None, password=lambda: b"")
    except ssl.SSLError as exc:
        names = _env_name(cert_field) + (f" and {_env_name(key_field)}" if key_field else "")
        if "KEY_VALUES_MISMATCH" in str(exc):
            return (f"{names} do not belong together: the key is not the certificate's"
                    if key_field else f"{names} holds a key that is not its certificate's")
        what = ("a client certificate and its unencrypted private key in PEM form"
                if key_field else
                "a client certificate followed by its unencrypted private key, in PEM form")
        return f"{names} must hold {what}"
    return None


def _key_permissions(field: str, key: Path) -> str | None:
    """libpq refuses a private key others may read (and says so only at connect time)."""
    if os.name != "posix":
        return None
    st = key.stat()
    if st.st_uid == os.geteuid():
        too_open = st.st_mode & (stat.S_IRWXG | stat.S_IRWXO)
    elif st.st_uid == 0:
        too_open = st.st_mode & (stat.S_IWGRP | stat.S_IXGRP | stat.S_IRWXO)
    else:
        too_open = 0
    if too_open:
        return (f"{_env_name(field)} names a private key others may read "
                f"(mode {stat.S_IMODE(st.st_mode):04o}); PostgreSQL's client refuses it: "
                f"run chmod 600 {key}")
    return None


# --------------------------------------------------------------------------- settings


class Settings(BaseSettings):
    """Everything the app reads from its environment. Construct with :func:`load_settings`."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="forbid",
                                      env_ignore_empty=True)

    # "embedded" or "clinic"; unset: embedded when no store is configured, else clinic.
    mode: Literal["embedded", "clinic"] | None = None
    postgres_url: str | None = None
    # The owner's URL for `dr-assistant-admin migrate|seed` when the app's own login
    # (postgres_url) may not change the schema; unset: postgres_url is used.
    postgres_admin_url: str | None = None
    postgres_ca_file: Path | None = None
    postgres_cert_file: Path | None = None
    postgres_key_file: Path | None = None
    mongo_url: str | None = None
    # MongoDB as a user who may create collections, validators and indexes and grant the
    # app's user its role, for `dr-assistant-admin migrate`; unset: mongo_url is used.
    mongo_admin_url: str | None = None
    mongo_database: str = "dr_assistant"
    mongo_ca_file: Path | None = None
    # MongoDB's drivers take the client certificate and its key in one PEM file.
    mongo_cert_file: Path | None = None
    redis_url: str | None = None
    redis_ca_file: Path | None = None
    redis_cert_file: Path | None = None
    redis_key_file: Path | None = None
    s3_endpoint_url: str | None = None
    s3_bucket: str | None = None
    s3_access_key_id: str | None = None
    s3_secret_access_key: SecretStr | None = None
    s3_region: str = "us-east-1"
    s3_ca_file: Path | None = None
    # Recordings and scans in clear text over the network: only when someone says so.
    s3_allow_http: bool = False
    # Refuse any store not on this computer that is reached without verified TLS.
    require_tls: bool = False
    data_dir: Path = Field(default_factory=default_data_dir)
    health_interval_seconds: float = Field(default=15.0, ge=1.0, le=3600.0)
    # Sessions (HIPAA automatic logoff): the screen locks after this many idle minutes;
    # a session ends, whatever happens, after session_max_hours.
    idle_lock_minutes: int = Field(default=10, ge=2, le=30)
    session_max_hours: float = Field(default=12.0, ge=1.0, le=24.0)
    # Shown in the audit trail and the session list; the computer's name when unset.
    workstation_name: str | None = Field(default=None, max_length=100)
    store_timeout_seconds: float = Field(default=3.0, gt=0.0, le=60.0)
    # A delivered dictation's workstation copy is removed once its upload is verified, or
    # kept this many days (a clinic that wants a local fallback copy for a while).
    dictation_keep_days: int = Field(default=0, ge=0, le=90)
    # The recorder's keys, "record=F9, stop=F10, …" (ui/dictation/keymap.py); unset: the
    # defaults in the README.
    dictation_keys: str = Field(default="", max_length=500)

    @field_validator("postgres_url", "postgres_admin_url")
    @classmethod
    def _postgres(cls, v: str | None) -> str | None:
        example = "postgresql://user@host:5432/dbname"
        v = _check_url(v, ("postgresql", "postgres", "postgresql+psycopg"), example)
        if v is None:
            return None
        if not urlsplit(v).path.strip("/"):
            raise ValueError(f"must name the database, as in {example}")
        sslmode = _query(v).get("sslmode")
        if sslmode is not None and sslmode not in _PG_SSLMODES:
            raise ValueError(f"has sslmode={sslmode}; it must be one of "
                             f"{', '.join(_PG_SSLMODES)}")
        return v

    @field_validator("mongo_url", "mongo_admin_url")
    @classmethod
    def _mongo(cls, v: str | None) -> str | None:
        return _check_url(v, ("mongodb", "mongodb+srv"), "mongodb://host:27017/?replicaSet=rs0")

    @field_validator("mongo_database")
    @classmethod
    def _mongo_database(cls, v: str) -> str:
        if not v or len(v.encode()) > 63 or set(v) & _MONGO_DB_FORBIDDEN:
            raise ValueError("must be a database name of 1 to 63 characters without spaces "
                             'or any of / \\ . " $ * < > : | ?')
        return v

    @field_validator("redis_url")
    @classmethod
    def _redis(cls, v: str | None) -> str | None:
        example = "redis://host:6379/0"
        v = _check_url(v, ("redis", "rediss", "unix"), example)
        if v is None:
            return None
        parts = urlsplit(v)
        db = parts.path.strip("/") if parts.scheme != "unix" else _query(v).get("db", "")
        if db and not db.isdigit():
            raise ValueError(f"must end in a database number, as in {example}")
        return v

    @field_validator("s3_endpoint_url")
    @classmethod
    def _s3(cls, v: str | None) -> str | None:
        return _check_url(v, ("http", "https"), "https://s3.clinic.example:9000")

    @field_validator("s3_bucket")
    @classmethod
    def _bucket(cls, v: str | None) -> str | None:
        if v is not None and not _BUCKET.match(v):
            raise ValueError("must be a bucket name of 3 to 63 lower-case letters, digits, "
                             "dots and hyphens, starting and ending with a letter or digit")
        return v

    @field_validator("s3_region")
    @classmethod
    def _region(cls, v: str) -> str:
        if not _REGION.match(v):
            raise ValueError("must be a region name such as us-east-1")
        return v

    @field_validator("postgres_ca_file", "postgres_cert_file", "postgres_key_file",
                     "mongo_ca_file", "mongo_cert_file", "redis_ca_file", "redis_cert_file",
                     "redis_key_file", "s3_ca_file")
    @classmethod
    def _file(cls, v: Path | None) -> Path | None:
        return _readable_file(v)

    @field_validator("workstation_name")
    @classmethod
    def _workstation(cls, v: str | None) -> str | None:
        if v is not None and (not v.strip() or any(ord(c) < 32 or ord(c) == 127 for c in v)):
            raise ValueError("must be a name on one line")
        return v

    @field_validator("data_dir")
    @classmethod
    def _data_dir(cls, v: Path) -> Path:
        v = v.expanduser()
        if v.exists() and not v.is_dir():
            raise ValueError(f"must be a folder, but {v} is a file")
        # The folder may not exist yet: then its nearest existing parent must let us make it.
        existing = v
        while not existing.exists() and existing != existing.parent:
            existing = existing.parent
        if not existing.is_dir():
            raise ValueError(f"must be a folder, but {existing} is a file")
        if not os.access(existing, os.W_OK | os.X_OK):
            if existing == v:
                raise ValueError(f"names {v}, which this user may not write to")
            raise ValueError(f"names {v}, which cannot be created: this user may not write "
                             f"to {existing}")
        return v

    @model_validator(mode="after")
    def _whole_setup(self) -> Settings:
        problems = self._mode_problems() or (self._s3_problems() + self._tls_problems())
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def _mode_problems(self) -> list[str]:
        given = self._given_store_settings()
        if self.mode == "embedded":
            if given:
                return [f"DRA_MODE=embedded runs the local stack, so "
                        f"{', '.join(_env_name(f) for f in given)} must not be set"]
            return []
        if self.mode is None and not given:
            return []
        missing = [f for f in CLINIC_REQUIRED if not getattr(self, f)]
        if not missing:
            return []
        why = ("DRA_MODE=clinic" if self.mode == "clinic" else
               f"{_env_name(given[0])} is set, so this is a clinic setup, which")
        names = [_env_name(f) for f in missing]
        listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
        return [f"{why} needs all four stores, but {listed} "
                f"{'is' if len(names) == 1 else 'are'} not set (set none of the store "
                "settings for the embedded stack on this computer)"]

    def _s3_problems(self) -> list[str]:
        problems = []
        if bool(self.s3_access_key_id) != bool(self.s3_secret_access_key):
            have, lack = (("DRA_S3_ACCESS_KEY_ID", "DRA_S3_SECRET_ACCESS_KEY")
                          if self.s3_access_key_id else
                          ("DRA_S3_SECRET_ACCESS_KEY", "DRA_S3_ACCESS_KEY_ID"))
            problems.append(f"{have} is set but {lack} is not; they go together")
        url = self.s3_endpoint_url
        if url and urlsplit(url).scheme == "http":
            host = urlsplit(url).hostname or ""
            if self.s3_ca_file:
                problems.append("DRA_S3_CA_FILE is set, but DRA_S3_ENDPOINT_URL is plain "
                                "http; use https://")
            elif not is_loopback(host) and not self.s3_allow_http and not self.require_tls:
                problems.append(f"DRA_S3_ENDPOINT_URL sends recordings to {host} unencrypted "
                                "(http); use https://, or set DRA_S3_ALLOW_HTTP=true on a "
                                "network you trust")
        return problems

    def _pg_tls(self) -> bool:
        """PostgreSQL is reached over TLS that checks the server's certificate."""
        return bool(self.postgres_ca_file) or (
            _query(self.postgres_url or "").get("sslmode") in _PG_VERIFIED)

    def _mongo_tls(self, url: str | None = None) -> bool:
        url = self.mongo_url if url is None else url
        q = _query(url or "")
        srv = (url or "").startswith("mongodb+srv:")
        asked = q.get("tls", q.get("ssl", "true" if srv else "false")).lower() in _TRUE
        insecure = any(q.get(k, "").lower() in _TRUE for k in (
            "tlsinsecure", "tlsallowinvalidcertificates", "tlsallowinvalidhostnames"))
        return (asked or bool(self.mongo_ca_file)) and not insecure

    def _redis_tls(self) -> bool:
        unchecked = _query(self.redis_url or "").get("ssl_cert_reqs", "required").lower() in (
            "none", "optional")
        return (self.redis_url or "").startswith("rediss:") and not unchecked

    def _tls_problems(self) -> list[str]:
        problems: list[str] = []
        # PostgreSQL: a CA file means verify-full; the URL may not ask for less.
        for field in ("postgres_url", "postgres_admin_url"):
            url = getattr(self, field)
            sslmode = _query(url).get("sslmode") if url else None
            if url and self.postgres_ca_file and sslmode and sslmode not in _PG_VERIFIED:
                problems.append(f"{_env_name(field)} says sslmode={sslmode}, which does not "
                                "check the server's certificate against DRA_POSTGRES_CA_FILE; "
                                "remove sslmode or use verify-full")
        mongo_q = _query(self.mongo_url or "")
        if self.mongo_ca_file and mongo_q.get("tls", mongo_q.get("ssl", "")).lower() in (
                "false", "0", "no", "off"):
            problems.append("DRA_MONGO_CA_FILE is set, but DRA_MONGO_URL says tls=false")
        if self.redis_ca_file and self.redis_url and not self.redis_url.startswith("rediss:"):
            problems.append("DRA_REDIS_CA_FILE is set, but DRA_REDIS_URL does not use TLS; "
                            "use rediss://")
        for store, tls, cert in (("postgres", self._pg_tls(), self.postgres_cert_file),
                                 ("mongo", self._mongo_tls(), self.mongo_cert_file),
                                 ("redis", self._redis_tls(), self.redis_cert_file)):
            if cert and not tls:
                problems.append(f"DRA_{store.upper()}_CERT_FILE is set, but "
                                f"DRA_{store.upper()}_URL does not use verified TLS")
        for store in ("postgres", "redis"):
            cert_field, key_field = f"{store}_cert_file", f"{store}_key_file"
            if bool(getattr(self, cert_field)) != bool(getattr(self, key_field)):
                have, lack = ((cert_field, key_field) if getattr(self, cert_field)
                              else (key_field, cert_field))
                problems.append(f"{_env_name(have)} is set but {_env_name(lack)} is not; "
                                "they go together")
        for field in ("postgres_ca_file", "mongo_ca_file", "redis_ca_file", "s3_ca_file"):
            path = getattr(self, field)
            if path and (problem := _check_ca(field, path)):
                problems.append(problem)
        pairs: tuple[tuple[str, str | None], ...] = (
            ("postgres_cert_file", "postgres_key_file"), ("mongo_cert_file", None),
            ("redis_cert_file", "redis_key_file"))
        for cert_name, key_name in pairs:
            cert = getattr(self, cert_name)
            key = getattr(self, key_name) if key_name else None
            if cert and (key or not key_name) and (
                    problem := _check_pair(cert_name, cert, key_name, key)):
                problems.append(problem)
        if self.postgres_key_file and (
                problem := _key_permissions("postgres_key_file", self.postgres_key_file)):
            problems.append(problem)
        if self.require_tls:
            problems.extend(self._plain_remote_stores())
        return problems

    def _plain_remote_stores(self) -> list[str]:
        """DRA_REQUIRE_TLS: every store off this computer needs TLS that checks the
        server's certificate."""
        problems = []
        checks = (
            ("postgres_url", self._pg_tls(), "set DRA_POSTGRES_CA_FILE (or sslmode=verify-full)"),
            ("postgres_admin_url", self._pg_tls(),
             "set DRA_POSTGRES_CA_FILE (or sslmode=verify-full)"),
            ("mongo_url", self._mongo_tls(),
             "set DRA_MONGO_CA_FILE and leave certificate checks on"),
            ("mongo_admin_url", self._mongo_tls(self.mongo_admin_url),
             "set DRA_MONGO_CA_FILE and leave certificate checks on"),
            ("redis_url", self._redis_tls(), "use rediss:// and set DRA_REDIS_CA_FILE"),
            ("s3_endpoint_url", urlsplit(self.s3_endpoint_url or "").scheme == "https",
             "use https://"),
        )
        for field, tls, how in checks:
            url = getattr(self, field)
            if not url or tls:
                continue
            remote = [h for h in url_hosts(url) if not is_loopback(h)]
            if remote:
                problems.append(f"DRA_REQUIRE_TLS is on, but {_env_name(field)} reaches "
                                f"{remote[0]} without verified TLS; {how}")
        return problems

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

    def __repr_args__(self) -> Any:
        # A repr ends up in logs and test reports: URLs without their passwords.
        for name, value in super().__repr_args__():
            if name and name.endswith("_url") and isinstance(value, str):
                value = masked(value)
            yield name, value

    @property
    def embedded(self) -> bool:
        """The local stack provides every store (see the module's docstring)."""
        if self.mode is not None:
            return self.mode == "embedded"
        return not self._given_store_settings()

    def _given_store_settings(self) -> list[str]:
        return [f for f in STORE_FIELDS if f in self.model_fields_set
                and getattr(self, f) not in (None, "", False)]

    @property
    def uses_object_store_s3(self) -> bool:
        return bool(self.s3_endpoint_url)


# --------------------------------------------------------------------------- loading


def _suggest(name: str, known: list[str]) -> str:
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.7)
    return f" (did you mean {close[0]}?)" if close else ""


def _unknown_environment() -> list[str]:
    known = [_env_name(f) for f in Settings.model_fields] + [CONFIG_FILE_VAR]
    problems = []
    for var in sorted(os.environ):
        name = var.upper()
        if name.startswith(ENV_PREFIX) and name not in known:
            problems.append(f"{name} is not a setting of Dr. Assistant{_suggest(name, known)}")
    return problems


def _toml_keys(path: Path) -> tuple[set[str], list[str]]:
    """The keys of the TOML file, and what is wrong with them. A missing default file is
    no file; a file that cannot be parsed raises ConfigError."""
    if not path.exists():
        return set(), []
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"Configuration problem: {path} is not valid TOML ({exc}).") from None
    except OSError as exc:
        raise ConfigError(f"Configuration problem: cannot read {path} "
                          f"({exc.strerror or 'error'}).") from None
    known = list(Settings.model_fields)
    problems = [f"{key} in {path} is not a setting of Dr. Assistant{_suggest(key, known)}"
                for key in data if key not in known]
    return set(data), problems


def _pydantic_reason(err: Any) -> str:
    """A pydantic error as the end of a sentence ("must be at least 2")."""
    kind = err.get("type", "")
    ctx = err.get("ctx") or {}
    msg = str(err.get("msg", "is not valid")).removeprefix("Value error, ")
    simple = {
        "greater_than_equal": "must be at least {ge}",
        "less_than_equal": "must be at most {le}",
        "greater_than": "must be more than {gt}",
        "less_than": "must be less than {lt}",
        "float_parsing": "must be a number",
        "float_type": "must be a number",
        "int_parsing": "must be a whole number",
        "int_type": "must be a whole number",
        "int_from_float": "must be a whole number",
        "bool_parsing": "must be true or false",
        "bool_type": "must be true or false",
        "string_too_long": "must be at most {max_length} characters long",
        "string_type": "must be text",
        "path_type": "must be a path to a file or folder",
        "literal_error": "must be one of {expected}",
    }
    if kind in simple:
        try:
            return simple[kind].format(**ctx)
        except (KeyError, IndexError):
            return simple[kind].split(" {")[0]
    if msg.startswith(("must", "names", "has ")):
        return msg
    return f"is not valid: {msg[:1].lower()}{msg[1:]}"


def load_settings(**overrides: Any) -> Settings:
    """Read the settings, or raise :class:`ConfigError` with one readable sentence."""
    path, explicit = _config_file_choice()
    if explicit and not path.exists():
        raise ConfigError(f"Configuration problem: {CONFIG_FILE_VAR} names {path}, which does "
                          "not exist.")
    if explicit and path.is_dir():
        raise ConfigError(f"Configuration problem: {CONFIG_FILE_VAR} must name a file, but "
                          f"{path} is a folder.")
    toml_keys, problems = _toml_keys(path)
    problems = _unknown_environment() + problems
    if problems:
        raise ConfigError("Configuration problem: " + "; ".join(problems) + ".")

    def name(field: str) -> str:
        from_env = any(v.upper() == _env_name(field) for v in os.environ)
        if field in toml_keys and field not in overrides and not from_env:
            return f"{field} in {path}"
        return _env_name(field)

    try:
        return Settings(**overrides)
    except PydanticValidationError as exc:
        for err in exc.errors():
            loc = [str(p) for p in err.get("loc", ()) if p != "__root__"]
            # An Optional field's error carries the union member ("str") after the name.
            if loc and loc[0] in Settings.model_fields:
                problems.append(f"{name(loc[0])} {_pydantic_reason(err)}")
            else:
                problems.append(str(err.get("msg", "")).removeprefix("Value error, "))
        raise ConfigError("Configuration problem: " + "; ".join(problems) + ".") from None
    except ValueError as exc:  # a value the TOML source could not hand over
        raise ConfigError(f"Configuration problem: cannot read {path}: {exc}.") from None
