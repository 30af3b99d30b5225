"""The SQLAlchemy Engines (psycopg 3), built in the composition root.

A call to PostgreSQL is bounded three ways, because each catches what the others cannot:

- ``statement_timeout`` (the server): a statement that runs too long (a lock wait, a bad
  plan) is cancelled by the server itself, and the connection stays usable.
- TCP keepalives and ``tcp_user_timeout`` (the kernel): a server that vanished (a cable, a
  crashed host, a dropped NAT entry) is noticed, idle or while sending.
- an answer deadline (here): a server that is there but does not answer (frozen, swapped
  out, stopped with SIGSTOP) is noticed by neither: its kernel keeps acknowledging. psycopg
  waits for an answer at most that long, then drops the connection.

The schema owner's engine (migrations, the seed loader's bulk COPY) has no statement
timeout and no answer deadline: its work may legitimately take minutes.
"""

from __future__ import annotations

import inspect
import math
import re
import select
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import psycopg
from psycopg.abc import PQGen
from psycopg.conninfo import make_conninfo
from sqlalchemy import Engine, create_engine, event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import ExceptionContext, make_url

from backend_client.errors import (
    ConfigError,
    StoreLabels,
    Unavailable,
    connection_reason,
    first_line,
)

RV = TypeVar("RV")

# Time the server's own statement_timeout gets to arrive before the client gives up: the
# server's cancel keeps the connection, the client's drops it.
ANSWER_GRACE_SECONDS = 0.5
# A peer that vanished is noticed on an idle connection after 15 + 3 × 5 s.
KEEPALIVE = {"keepalives": 1, "keepalives_idle": 15, "keepalives_interval": 5,
             "keepalives_count": 3}
# Statements a connection keeps prepared (psycopg's default is 100): the search's shapes
# (patients/search.py) are a few hundred, and evicting one costs a DEALLOCATE.
PREPARED_MAX = 500
# psycopg's wait() raises this (internal) OperationalError subclass when its timeout passes.
# Both arrived with psycopg 3.3; pyproject asks for it.
_WAIT_TIMEOUT: Any = getattr(psycopg.errors, "_WaitTimeout", ())
_WAIT_HAS_TIMEOUT = "timeout" in inspect.signature(psycopg.Connection.wait).parameters


class NoAnswer(psycopg.OperationalError):
    """The server did not answer within the deadline; the connection was dropped."""


class AnsweringConnection(psycopg.Connection[Any]):
    """A psycopg connection that stops waiting for a server that does not answer.

    Every blocking step (execute, fetch, commit, rollback, COPY) goes through ``wait``;
    ``answer_timeout`` bounds each. None: wait as long as it takes.
    """

    answer_timeout: float | None = None

    def wait(self, gen: PQGen[RV], interval: float = 0.1,
             timeout: float | None = None) -> RV:
        limit = self.answer_timeout
        if limit is None or timeout is not None:
            return super().wait(gen, interval, timeout)
        try:
            return super().wait(gen, interval, limit)
        except _WAIT_TIMEOUT:
            # The protocol is now half way through a message: the connection cannot be used
            # again (psycopg does the same after an interrupted cancel).
            self.pgconn.finish()
            raise NoAnswer(f"PostgreSQL did not answer within {limit:g} s") from None


