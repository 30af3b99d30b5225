"""A configuration mistake is one sentence naming the setting, from every entry point.

The table gives every setting (``Settings.model_fields``: a new setting without bad values
fails ``test_every_setting_has_bad_values``) one or more bad values, and each runs through
``dr-assistant --screenshot``, ``dr-assistant-admin doctor`` and ``dr-assistant-admin
migrate`` as its own process: the answer must be a non-zero exit and exactly one line on
stderr that names the setting, with no traceback, no exception class and no password.

Each of those processes is forked from a runner that has already imported the entry
point's modules (starting the admin CLI costs ~0.7 s of imports; ~150 of them would take
minutes on two cores). That they behave as the console scripts do is checked by running
the real console scripts for a sample of the table, and by the connection failures at the
end, which use the console scripts against real servers.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from backend_client.config import Settings
from backend_client.local_stack import StackEndpoints
from backend_client.local_stack.process import free_port
from tests.integration.test_tls import CA, _combined

ROOT = Path(__file__).resolve().parents[2]
SECRET = "hunter2"
ENTRY_POINTS = {
    "app": ("desktop.app", ["--screenshot", "{tmp}/shot.png"]),
    "doctor": ("backend_client.admin.cli", ["doctor"]),
    "migrate": ("backend_client.admin.cli", ["migrate"]),
}

# Forks one child per case from a process that imported the entry point once. The child
# does what the console script does (sys.exit(main())), including the interpreter's own
# printing of an uncaught exception, so a traceback would show as it would for a user.
RUNNER = textwrap.dedent('''
    import importlib, json, os, signal, sys, time, traceback
    main = importlib.import_module(sys.argv[1]).main
    importlib.import_module("backend_client.config")  # the app imports it in main()
    for line in sys.stdin:
        case = json.loads(line)
        pid = os.fork()
        if pid == 0:
            out = os.open(case["out"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            err = os.open(case["err"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            os.dup2(out, 1)
            os.dup2(err, 2)
            os.environ.clear()
            os.environ.update(case["env"])
            sys.argv = [case["prog"], *case["argv"]]
            try:
                code = main(case["argv"])
            except SystemExit as exc:
                code = exc.code
            except BaseException:
                traceback.print_exc()
                code = 1
            if isinstance(code, str):
                print(code, file=sys.stderr)
                code = 1
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code or 0)
        deadline = time.monotonic() + case["timeout"]
        while True:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                rc = os.waitstatus_to_exitcode(status)
                break
            if time.monotonic() > deadline:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                rc = "timeout"
                break
            time.sleep(0.01)
        print(json.dumps({"rc": rc}), flush=True)
''')


@dataclass
class Result:
    rc: int | str
    stdout: str
    stderr: str


class Runner:
    def __init__(self, module: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", RUNNER, module], cwd=ROOT, text=True,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            env={k: v for k, v in os.environ.items() if not k.startswith("DRA_")})
        self.n = 0

    def run(self, prog: str, argv: list[str], env: dict[str, str], folder: Path,
            timeout: float = 60) -> Result:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.n += 1
        out, err = folder / f"out-{self.n}", folder / f"err-{self.n}"
        self.proc.stdin.write(json.dumps({
            "prog": prog, "argv": argv, "env": env, "out": str(out), "err": str(err),
            "timeout": timeout}) + "\n")
        self.proc.stdin.flush()
        rc = json.loads(self.proc.stdout.readline())["rc"]
        return Result(rc, out.read_text(), err.read_text())

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(30)


@pytest.fixture(scope="module")
def runners() -> Iterator[dict[str, Runner]]:
    made = {module: Runner(module) for module, _ in ENTRY_POINTS.values()}
    yield made
    for runner in made.values():
        runner.close()


# --------------------------------------------------------------------------- the table


@dataclass(frozen=True)
class Files:
    folder: Path
    ca: Path
    cert: Path
    key: Path
    other_key: Path
    readable_key: Path
    combined: Path
    not_pem: Path
    a_file: Path
    config_unknown_key: Path
    config_bad_value: Path
    config_broken: Path


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Files:
    folder = tmp_path_factory.mktemp("config-errors")
    ca = CA(folder, "ca")
    client = ca.issue("client", server=False)
    other = ca.issue("other", server=False)
    readable = folder / "readable.key"
    readable.write_bytes(client.key.read_bytes())
    readable.chmod(0o644)
    not_pem = folder / "not-pem.txt"
    not_pem.write_text("this is not a certificate\n")
    a_file = folder / "a-file"
    a_file.write_text("x")
    unknown = folder / "unknown.toml"
    unknown.write_text('redis_uri = "redis://cache.clinic.example:6379/0"\n')
    bad_value = folder / "bad-value.toml"
    bad_value.write_text("idle_lock_minutes = 1\n")
    broken = folder / "broken.toml"
    broken.write_text("redis_url = \n")
    return Files(folder, ca.file, client.cert, client.key, other.key, readable,
                 _combined(client, folder / "combined.pem"), not_pem, a_file, unknown,
                 bad_value, broken)


def base_env(folder: Path) -> dict[str, str]:
    """A complete, valid clinic setup whose servers are not there (free loopback ports):
    whatever a case gets wrong is the only thing wrong."""
    config = folder / "empty.toml"
    config.touch()
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(folder),
        "PYTHONPATH": str(ROOT),
        "LANG": "C.UTF-8",
        "DRA_POSTGRES_URL": f"postgresql://dra:{SECRET}@127.0.0.1:{free_port()}/dra",
        "DRA_MONGO_URL": f"mongodb://127.0.0.1:{free_port()}/?directConnection=true",
        "DRA_REDIS_URL": f"redis://:{SECRET}@127.0.0.1:{free_port()}/0",
        "DRA_S3_ENDPOINT_URL": f"http://127.0.0.1:{free_port()}",
        "DRA_S3_BUCKET": "dra-test",
        "DRA_S3_ACCESS_KEY_ID": "AKIATEST",
        "DRA_S3_SECRET_ACCESS_KEY": SECRET,
        "DRA_DATA_DIR": str(folder / "data"),
        "DRA_CONFIG_FILE": str(config),
        "DRA_STORE_TIMEOUT_SECONDS": "1",
    }


# Setting -> bad values. A value is (what the setting is set to, other changes: None unsets).
# "{name}" in a value is a file from Files.
Bad = tuple[str, dict[str, str | None]]
REDISS = f"rediss://:{SECRET}@127.0.0.1:6380/0"
BAD: dict[str, list[Bad]] = {
    "mode": [("cloud", {}), ("embedded", {})],
    "postgres_url": [
        (f"mysql://admin:{SECRET}@db/x", {}),
        (f"postgresql://dra:{SECRET}@127.0.0.1:99999/dra", {}),
        (f"postgresql://dra:{SECRET}@127.0.0.1:5432/", {}),
        (f"postgresql://dra:{SECRET}@127.0.0.1/dra?sslmode=sometimes", {}),
        (f"postgresql://dra:{SECRET}@127.0.0.1/dra?bogus_option=1", {}),
    ],
    "postgres_admin_url": [("mongodb://127.0.0.1/x", {}),
                           (f"postgresql://owner:{SECRET}@127.0.0.1:0/dra", {})],
    "postgres_ca_file": [("{folder}/missing.pem", {}), ("{not_pem}", {}),
                         ("{ca}", {"DRA_POSTGRES_URL": "postgresql://dra@127.0.0.1/dra"
                                                       "?sslmode=require"})],
    "postgres_cert_file": [("{cert}", {}),
                           ("{not_pem}", {"DRA_POSTGRES_KEY_FILE": "{key}",
                                          "DRA_POSTGRES_CA_FILE": "{ca}"})],
    "postgres_key_file": [("{key}", {}),
                          ("{readable_key}", {"DRA_POSTGRES_CERT_FILE": "{cert}",
                                              "DRA_POSTGRES_CA_FILE": "{ca}"}),
                          ("{other_key}", {"DRA_POSTGRES_CERT_FILE": "{cert}",
                                           "DRA_POSTGRES_CA_FILE": "{ca}"})],
    "mongo_url": [("http://mongo:27017", {}),
                  ("mongodb://127.0.0.1:1/?maxPoolSize=lots", {}),
                  ("mongodb://127.0.0.1:1/?bogusOption=1", {})],
    "mongo_admin_url": [("http://mongo:27017", {}),
                        ("mongodb://127.0.0.1:1/?bogusOption=1", {})],
    "mongo_database": [("bad/name", {}), ("a.b", {})],
    "mongo_ca_file": [("{folder}/missing.pem", {}), ("{folder}", {})],
    "mongo_cert_file": [("{cert}", {"DRA_MONGO_CA_FILE": "{ca}"}), ("{combined}", {})],
    "redis_url": [("localhost:6379", {}), ("redis://127.0.0.1:1/abc", {}),
                  ("redis://127.0.0.1:1/0?bogus=1", {})],
    "redis_ca_file": [("{folder}/missing.pem", {}), ("{ca}", {})],
    "redis_cert_file": [("{cert}", {"DRA_REDIS_URL": REDISS})],
    "redis_key_file": [("{key}", {"DRA_REDIS_URL": REDISS}),
                       ("{other_key}", {"DRA_REDIS_URL": REDISS,
                                        "DRA_REDIS_CERT_FILE": "{cert}"})],
    "s3_endpoint_url": [("ftp://s3.clinic.example", {}), ("http://s3.clinic.example:9000", {})],
    "s3_bucket": [("Bad_Bucket!", {}), ("x", {})],
    "s3_access_key_id": [("AKIAEXAMPLE", {"DRA_S3_SECRET_ACCESS_KEY": None})],
    "s3_secret_access_key": [(SECRET, {"DRA_S3_ACCESS_KEY_ID": None})],
    "s3_region": [("not a region!", {})],
    "s3_ca_file": [("{not_pem}", {}), ("{ca}", {})],
    "s3_allow_http": [("perhaps", {})],
    "require_tls": [("maybe", {}),
                    ("true", {"DRA_REDIS_URL": f"redis://:{SECRET}@cache.clinic.example/0"})],
    "data_dir": [("{a_file}", {}), ("{a_file}/data", {}), ("/proc/1/dra-data", {})],
    "health_interval_seconds": [("often", {}), ("0", {})],
    "idle_lock_minutes": [("1", {}), ("ten", {})],
    "session_max_hours": [("25", {})],
    "workstation_name": [("x" * 101, {}), ("desk\tone", {})],
    "store_timeout_seconds": [("-1", {}), ("soon", {}), ("61", {})],
    "dictation_keep_days": [("-1", {}), ("91", {}), ("a week", {})],
    "dictation_keys": [("record=F9," * 60, {})],
}

# Mistakes that are not one setting's value: (id, changes, what the sentence must name).
GENERAL: list[tuple[str, dict[str, str | None], str]] = [
    ("unknown-variable", {"DRA_REDIS_URI": "redis://cache:6379/0"}, "DRA_REDIS_URI"),
    ("unknown-file-key", {"DRA_CONFIG_FILE": "{config_unknown_key}"}, "redis_uri"),
    ("bad-value-in-file", {"DRA_CONFIG_FILE": "{config_bad_value}"}, "idle_lock_minutes"),
    ("broken-file", {"DRA_CONFIG_FILE": "{config_broken}"}, "broken.toml"),
    ("missing-config-file", {"DRA_CONFIG_FILE": "{folder}/nowhere.toml"}, "DRA_CONFIG_FILE"),
    ("partial-setup", {"DRA_MONGO_URL": None, "DRA_S3_BUCKET": None}, "DRA_MONGO_URL"),
]


def _cases() -> dict[str, list[tuple[str, dict[str, str | None], str]]]:
    """Cases by what they are about (a setting, or a general mistake)."""
    cases: dict[str, list[tuple[str, dict[str, str | None], str]]] = {}
    for field, values in BAD.items():
        name = f"DRA_{field.upper()}"
        cases[name] = [(f"{name}-{i}", {name: value, **extra}, name)
                       for i, (value, extra) in enumerate(values)]
    for case in GENERAL:
        cases[case[0]] = [case]
    return cases


CASES = _cases()
CASE_BY_ID = {i: (c, n) for group in CASES.values() for i, c, n in group}


def _env_for(changes: dict[str, str | None], files: Files, folder: Path) -> dict[str, str]:
    env = base_env(folder)
    names = {k: str(v) for k, v in files.__dict__.items()}
    for key, value in changes.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value.format(**names) if "{" in value else value
    return env


def test_every_setting_has_bad_values() -> None:
    assert set(BAD) == set(Settings.model_fields), (
        "give each setting bad values in BAD: "
        f"{sorted(set(Settings.model_fields) ^ set(BAD))}")


# What else the app may write to stderr: Qt's offscreen platform on every window shown,
# and the screenshot it took of the sign-in page showing the same sentence.
NOT_OURS = re.compile(r"^(This plugin does not support propagateSizeHints\(\)"
                      r"|screenshot saved to .*)$")


def _judge(result: Result, names: str, entry: str) -> None:
    lines = [x for x in result.stderr.strip().splitlines() if not NOT_OURS.match(x)]
    stderr = "\n".join(lines)
    assert result.rc not in (0, "timeout"), (result.rc, stderr, result.stdout)
    assert len(lines) == 1, f"{entry} wrote more than one line:\n{result.stderr}"
    assert "Traceback" not in stderr
    assert names in stderr, stderr
    assert not re.search(r"\b\w*(Error|Exception|Warning)\b", stderr), stderr
    assert SECRET not in stderr + result.stdout, "a password was echoed"


@pytest.mark.parametrize("about", list(CASES))
def test_a_bad_value_is_one_sentence_naming_the_setting(
        runners: dict[str, Runner], files: Files, tmp_path: Path, about: str) -> None:
    """Every bad value of one setting (or one general mistake), through all three entry
    points. (One test per setting, not per run: the suite collects garbage after each test,
    which would cost more than the ~150 runs themselves.)"""
    def run_all(entries: list[str]) -> list[str]:
        failures = []
        for case_id, changes, names in CASES[about]:
            env = _env_for(changes, files, files.folder)
            # This case's own data folder.
            env["DRA_DATA_DIR"] = env["DRA_DATA_DIR"].replace(
                str(files.folder / "data"), str(tmp_path / case_id / "data"))
            for entry in entries:
                module, argv = ENTRY_POINTS[entry]
                prog = "dr-assistant" if entry == "app" else "dr-assistant-admin"
                result = runners[module].run(prog, [a.format(tmp=tmp_path) for a in argv],
                                             env, tmp_path / entry)
                try:
                    _judge(result, names, entry)
                except AssertionError as exc:
                    failures.append(f"{case_id} via {entry}: {exc}")
        return failures

    for entry in ENTRY_POINTS:
        (tmp_path / entry).mkdir()
    # The app's runner and the admin CLI's runner side by side (each used by one thread).
    with ThreadPoolExecutor(2) as pool:
        app = pool.submit(run_all, ["app"])
        cli = pool.submit(run_all, ["doctor", "migrate"])
        failures = app.result() + cli.result()
    assert not failures, "\n\n".join(failures)


def _console(entry: str) -> list[str]:
    prog = "dr-assistant" if entry == "app" else "dr-assistant-admin"
    exe = shutil.which(prog, path=str(Path(sys.executable).parent))
    assert exe, f"{prog} is not installed in this environment"
    return [exe, *ENTRY_POINTS[entry][1]]


# One mistake found while reading the settings, one found while building the clients.
SAMPLE = ["partial-setup", "DRA_MONGO_URL-2"]


def test_the_console_scripts_answer_as_the_runner_does(
        runners: dict[str, Runner], files: Files, tmp_path: Path) -> None:
    """The real console scripts, for a sample of the table: the same exit code and stderr
    as the forked runs."""
    by_id = CASE_BY_ID
    jobs = []
    for case_id in SAMPLE:
        changes, _ = by_id[case_id]
        for entry in ENTRY_POINTS:
            env = _env_for(changes, files, files.folder)
            argv = [a.format(tmp=tmp_path) for a in _console(entry)]
            jobs.append((case_id, entry, env, argv))

    def real(job: tuple[str, str, dict[str, str], list[str]]) -> Result:
        _, _, env, argv = job
        done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120)
        return Result(done.returncode, done.stdout, done.stderr)

    with ThreadPoolExecutor(3) as pool:
        results = list(pool.map(real, jobs))
    for (case_id, entry, env, argv), got in zip(jobs, results, strict=True):
        module, _ = ENTRY_POINTS[entry]
        forked = runners[module].run(Path(argv[0]).name, argv[1:], env, tmp_path)
        _judge(got, by_id[case_id][1], entry)
        assert (got.rc, got.stderr) == (forked.rc, forked.stderr), (case_id, entry)


# --------------------------------------------------------------------------- at start


def _clinic_env(servers: StackEndpoints, s3_endpoint: str, folder: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DRA_")}
    config = folder / "empty.toml"
    config.touch()
    env.update({
        "DRA_POSTGRES_URL": servers.postgres_url,
        "DRA_MONGO_URL": servers.mongo_url,
        "DRA_MONGO_ADMIN_URL": servers.mongo_owner_url,
        "DRA_MONGO_DATABASE": "dra_start_failures",
        "DRA_REDIS_URL": servers.redis_url,
        "DRA_S3_ENDPOINT_URL": s3_endpoint,
        "DRA_S3_BUCKET": "dra-start-failures",
        "DRA_S3_ACCESS_KEY_ID": "testing",
        "DRA_S3_SECRET_ACCESS_KEY": "testing",
        "DRA_DATA_DIR": str(folder / "data"),
        "DRA_CONFIG_FILE": str(config),
        "DRA_STORE_TIMEOUT_SECONDS": "1",
    })
    return env


def _swap(url: str, *, password: str | None = None, port: int | None = None,
          host: str | None = None, path: str | None = None) -> str:
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    user = parts.username or ""
    secret = password if password is not None else (parts.password or "")
    netloc = (f"{user}:{secret}@" if user or secret else "") + \
        f"{host or parts.hostname}:{port or parts.port}"
    return urlunsplit((parts.scheme, netloc, path if path is not None else parts.path,
                       parts.query, ""))


# (id, setting, how to spoil it, the store's name, what the sentence must say)
START_FAILURES = [
    ("postgres-password", "DRA_POSTGRES_URL", {"password": "wrong"}, "PostgreSQL",
     "the user name or password in DRA_POSTGRES_URL was refused"),
    ("postgres-host", "DRA_POSTGRES_URL", {"host": "db.invalid"}, "PostgreSQL",
     "the host name is unknown"),
    ("postgres-database", "DRA_POSTGRES_URL", {"path": "/no_such_db"}, "PostgreSQL",
     "no database named no_such_db"),
    ("mongo-port", "DRA_MONGO_URL", {"port": "free"}, "MongoDB", "connection refused"),
    ("redis-password", "DRA_REDIS_URL", {"password": "wrong"}, "Redis",
     "the user name or password in DRA_REDIS_URL was refused"),
    ("s3-port", "DRA_S3_ENDPOINT_URL", {"port": "free"}, "Object storage",
     "connection refused"),
]


@pytest.mark.parametrize(("setting", "spoil", "label", "says"),
                         [pytest.param(s, h, lb, w, id=i) for i, s, h, lb, w in START_FAILURES])
def test_a_store_that_cannot_be_used_at_start_is_named_with_what_is_wrong(
        runners: dict[str, Runner], servers: StackEndpoints, s3_endpoint: str, tmp_path: Path,
        setting: str, spoil: dict[str, str], label: str, says: str) -> None:
    env = _clinic_env(servers, s3_endpoint, tmp_path)
    how: dict[str, object] = {**spoil}
    if how.get("port") == "free":
        how["port"] = free_port()
    env[setting] = _swap(env[setting], **how)  # type: ignore[arg-type]
    if setting == "DRA_MONGO_URL":
        # Otherwise migrate works as MongoDB's owner and never uses the app's URL.
        env.pop("DRA_MONGO_ADMIN_URL")
    entries = list(ENTRY_POINTS)
    if setting == "DRA_REDIS_URL":
        entries.remove("migrate")  # migrations need no Redis, so its password does not matter

    def run(entry: str) -> Result:
        module, argv = ENTRY_POINTS[entry]
        prog = "dr-assistant" if entry == "app" else "dr-assistant-admin"
        (tmp_path / entry).mkdir()
        return runners[module].run(prog, [a.format(tmp=tmp_path) for a in argv], env,
                                   tmp_path / entry, timeout=120)

    # The app's runner beside the admin CLI's (each used by one thread only).
    with ThreadPoolExecutor(2) as pool:
        app = pool.submit(run, "app")
        cli = pool.submit(lambda: {e: run(e) for e in entries if e != "app"})
        results = {"app": app.result(), **cli.result()}
    for entry, done in results.items():
        out = done.stdout + done.stderr
        assert done.rc not in (0, "timeout"), (entry, out)
        assert "Traceback" not in out, (entry, out)
        assert not re.search(r"\b\w*(Error|Exception)\b", done.stderr), (entry, done.stderr)
        assert says in out, (entry, out)
        assert label in out, (entry, out)


def test_migrate_as_the_apps_own_login_says_to_set_the_owners_url(
        runners: dict[str, Runner], servers: StackEndpoints, s3_endpoint: str,
        tmp_path: Path) -> None:
    """The app's login (a member of dra_app) may not create tables: on a new database,
    migrate says which setting to add instead of a permission error."""
    import uuid

    import psycopg
    from sqlalchemy.engine import make_url

    name = f"migrate_{uuid.uuid4().hex[:8]}"
    owner = make_url(servers.postgres_url)
    with psycopg.connect(host=owner.host, port=owner.port, user=owner.username,
                         password=owner.password, dbname="postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        env = _clinic_env(servers, s3_endpoint, tmp_path)
        env["DRA_POSTGRES_URL"] = make_url(servers.postgres_app_url).set(
            drivername="postgresql", database=name).render_as_string(hide_password=False)
        done = runners["backend_client.admin.cli"].run("dr-assistant-admin", ["migrate"], env,
                                                        tmp_path)
    finally:
        with psycopg.connect(host=owner.host, port=owner.port, user=owner.username,
                             password=owner.password, dbname="postgres",
                             autocommit=True) as conn:
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
    assert done.rc == 2, done.stdout + done.stderr
    assert done.stderr.strip() == (
        "dr-assistant-admin: The PostgreSQL login in DRA_POSTGRES_URL may not change the "
        "database's schema; set DRA_POSTGRES_ADMIN_URL to the URL of the schema's owner.")
