"""Session fixtures that start real servers: PostgreSQL, MongoDB and Redis (the same
launchers as the local stack, in a temp dir) and an S3 server (moto), all on loopback."""

from __future__ import annotations

import gc
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

# Qt must not look for a display in tests; set before any QApplication exists.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from backend_client.backend import Backend, open_backend  # noqa: E402
from backend_client.config import Settings, load_settings  # noqa: E402
from backend_client.local_stack import LocalStack, StackEndpoints  # noqa: E402
from backend_client.local_stack.process import free_port, port_answers, wait_for  # noqa: E402
from backend_client.local_stack.servers import RedisServer  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


# The session's servers, an app's data folder per end-to-end test and the servers the
# local-stack tests start and stop: a run peaks well under this (its note says how much).
DISK_NEEDED = 2 * 1024**3


def pytest_sessionstart(session: pytest.Session) -> None:
    """A full disk would kill the shared PostgreSQL half-way and fail hundreds of tests
    with 'connection refused'; say what is missing before starting instead."""
    base = session.config.option.basetemp or os.environ.get("TMPDIR") or "/tmp"
    probe = Path(base)
    while not probe.exists():
        probe = probe.parent
    free = shutil.disk_usage(probe).free
    if free < DISK_NEEDED:
        pytest.exit(f"The tests need {DISK_NEEDED / 1024**3:.0f} GB free for the test servers' "
                    f"data; {probe} has {free / 1024**3:.1f} GB. Free some space there or "
                    "point TMPDIR (or --basetemp) at a larger disk.", returncode=2)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        fixtures = getattr(item, "fixturenames", ())
        if "qtbot" in fixtures or "qapp" in fixtures:
            item.add_marker(pytest.mark.gui)
        path = Path(str(item.fspath))
        if "integration" in path.parts:
            item.add_marker(pytest.mark.integration)
        if "e2e" in path.parts:
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(autouse=True)
def _collect_garbage_on_the_main_thread(request: pytest.FixtureRequest) -> Iterator[None]:
    """As the app does (desktop/gc_collector.py): a cycle holding a QObject must never be
    collected on a pymongo or pool thread, so collection happens here, between tests.

    After a Qt test everything it made is collected at once (its widgets must be gone
    before the next test); after the others only the generations whose thresholds were
    crossed, as automatic collection would — a full collection after each of 1,500 tests
    cost about 0.2 s apiece, minutes of the suite."""
    gc.disable()
    yield
    if request.node.get_closest_marker("gui") is not None:
        gc.collect()
        return
    counts, thresholds = gc.get_count(), gc.get_threshold()
    if counts[0] > thresholds[0]:
        generation = 0
        if counts[1] > thresholds[1]:
            generation = 1
            if counts[2] > thresholds[2]:
                generation = 2
        gc.collect(generation)


@pytest.fixture(scope="session", autouse=True)
def _isolated_environment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """No test reads the developer's own configuration or data."""
    saved = {k: v for k, v in os.environ.items() if k.startswith("DRA_")}
    for key in saved:
        del os.environ[key]
    home = tmp_path_factory.mktemp("home")
    os.environ["DRA_CONFIG_FILE"] = os.devnull  # an empty file: no settings from one
    os.environ["DRA_DATA_DIR"] = str(home / "data")
    yield
    for key in [k for k in os.environ if k.startswith("DRA_")]:
        del os.environ[key]
    os.environ.update(saved)


@pytest.fixture(scope="session")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StackEndpoints]:
    """Real PostgreSQL, MongoDB and Redis for the whole session. Starting them also creates
    the app's login (``dr_assistant_app``, a member of ``dra_app``), as on a workstation."""
    stack = LocalStack(tmp_path_factory.mktemp("servers"))
    endpoints = stack.start()
    yield endpoints
    stack.stop()


@pytest.fixture(scope="session")
def s3_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real S3-compatible HTTP server (moto) on loopback."""
    port = free_port()
    log = tmp_path_factory.mktemp("moto") / "moto.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        )
    try:
        if not wait_for(lambda: port_answers(port), 30):
            raise RuntimeError(f"moto server did not start: {log.read_text()[-2000:]}")
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(10)


@pytest.fixture(scope="session")
def settings(servers: StackEndpoints, s3_endpoint: str,
             tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """As a clinic would configure it: the app logs in to each store as its own user, and
    migrations run with the owners' URLs."""
    return load_settings(
        postgres_url=servers.postgres_app_url,
        postgres_admin_url=servers.postgres_url,
        mongo_url=servers.mongo_url,
        mongo_admin_url=servers.mongo_owner_url,
        mongo_database="dra_test",
        redis_url=servers.redis_url,
        s3_endpoint_url=s3_endpoint,
        s3_bucket="dra-test",
        s3_access_key_id="testing",
        s3_secret_access_key="testing",
        data_dir=tmp_path_factory.mktemp("data"),
        store_timeout_seconds=2.0,
    )


@pytest.fixture(scope="session")
def backend(settings: Settings) -> Iterator[Backend]:
    """Clients for all four real stores, schema migrated once for the session (as the
    owner, which also gives ``dra_app`` its grants). ``backend.engine`` is the app's login;
    a test that needs the owner's powers uses ``backend.owner_engine``."""
    from backend_client.schema import migrate

    b = open_backend(settings)
    migrate(b)
    yield b
    b.close()


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[tuple[RedisServer, str]]:
    """A Redis server of the test's own, to stop, freeze (SIGSTOP) or kill."""
    server = RedisServer(tmp_path, tmp_path / "logs")
    port = server.start(None, "pw")
    yield server, server.url(port, "pw")
    pid = server.pid()
    if pid:
        os.kill(pid, signal.SIGCONT)
    server.stop()
