"""Live updates over TLS with client certificates: the subscriber's own connection takes
the app client's TLS settings (CA, client certificate), and its PINGs are answered."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from backend_client.local_stack.process import free_port, port_answers, wait_for
from backend_client.stores.redis.client import build_redis
from backend_client.sync.events import ChangeEvent, RedisChangePublisher
from tests.integration.sync_servers import wait_until
from tests.integration.test_sync_subscriber import FAST, Desk
from tests.integration.test_tls import CA, HOST, _debian_bin


@pytest.fixture
def tls_redis(tmp_path: Path) -> Iterator[tuple[str, CA, Path, Path]]:
    ca = CA(tmp_path, "sync-ca")
    server = ca.issue("redis-server", server=True)
    client = ca.issue("workstation", server=False)
    port = free_port()
    proc = subprocess.Popen(
        [_debian_bin("redis-server", "/usr/bin/redis-server"), "--port", "0",
         "--tls-port", str(port), "--bind", HOST, "--tls-cert-file", str(server.cert),
         "--tls-key-file", str(server.key), "--tls-ca-cert-file", str(ca.file),
         "--save", "", "--appendonly", "no", "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        assert wait_for(lambda: port_answers(port), 30)
        yield f"rediss://{HOST}:{port}/0", ca, client.cert, client.key
    finally:
        proc.terminate()
        proc.wait(10)


def test_the_subscriber_listens_over_tls_with_the_apps_certificate(
    tls_redis: tuple[str, CA, Path, Path],
) -> None:
    url, ca, cert, key = tls_redis
    client = build_redis(url, timeout_seconds=2.0, ca_file=ca.file, cert_file=cert,
                         key_file=key)
    desk = Desk()
    sub = desk.subscriber(client, **FAST)
    sub.start()
    try:
        assert wait_until(lambda: desk.live == [True])
        time.sleep(1.5)  # quiet: PINGs over TLS are answered, the connection stays
        assert desk.live == [True] and sub.reconnects == 0
        RedisChangePublisher(client).publish([ChangeEvent(kind="patient", id=77)])
        assert wait_until(lambda: [e.id for e in desk.events()] == [77])
    finally:
        assert sub.stop(2.0)


def test_without_the_ca_the_subscriber_never_goes_live(
    tls_redis: tuple[str, CA, Path, Path],
) -> None:
    url, _ca, cert, key = tls_redis
    desk = Desk()
    sub = desk.subscriber(build_redis(url, timeout_seconds=1.0, cert_file=cert,
                                      key_file=key), **FAST)
    sub.start()
    try:
        assert wait_until(lambda: desk.live == [False])
        time.sleep(1.0)
        assert desk.live == [False] and desk.resyncs == 0
    finally:
        assert sub.stop(2.0)