def normalise_url(url: str) -> str:
    """Accept ``postgresql://`` and ``postgres://`` and use the psycopg 3 driver."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def with_tls(url: str, *, ca_file: Any = None, cert_file: Any = None,
             key_file: Any = None) -> str:
    """The URL with libpq's TLS options: a CA file means ``verify-full`` (the server's
    certificate must come from that CA and name the host we asked for)."""
    parsed = make_url(normalise_url(url))
    query: dict[str, str] = {}
    if ca_file:
        query.update(sslmode="verify-full", sslrootcert=str(ca_file))
    if cert_file and key_file:
        query.update(sslcert=str(cert_file), sslkey=str(key_file))
    if query:
        parsed = parsed.update_query_dict(query)
    return parsed.render_as_string(hide_password=False)


def libpq_args(timeout_seconds: float, *, long_running: bool = False,
               application_name: str = "dr-assistant") -> dict[str, Any]:
    """Connection parameters that bound every wait (see the module docstring)."""
    statement_ms = 0 if long_running else max(1, int(timeout_seconds * 1000))
    return {
        # libpq counts whole seconds and treats anything under 2 as 2.
        "connect_timeout": max(2, math.ceil(timeout_seconds)),
        "application_name": application_name,
        # Unacknowledged data for this long means the peer is gone.
        "tcp_user_timeout": max(1000, int(timeout_seconds * 1000)) * (10 if long_running
                                                                      else 1),
        "options": f"-c statement_timeout={statement_ms}",
        **KEEPALIVE,
    }


def answer_timeout(timeout_seconds: float) -> float:
    return timeout_seconds + ANSWER_GRACE_SECONDS


def build_engine(url: str, *, timeout_seconds: float = 3.0, pool_size: int = 5,
                 long_running: bool = False, labels: StoreLabels | None = None,
                 ca_file: Any = None, cert_file: Any = None, key_file: Any = None) -> Engine:
    """Args:
        long_running: for the schema owner (migrations, the seed loader): no statement
            timeout and no answer deadline.
        labels: name the server in sentences; with them, a failure to reach PostgreSQL is
            raised as ``Unavailable`` (and, on the owner's engine, a login that may not
            change the schema as ``ConfigError``) instead of a driver exception.
        ca_file, cert_file, key_file: TLS (see :func:`with_tls`).
    """
    deadline = None if long_running else answer_timeout(timeout_seconds)
    if deadline is not None and not (_WAIT_HAS_TIMEOUT and _WAIT_TIMEOUT):
        # Without it a frozen server hangs the app without limit: refuse to run so.
        raise RuntimeError(f"Dr. Assistant needs psycopg 3.3 or newer (this is "
                           f"{psycopg.__version__}); reinstall it with its dependencies.")
    url = with_tls(url, ca_file=ca_file, cert_file=cert_file, key_file=key_file)
    # libpq refuses an unknown option only when connecting; say so now, while the URL is
    # all there is to blame.
    make_conninfo("", **{k: v for k, v in make_url(url).query.items() if isinstance(v, str)})
    connect_args = libpq_args(timeout_seconds, long_running=long_running)
    url_options = make_url(url).query.get("options")
    if isinstance(url_options, str):  # keep the URL's own server options beside ours
        connect_args["options"] = f"{url_options} {connect_args['options']}"
    engine = create_engine(
        url,
        # Instead of a ping per checkout (a round trip, a tenth of a search), a pooled
        # connection is checked for a word from the server (see _check_out).
        # Bound values are patient data: never into exception texts and so never into logs.
        hide_parameters=True,
        pool_size=pool_size,
        max_overflow=5,
        # The connection returned last is handed out first: it holds the statements the
        # last searches prepared and planned (patients/search.py), and the server's
        # caches for them; the pool's others idle until the work needs them.
        pool_use_lifo=True,
        pool_timeout=timeout_seconds * 2,
        connect_args=connect_args,
    )

    @event.listens_for(engine, "do_connect")
    def _connect(dialect: Any, conn_rec: Any, cargs: Any, cparams: Any) -> Any:
        conn = AnsweringConnection.connect(*cargs, **cparams)
        conn.answer_timeout = deadline
        conn.prepared_max = PREPARED_MAX
        return conn

    @event.listens_for(engine, "do_execute")
    def _execute(cursor: Any, statement: str, parameters: Any, context: Any) -> bool | None:
        # A statement made with execution_options(prepare=True) is prepared on the server
        # at its first execution (psycopg's own rule waits for five), and its plan kept
        # for the connection if the transaction asks for generic plans (uow.py). psycopg
        # forgets a connection's prepared statements when a transaction rolls back.
        if context.execution_options.get("prepare"):
            cursor.execute(statement, parameters, prepare=True)
            return True
        return None

    event.listen(engine, "checkout", _check_out(engine))
    if labels is not None:
        _raise_sentences(engine, labels, owner=long_running)
    return engine


def _has_word(fd: int) -> bool:
    """Whether the socket has something to read (without waiting)."""
    if hasattr(select, "poll"):  # not on Windows; select() is, but only for fds < 1024
        poller = select.poll()
        poller.register(fd, select.POLLIN | select.POLLERR | select.POLLHUP)
        return bool(poller.poll(0))
    return bool(select.select([fd], [], [], 0)[0])


def _check_out(engine: Engine) -> Any:
    """The pool's checkout check: is this idle connection still the server's?

    Between transactions the server says nothing on a connection unless it is going away:
    a restart or a shutdown sends an error and closes it, a killed backend closes it, and
    the kernel reports a reset or a keepalive that failed. So a connection with nothing to
    read is used as it is (no round trip); one with something to read, or already closed
    (an answer deadline dropped it), is pinged, and if that fails the pool's connections
    are all replaced (a restart ended every one of them) and the caller gets a new one.
    """

    def check(dbapi_conn: Any, _record: Any, _proxy: Any) -> None:
        if dbapi_conn.closed:
            raise sa_exc.DisconnectionError("the connection was closed")
        try:
            quiet = not _has_word(dbapi_conn.fileno())
        except (OSError, ValueError, psycopg.Error):
            quiet = False
        if quiet:
            return
        try:
            engine.dialect.do_ping(dbapi_conn)
        except psycopg.Error as exc:
            raise sa_exc.InvalidatePoolError(f"the server closed the connection: {exc}") \
                from None

    return check


# SQLSTATE classes that mean "this server cannot be used now", not "this statement is
# wrong": connection exceptions, authorisation, unknown database, resources, operator
# intervention (statement timeout, shutdown). A client-side failure has no SQLSTATE.
_UNAVAILABLE_CLASSES = ("08", "28", "3D", "53", "57")
# Insufficient privilege because the login is not the schema's owner (as opposed to a
# trigger refusing a change with the same SQLSTATE, which is the rule working).
_NOT_THE_OWNER = re.compile(r"permission denied (for schema|for database|to create)|"
                            r"must be owner of")


def _raise_sentences(engine: Engine, labels: StoreLabels, *, owner: bool) -> None:
    @event.listens_for(engine, "handle_error")
    def _on_error(ctx: ExceptionContext) -> BaseException | None:
        if ctx.is_pre_ping:
            return None  # the pool reconnects; a failure there comes back through here
        original = ctx.original_exception
        if not isinstance(original, psycopg.Error):
            return None
        state = original.sqlstate
        if isinstance(original, psycopg.OperationalError) and (
                state is None or state[:2] in _UNAVAILABLE_CLASSES):
            return postgres_unavailable(original, labels)
        if (owner and state == "42501" and labels.url_setting
                and _NOT_THE_OWNER.search(str(original))):
            return ConfigError(
                f"The PostgreSQL login in {labels.url_setting} may not change the database's "
                "schema; set DRA_POSTGRES_ADMIN_URL to the URL of the schema's owner.")
        return None


def describe_postgres_error(exc: BaseException, labels: StoreLabels) -> str:
    """Why PostgreSQL could not be used, as the end of a sentence."""
    text = str(exc)
    if m := re.search(r'database "([^"]+)" does not exist', text):
        where = f" (the one {labels.url_setting} names)" if labels.url_setting else ""
        return f"it has no database named {m.group(1)}{where}"
    if m := re.search(r'role "([^"]+)" does not exist', text):
        return f"the user name or password{_in(labels)} was refused"
    if isinstance(exc, psycopg.errors.QueryCanceled):
        return (f"it did not finish within the {labels.timeout:g} s timeout (server busy or "
                "waiting for a lock)" if labels.timeout else
                "it cancelled the statement")
    reason = connection_reason(text, labels)
    if reason:
        return reason
    if isinstance(exc, psycopg.ProgrammingError) and "invalid" in text:
        # libpq rejected an option in the URL ("invalid sslmode value"): a setting's fault.
        return f"{first_line(text)} (check {labels.url_setting or 'the URL'})"
    return first_line(text) or "it could not be used"


def _in(labels: StoreLabels) -> str:
    return f" in {labels.url_setting}" if labels.url_setting else ""


def postgres_unavailable(exc: BaseException, labels: StoreLabels) -> Unavailable:
    return Unavailable("postgres", f"The clinic database (PostgreSQL at {labels.location}) "
                                   f"cannot be used: {describe_postgres_error(exc, labels)}.")


@contextmanager
def probe_connection(engine: Engine, timeout_seconds: float) -> Iterator[psycopg.Connection[Any]]:
    """A fresh connection, outside the engine's pool, bounded by ``timeout_seconds``.

    For the health check: a pooled connection could be one that hangs, or the pool could
    be full of calls waiting on a frozen server; a new one says whether the server answers
    a newcomer, now. Raises psycopg's errors.
    """
    cargs, cparams = engine.dialect.create_connect_args(engine.url)
    cparams.update(libpq_args(timeout_seconds, application_name="dr-assistant-health"))
    cparams["autocommit"] = True
    conn = AnsweringConnection.connect(*cargs, **cparams)
    conn.answer_timeout = timeout_seconds
    try:
        yield conn
    finally:
        conn.close()
