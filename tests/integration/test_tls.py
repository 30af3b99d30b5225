"""TLS to all four stores, with the server's certificate checked: real servers started here
with TLS required (PostgreSQL 15 from Debian, mongod, Redis 7 from Debian, moto's S3), each
with a certificate from a CA made in the test, and each asking for a client certificate
where the server can (PostgreSQL, MongoDB, Redis).

With the right CA files every store answers; with another CA's file in its place, each store
is refused with a sentence that names it and the setting to fix.
"""

from __future__ import annotations

import datetime as dt
import glob
import ipaddress
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from sqlalchemy import text

from backend_client.backend import Backend, open_backend
from backend_client.config import load_settings
from backend_client.errors import Unavailable
from backend_client.health import HealthService
from backend_client.local_stack.process import free_port, port_answers, wait_for
from backend_client.local_stack.servers import MongoServer
from backend_client.stores.mongo.client import mongo_calls
from backend_client.stores.redis.client import redis_calls

HOST = "127.0.0.1"
STORES = ("postgres", "mongo", "redis", "objects")
CA_SETTING = {"postgres": "postgres_ca_file", "mongo": "mongo_ca_file",
              "redis": "redis_ca_file", "objects": "s3_ca_file"}


# --------------------------------------------------------------------------- certificates


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


@dataclass
class Issued:
    cert: Path
    key: Path


def _write_key(key: ec.EllipticCurvePrivateKey, path: Path) -> None:
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                       serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    path.chmod(0o600)


class CA:
    """A certificate authority of the test's own, valid from yesterday to the day after
    tomorrow of whatever day the test runs."""

    def __init__(self, folder: Path, name: str) -> None:
        self.folder = folder
        self.key = ec.generate_private_key(ec.SECP256R1())
        now = dt.datetime.now(dt.UTC)
        self.cert = (
            x509.CertificateBuilder().subject_name(_name(name)).issuer_name(_name(name))
            .public_key(self.key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=2))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(
                digital_signature=True, key_cert_sign=True, crl_sign=True,
                content_commitment=False, key_encipherment=False, data_encipherment=False,
                key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
            .sign(self.key, hashes.SHA256()))
        self.file = folder / f"{name}.pem"
        self.file.write_bytes(self.cert.public_bytes(serialization.Encoding.PEM))

    def issue(self, cn: str, *, server: bool) -> Issued:
        key = ec.generate_private_key(ec.SECP256R1())
        now = dt.datetime.now(dt.UTC)
        builder = (
            x509.CertificateBuilder().subject_name(_name(cn)).issuer_name(self.cert.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=2))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH]),
                critical=False))
        if server:
            builder = builder.add_extension(x509.SubjectAlternativeName([
                x509.IPAddress(ipaddress.ip_address(HOST)), x509.DNSName("localhost")]),
                critical=False)
        cert = builder.sign(self.key, hashes.SHA256())
        issued = Issued(self.folder / f"{cn}.crt", self.folder / f"{cn}.key")
        issued.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        _write_key(key, issued.key)
        return issued


def _combined(issued: Issued, path: Path) -> Path:
    """Certificate and key in one file, as MongoDB takes them."""
    path.write_bytes(issued.cert.read_bytes() + issued.key.read_bytes())
    path.chmod(0o600)
    return path


# --------------------------------------------------------------------------- servers


def _debian_bin(name: str, pattern: str) -> str:
    found = sorted(glob.glob(pattern))
    if not found:
        pytest.fail(f"These tests need Debian's {name} (built with TLS): apt-get install "
                    f"{name} (make test installs it when run as root).")
    return found[-1]


