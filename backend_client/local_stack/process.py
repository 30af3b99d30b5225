"""Small helpers for servers we spawn and own: free ports, pid checks, waiting."""

from __future__ import annotations

import os
import signal
import socket
import time
from collections.abc import Callable
from pathlib import Path

import psutil


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # As the servers themselves do, so a port in TIME_WAIT after a crash counts as free.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
        return True


def port_answers(port: int, host: str = "127.0.0.1", timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def read_pid(pidfile: Path) -> int | None:
    try:
        text = pidfile.read_text().strip().splitlines()
    except (FileNotFoundError, PermissionError):
        return None
    if not text:
        return None
    try:
        pid = int(text[0])
    except ValueError:
        return None
    # PostgreSQL writes a negative pid while a standalone backend (initdb) holds the dir.
    return pid if pid > 0 else None


def process_alive(pid: int | None, name_contains: str) -> bool:
    """True when ``pid`` runs and is the program we expect (pids get reused after a crash)."""
    if not pid:
        return False
    try:
        proc = psutil.Process(pid)
        if proc.status() == psutil.STATUS_ZOMBIE:
            return False
        return name_contains in proc.name() or any(
            name_contains in part for part in proc.cmdline()[:1]
        )
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return False


def find_process(name_contains: str, match: Callable[[psutil.Process], bool]
                 ) -> psutil.Process | None:
    """The running process whose name contains ``name_contains`` and for which ``match``
    holds (its data dir, say): what really runs, whatever a pid file claims."""
    for proc in psutil.process_iter(["name"]):
        try:
            if name_contains not in (proc.info.get("name") or ""):
                continue
            if proc.status() == psutil.STATUS_ZOMBIE:
                continue
            if match(proc):
                return proc
        except (psutil.NoSuchProcess, psutil.AccessDenied, FileNotFoundError):
            continue
    return None


def same_path(a: str | Path, b: str | Path) -> bool:
    try:
        return Path(a).resolve() == Path(b).resolve()
    except OSError:
        return False


def listening_port(pid: int | None, host: str = "127.0.0.1") -> int | None:
    """The TCP port ``pid`` listens on (the lowest, if several), or None."""
    if not pid:
        return None
    try:
        proc = psutil.Process(pid)
        conns = (proc.net_connections(kind="tcp") if hasattr(proc, "net_connections")
                 else proc.connections(kind="tcp"))
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return None
    ports = sorted(c.laddr.port for c in conns
                   if c.status == psutil.CONN_LISTEN and c.laddr.ip in (host, "0.0.0.0"))
    return ports[0] if ports else None


def wait_for(check: Callable[[], bool], timeout: float, interval: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while True:
        if check():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)


def terminate(pid: int, name_contains: str, timeout: float = 30.0) -> None:
    """SIGTERM (a clean shutdown for all three servers), then SIGKILL if it hangs."""
    if not process_alive(pid, name_contains):
        return
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    if not wait_for(lambda: not process_alive(pid, name_contains), timeout):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            return
        wait_for(lambda: not process_alive(pid, name_contains), 5.0)
