"""A store that stops answering (frozen with SIGSTOP, as a hung or swapped-out server is)
turns into ``Unavailable`` with a sentence within the store timeout, the status bar's health
check says it is down, and once it answers again every write that had been acknowledged is
there and the app carries on.

Each store runs as this module's own server (a local stack in a temp folder, and a moto S3
server) so that freezing it disturbs no other test.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import psutil
import pytest
from sqlalchemy import text

from backend_client.backend import Backend, open_backend
from backend_client.config import load_settings
from backend_client.errors import NotFound, Unavailable
from backend_client.health import HealthService
from backend_client.local_stack import LocalStack
from backend_client.local_stack.process import free_port, port_answers, wait_for
from backend_client.schema import migrate
from backend_client.stores.mongo.client import mongo_calls
from backend_client.stores.mongo.setup import APP_ROLE
from backend_client.stores.redis.client import redis_calls
from backend_client.uow import unit_of_work

TIMEOUT = 1.5
# What a user may wait for a frozen store's answer: a few timeouts (a retry, a reconnect)
# and scheduling slack on a busy machine; never the minutes a missing limit costs.
BOUND = TIMEOUT * 3 + 2


@dataclass
class Servers:
    stack: LocalStack
    moto: subprocess.Popen[bytes]
    backend: Backend
    pids: dict[str, Callable[[], list[int]]] = field(default_factory=dict)


def _tree(pid: int | None) -> list[int]:
    """A server's process and its children (PostgreSQL's backends, for one)."""
    if pid is None:
        return []
    try:
        proc = psutil.Process(pid)
        return [proc.pid, *(c.pid for c in proc.children(recursive=True))]
    except psutil.NoSuchProcess:
        return []


def _signal(pids: list[int], signum: int) -> None:
    for pid in pids:
        try:
            os.kill(pid, signum)
        except ProcessLookupError:
            pass  # a backend that ended between listing and signalling


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    root = tmp_path_factory.mktemp("frozen")
    stack = LocalStack(root / "stack-data")
    endpoints = stack.start()
    port = free_port()
    moto = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    try:
        assert wait_for(lambda: port_answers(port), 30), "moto did not start"
        with pytest.MonkeyPatch.context() as env:
            env.setenv("DRA_CONFIG_FILE", os.devnull)
            settings = load_settings(
                postgres_url=endpoints.postgres_app_url, postgres_admin_url=endpoints.postgres_url,
                mongo_url=endpoints.mongo_url, mongo_admin_url=endpoints.mongo_owner_url,
                redis_url=endpoints.redis_url,
                s3_endpoint_url=f"http://127.0.0.1:{port}", s3_bucket="frozen",
                s3_access_key_id="testing", s3_secret_access_key="testing",
                data_dir=root / "data", store_timeout_seconds=TIMEOUT)
        backend = open_backend(settings)
        # Creates the bucket, and lets the app's MongoDB user write documents.
        migrate(backend)
        with backend.owner_engine.begin() as conn:
            conn.execute(text("CREATE TABLE frozen_probe (key text PRIMARY KEY)"))
            conn.execute(text("GRANT SELECT, INSERT ON frozen_probe TO dra_app"))
        # The app's MongoDB role names its collections one by one (mongo/setup.py): the
        # probe's is granted the same way.
        owner_db = backend.owner_mongo_db
        owner_db.command("grantPrivilegesToRole", APP_ROLE, privileges=[
            {"resource": {"db": owner_db.name, "collection": "frozen_probe"},
             "actions": ["find", "insert"]}])
        yield Servers(stack, moto, backend, {
            "postgres": lambda: _tree(stack.postgres.pid()),
            "mongo": lambda: _tree(stack.mongo.pid()),
            "redis": lambda: _tree(stack.redis.pid()),
            "objects": lambda: _tree(moto.pid),
        })
        backend.close()
    finally:
        # Whatever failed above, nothing stays frozen or running.
        try:
            _signal(_tree(moto.pid) + _tree(stack.postgres.pid()) + _tree(stack.mongo.pid())
                    + _tree(stack.redis.pid()), signal.SIGCONT)
        finally:
            try:
                moto.terminate()
                moto.wait(10)
            finally:
                stack.stop()


@contextmanager
def frozen(pids: list[int]) -> Iterator[None]:
    assert pids, "no server process to freeze"
    _signal(pids, signal.SIGSTOP)
    try:
        yield
    finally:
        _signal(pids, signal.SIGCONT)


# ---------------------------------------------------------------- one write, one read each


def _pg_write(b: Backend, key: str) -> None:
    with unit_of_work(b.engine) as uow:
        uow.session.execute(text("INSERT INTO frozen_probe (key) VALUES (:k)"), {"k": key})
        uow.commit()


def _pg_has(b: Backend, key: str) -> bool:
    with unit_of_work(b.engine) as uow:
        return uow.session.execute(text("SELECT count(*) FROM frozen_probe WHERE key = :k"),
                                   {"k": key}).scalar_one() == 1


def _mongo_write(b: Backend, key: str) -> None:
    with mongo_calls():
        b.mongo_db["frozen_probe"].insert_one({"_id": key})


def _mongo_has(b: Backend, key: str) -> bool:
    with mongo_calls():
        return b.mongo_db["frozen_probe"].find_one({"_id": key}) is not None


def _redis_write(b: Backend, key: str) -> None:
    with redis_calls():
        b.redis.set(f"dra:frozen-probe:{key}", "1")


def _redis_has(b: Backend, key: str) -> bool:
    with redis_calls():
        return b.redis.get(f"dra:frozen-probe:{key}") == b"1"


def _s3_write(b: Backend, key: str) -> None:
    b.objects.put(f"frozen-probe/{key}", key.encode())


def _s3_has(b: Backend, key: str) -> bool:
    try:
        return b.objects.get(f"frozen-probe/{key}") == key.encode()
    except NotFound:
        return False


STORES = {
    "postgres": (_pg_write, _pg_has),
    "mongo": (_mongo_write, _mongo_has),
    "redis": (_redis_write, _redis_has),
    "objects": (_s3_write, _s3_has),
}


@dataclass
class Outcome:
    key: str
    seconds: float
    error: BaseException | None = None


class Writer(threading.Thread):
    """Writes key after key, as a busy workstation would, noting what was acknowledged."""

    def __init__(self, write: Callable[[str], None], prefix: str) -> None:
        super().__init__(daemon=True)
        self.write = write
        self.prefix = prefix
        self.outcomes: list[Outcome] = []
        self.stop = threading.Event()

    def run(self) -> None:
        i = 0
        while not self.stop.is_set():
            key = f"{self.prefix}-{i}"
            start = time.monotonic()
            try:
                self.write(key)
                self.outcomes.append(Outcome(key, time.monotonic() - start))
            except Exception as exc:  # what the test is about: recorded, judged below
                self.outcomes.append(Outcome(key, time.monotonic() - start, exc))
                time.sleep(0.05)
            i += 1
            time.sleep(0.02)

    def wait_for(self, predicate: Callable[[list[Outcome]], bool], seconds: float) -> bool:
        return wait_for(lambda: predicate(list(self.outcomes)), seconds, 0.05)


@pytest.mark.parametrize("store", list(STORES))
def test_a_frozen_store_is_unavailable_within_the_timeout_and_loses_no_write(
        servers: Servers, store: str) -> None:
    b = servers.backend
    write, has = STORES[store]
    health = HealthService(b)
    assert health.check(store).ok
    writer = Writer(lambda key: write(b, key), f"{store}-{time.monotonic_ns()}")
    writer.start()
    try:
        assert writer.wait_for(lambda o: sum(x.error is None for x in o) >= 3, 10), \
            "the store did not take writes before it was frozen"
        with frozen(servers.pids[store]()):
            started = time.monotonic()
            down = health.check(store)
            check_seconds = time.monotonic() - started
            assert writer.wait_for(lambda o: any(x.error for x in o), BOUND + 2), \
                f"no write failed while {store} was frozen"
        assert writer.wait_for(
            lambda o: any(x.error for x in o) and o[-1].error is None, 30), \
            f"writes to {store} did not succeed again after it was thawed"
    finally:
        writer.stop.set()
        writer.join(BOUND + 5)
    outcomes = list(writer.outcomes)

    # The status bar's check: down, saying why, within the bound.
    assert not down.ok
    assert check_seconds < BOUND, f"the health check took {check_seconds:.1f} s"
    assert "not reachable" in down.sentence() and "timeout" in down.error, down.sentence()

    # Every failed write: Unavailable for this store, with a sentence, within the bound.
    failures = [o for o in outcomes if o.error is not None]
    for o in failures:
        assert isinstance(o.error, Unavailable), repr(o.error)
        assert o.error.store == store
        assert o.error.message.endswith(".") and "Traceback" not in o.error.message
        assert o.seconds < BOUND, f"a write waited {o.seconds:.1f} s for a frozen {store}"
    assert any("timeout" in str(o.error) or "answer" in str(o.error) for o in failures), \
        [str(o.error) for o in failures]

    # Nothing acknowledged was lost, and the store works again.
    acknowledged = [o.key for o in outcomes if o.error is None]
    missing = [k for k in acknowledged if not has(b, k)]
    assert missing == [], f"{len(missing)} acknowledged writes to {store} are gone"
    assert health.check(store).ok


def test_the_schema_owner_has_no_statement_timeout(servers: Servers) -> None:
    """Migrations and the seed loader run on the owner's engine: a statement longer than
    the store timeout completes there, while the app's own login gives up on it."""
    b = servers.backend
    with b.owner_engine.connect() as conn:
        conn.execute(text("SELECT pg_sleep(:s)"), {"s": TIMEOUT + 0.5})
    started = time.monotonic()
    with pytest.raises(Unavailable) as info, unit_of_work(b.engine) as uow:
        uow.session.execute(text("SELECT pg_sleep(:s)"), {"s": TIMEOUT * 4})
    assert time.monotonic() - started < BOUND
    assert f"did not finish within the {TIMEOUT:g} s timeout" in info.value.message


def test_a_frozen_app_gets_unavailable_not_a_hang_for_a_read(servers: Servers) -> None:
    """A read on a connection already open when the server froze: the answer deadline,
    not the kernel (which keeps acknowledging), ends the wait."""
    b = servers.backend
    _pg_write(b, "read-probe")
    with b.engine.connect() as conn:
        conn.execute(text("SELECT 1"))
        with frozen(servers.pids["postgres"]()):
            started = time.monotonic()
            with pytest.raises(Unavailable):
                conn.execute(text("SELECT key FROM frozen_probe"))
            assert time.monotonic() - started < BOUND
    assert _pg_has(b, "read-probe")