def _as_postgres(args: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else args


@dataclass
class TlsServers:
    ca: CA
    other_ca: CA
    client: Issued
    client_combined: Path
    postgres_url: str
    mongo_url: str
    redis_url: str
    s3_url: str


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TlsServers]:
    # Outside pytest's 0700 temp folder: PostgreSQL runs as its own user when we are root.
    root = Path(tempfile.mkdtemp(prefix="dra-tls-"))
    root.chmod(0o755)
    procs: list[subprocess.Popen[bytes]] = []
    pg_ctl = _debian_bin("postgresql-15", "/usr/lib/postgresql/*/bin/pg_ctl")
    redis_server = _debian_bin("redis-server", "/usr/bin/redis-server")
    pgdata = root / "pg"
    stopped: list[list[str]] = []
    try:
        certs = root / "certs"
        certs.mkdir()
        ca, other_ca = CA(certs, "clinic-ca"), CA(certs, "other-ca")
        server, client = ca.issue("server", server=True), ca.issue("client", server=False)
        server_combined = _combined(server, certs / "server-combined.pem")
        client_combined = _combined(client, certs / "client-combined.pem")

        # PostgreSQL: only TLS connections from loopback, with a client certificate.
        pg_files = root / "pg-tls"
        pg_files.mkdir()
        for f in (server.cert, server.key, ca.file):
            shutil.copy(f, pg_files / f.name)
        (pg_files / server.key.name).chmod(0o600)
        if os.geteuid() == 0:
            shutil.chown(pg_files, "postgres")
            for f in pg_files.iterdir():
                shutil.chown(f, "postgres")
            pgdata.mkdir()
            shutil.chown(pgdata, "postgres")
        bindir = Path(pg_ctl).parent
        subprocess.run(_as_postgres([str(bindir / "initdb"), "-D", str(pgdata), "-U", "dra",
                                     "--auth=trust", "--no-sync"]),
                       check=True, capture_output=True)
        (pgdata / "pg_hba.conf").write_text(
            "local all all trust\n"
            f"hostssl all all {HOST}/32 trust clientcert=verify-ca\n")
        pg_port = free_port()
        opts = (f"-h {HOST} -p {pg_port} -k {pgdata} -c fsync=off -c ssl=on "
                f"-c ssl_cert_file={pg_files / server.cert.name} "
                f"-c ssl_key_file={pg_files / server.key.name} "
                f"-c ssl_ca_file={pg_files / ca.file.name}")
        subprocess.run(_as_postgres([pg_ctl, "-D", str(pgdata), "-w", "-l",
                                     str(pgdata / "log"), "-o", opts, "start"]),
                       check=True, capture_output=True)
        stopped.append(_as_postgres([pg_ctl, "-D", str(pgdata), "-m", "immediate", "stop"]))

        # MongoDB: TLS required, client certificates checked against the CA.
        mongo_port = free_port()
        (root / "mongo").mkdir()
        procs.append(subprocess.Popen(
            [MongoServer.binary(), "--dbpath", str(root / "mongo"), "--bind_ip", HOST,
             "--port", str(mongo_port), "--tlsMode", "requireTLS",
             "--tlsCertificateKeyFile", str(server_combined), "--tlsCAFile", str(ca.file),
             "--setParameter", "diagnosticDataCollectionEnabled=false",
             "--logpath", str(root / "mongod.log")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))

        # Redis: TLS only (no plain port), client certificates required (its default).
        redis_port = free_port()
        procs.append(subprocess.Popen(
            [redis_server, "--port", "0", "--tls-port", str(redis_port), "--bind", HOST,
             "--tls-cert-file", str(server.cert), "--tls-key-file", str(server.key),
             "--tls-ca-cert-file", str(ca.file), "--save", "", "--appendonly", "no",
             "--dir", str(root)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))

        # S3 (moto) over https; S3 has no client certificates.
        s3_port = free_port()
        procs.append(subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", HOST, "-p", str(s3_port),
             "--ssl-cert", str(server.cert), "--ssl-key", str(server.key)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))

        for port in (pg_port, mongo_port, redis_port, s3_port):
            assert wait_for(lambda p=port: port_answers(p), 60), f"port {port} never opened"
        import boto3

        boto3.client("s3", endpoint_url=f"https://{HOST}:{s3_port}", region_name="us-east-1",
                     aws_access_key_id="testing", aws_secret_access_key="testing",
                     verify=str(ca.file)).create_bucket(Bucket="dra-tls")
        yield TlsServers(
            ca=ca, other_ca=other_ca, client=client, client_combined=client_combined,
            postgres_url=f"postgresql://dra@{HOST}:{pg_port}/postgres",
            mongo_url=f"mongodb://{HOST}:{mongo_port}/?directConnection=true",
            redis_url=f"rediss://{HOST}:{redis_port}/0",
            s3_url=f"https://{HOST}:{s3_port}")
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
        for args in stopped:
            subprocess.run(args, capture_output=True, check=False)
        shutil.rmtree(root, ignore_errors=True)


def _env(tls: TlsServers, data_dir: Path, **cas: Path) -> dict[str, str]:
    """A clinic workstation's settings for these servers; ``cas`` replaces a CA file."""
    files = {name: cas.get(store, tls.ca.file) for store, name in CA_SETTING.items()}
    return {
        "DRA_POSTGRES_URL": tls.postgres_url,
        "DRA_POSTGRES_CA_FILE": str(files["postgres_ca_file"]),
        "DRA_POSTGRES_CERT_FILE": str(tls.client.cert),
        "DRA_POSTGRES_KEY_FILE": str(tls.client.key),
        "DRA_MONGO_URL": tls.mongo_url,
        "DRA_MONGO_DATABASE": "dra_tls",
        "DRA_MONGO_CA_FILE": str(files["mongo_ca_file"]),
        "DRA_MONGO_CERT_FILE": str(tls.client_combined),
        "DRA_REDIS_URL": tls.redis_url,
        "DRA_REDIS_CA_FILE": str(files["redis_ca_file"]),
        "DRA_REDIS_CERT_FILE": str(tls.client.cert),
        "DRA_REDIS_KEY_FILE": str(tls.client.key),
        "DRA_S3_ENDPOINT_URL": tls.s3_url,
        "DRA_S3_BUCKET": "dra-tls",
        "DRA_S3_ACCESS_KEY_ID": "testing",
        "DRA_S3_SECRET_ACCESS_KEY": "testing",
        "DRA_S3_CA_FILE": str(files["s3_ca_file"]),
        # Loopback would be exempt; on, it proves these settings count as verified TLS.
        "DRA_REQUIRE_TLS": "true",
        "DRA_STORE_TIMEOUT_SECONDS": "5",
        "DRA_DATA_DIR": str(data_dir),
        "DRA_CONFIG_FILE": os.devnull,
    }


@pytest.fixture
def clinic(tls: TlsServers, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[
        Callable[..., Backend]]:
    """Opens a Backend as a workstation configured by environment would."""
    opened: list[Backend] = []

    def open_with(**cas: Path) -> Backend:
        for key, value in _env(tls, tmp_path / "data", **cas).items():
            monkeypatch.setenv(key, value)
        monkeypatch.setenv("DRA_STORE_TIMEOUT_SECONDS", "3")
        backend = open_backend(load_settings())
        opened.append(backend)
        return backend

    yield open_with
    for backend in opened:
        backend.close()


def _use(backend: Backend, store: str) -> Any:
    """One real round trip through the app's own client for ``store``."""
    if store == "postgres":
        with backend.engine.connect() as conn:
            return conn.execute(text(
                "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")).scalar_one()
    if store == "mongo":
        with mongo_calls():
            backend.mongo_db["tls_probe"].replace_one({"_id": 1}, {"ok": True}, upsert=True)
            return backend.mongo_db["tls_probe"].find_one({"_id": 1})
    if store == "redis":
        with redis_calls():
            backend.redis.set("tls-probe", "yes")
            return backend.redis.get("tls-probe")
    backend.objects.put("tls/probe", b"over https")
    return backend.objects.get("tls/probe")


def test_with_the_clinic_ca_every_store_answers_over_tls(
        clinic: Callable[..., Backend]) -> None:
    backend = clinic()
    assert backend.settings.require_tls
    assert _use(backend, "postgres") is True  # PostgreSQL says this connection is TLS
    assert _use(backend, "mongo") == {"_id": 1, "ok": True}
    assert _use(backend, "redis") == b"yes"
    assert _use(backend, "objects") == b"over https"
    health = HealthService(backend).check_all()
    assert all(h.ok for h in health), [h.sentence() for h in health]


LABEL = {"postgres": "PostgreSQL", "mongo": "MongoDB", "redis": "Redis",
         "objects": "Object storage"}


@pytest.mark.parametrize("store", STORES)
def test_a_server_certificate_from_another_ca_is_refused_naming_the_store(
        clinic: Callable[..., Backend], tls: TlsServers, store: str) -> None:
    backend = clinic(**{store: tls.other_ca.file})
    with pytest.raises(Unavailable) as info:
        _use(backend, store)
    message = info.value.message
    assert info.value.store == store
    assert LABEL[store] in message and "its certificate is not signed by" in message, message
    assert "\n" not in message and "Traceback" not in message
    # The status bar's check: down, naming the CA setting to fix.
    down = HealthService(backend).check(store)
    setting = "DRA_" + CA_SETTING[store].upper()
    assert not down.ok
    assert down.error == f"its certificate is not signed by the CA in {setting}.", \
        down.sentence()
    # The other stores, checked against the right CA, are fine.
    others = [HealthService(backend).check(s) for s in STORES if s != store]
    assert all(h.ok for h in others), [h.sentence() for h in others]


def test_doctor_names_each_store_whose_certificate_is_not_trusted(
        tls: TlsServers, tmp_path: Path) -> None:
    base = {k: v for k, v in os.environ.items() if not k.startswith("DRA_")}
    doctor = [str(Path(sys.executable).parent / "dr-assistant-admin"), "doctor"]
    good = subprocess.run(doctor, env={**base, **_env(tls, tmp_path / "d1")},
                          capture_output=True, text=True, timeout=120)
    assert good.returncode == 0, good.stdout + good.stderr
    assert good.stdout.count(" ok ") >= 4, good.stdout
    wrong = {store: tls.other_ca.file for store in STORES}
    bad = subprocess.run(doctor, env={**base, **_env(tls, tmp_path / "d2", **wrong)},
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert "Traceback" not in bad.stdout + bad.stderr
    lines = bad.stdout.splitlines()
    for store in STORES:
        setting = "DRA_" + CA_SETTING[store].upper()
        line = next((x for x in lines if x.startswith(store)), "")
        assert "DOWN" in line and f"not signed by the CA in {setting}" in line, bad.stdout


CERT_SETTINGS = {"postgres": ("DRA_POSTGRES_CERT_FILE", "DRA_POSTGRES_KEY_FILE"),
                 "mongo": ("DRA_MONGO_CERT_FILE",),
                 "redis": ("DRA_REDIS_CERT_FILE", "DRA_REDIS_KEY_FILE")}


@pytest.mark.parametrize("store", list(CERT_SETTINGS))
def test_without_its_client_certificate_a_store_is_down_naming_the_setting(
        tls: TlsServers, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, store: str) -> None:
    for key, value in _env(tls, tmp_path / "data").items():
        monkeypatch.setenv(key, value)
    for key in CERT_SETTINGS[store]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("DRA_STORE_TIMEOUT_SECONDS", "2")
    backend = open_backend(load_settings())
    try:
        down = HealthService(backend).check(store)
    finally:
        backend.close()
    assert not down.ok
    assert f"{CERT_SETTINGS[store][0]} is not set" in down.error, down.sentence()
