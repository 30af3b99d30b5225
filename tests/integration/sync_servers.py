"""A Redis server of a test's own, with the app's least-privilege user (``dra:`` keys and
channels only), for the sync tests that kill, restart or freeze it: the session's shared
Redis must not die under the other tests."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from backend_client.local_stack.servers import RedisServer

OWNER_PASSWORD = "sync-owner-pw"
APP_PASSWORD = "sync-app-pw"


@dataclass
class PrivateRedis:
    server: RedisServer
    port: int

    @property
    def app_url(self) -> str:
        """As a workstation logs in: the app's own user."""
        return self.server.url(self.port, APP_PASSWORD, user=self.server.app_user)

    def kill(self) -> None:
        self.server.stop()

    def restart(self) -> None:
        self.server.start(self.port, OWNER_PASSWORD, APP_PASSWORD)

    def freeze(self) -> int:
        pid = self.server.pid()
        assert pid, "the test's Redis is not running"
        os.kill(pid, signal.SIGSTOP)
        return pid


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    server = RedisServer(tmp_path, tmp_path / "logs")
    port = server.start(None, OWNER_PASSWORD, APP_PASSWORD)
    yield PrivateRedis(server, port)
    pid = server.pid()
    if pid:
        os.kill(pid, signal.SIGCONT)
    server.stop()


def wait_until(condition: Callable[[], bool], seconds: float = 10.0) -> bool:
    """Polls ``condition`` (for what a background thread does) up to ``seconds``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()
