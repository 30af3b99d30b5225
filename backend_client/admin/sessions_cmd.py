"""``dr-assistant-admin session``: who is signed in where, and ending a session.

    dr-assistant-admin session list
    dr-assistant-admin session revoke SESSION_ID
    dr-assistant-admin session revoke --user USERNAME     (every session of that person)

A revoked session's workstation locks within seconds (it polls its session) and every
service call it makes is refused; the person signs in again and finds their work as they
left it. Each revocation is audited (as the operator: the admin CLI runs on the server's
own credentials).
"""

from __future__ import annotations

import argparse
from datetime import UTC
from typing import Any

from backend_client.accounts.access import SystemAccess
from backend_client.accounts.sessions import SessionStore
from backend_client.accounts.signin import SessionAdmin
from backend_client.admin.output import (
    AdminArgumentParser,
    clean,
    emit,
    guarded,
    text_argument,
)
from backend_client.backend import open_backend
from backend_client.config import Settings
from backend_client.dto import SessionInfo
from backend_client.errors import NotFound

PROG = "dr-assistant-admin session"
STATE_WORDS = {"active": "active", "locked": "locked", "revoked": "ended by an administrator",
               "expired": "expired", "ended": "signed out"}


def add_session_parser(subparsers: Any) -> argparse.ArgumentParser:
    session = subparsers.add_parser("session", help="list or end signed-in sessions",
                                    description=__doc__,
                                    formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = session.add_subparsers(dest="session_command", required=True,
                                 parser_class=AdminArgumentParser)
    sub.add_parser("list", help="every session, newest first")
    revoke = sub.add_parser("revoke", help="end a session (its screen locks within seconds)")
    which = revoke.add_mutually_exclusive_group(required=True)
    which.add_argument("session_id", nargs="?", type=text_argument("a session id", max_length=200),
                       help="the id 'session list' shows")
    which.add_argument("--user", type=text_argument("a user name", max_length=200),
                       help="end every open session of this user name")
    return session


def _line(s: SessionInfo) -> str:
    started = s.started_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M")
    seen = s.last_seen_at.astimezone(UTC).strftime("%H:%M")
    state = STATE_WORDS.get(s.state, s.state)
    return (f"{clean(s.session_id):<42} {clean(s.username):<16} {clean(','.join(s.roles)):<14} "
            f"{clean(s.workstation[:20]):<20} {started:<17} {seen:<6} {clean(state)}")


def run_session_command(args: argparse.Namespace, settings: Settings) -> int:
    return guarded(PROG, lambda: _run(args, settings))


def _run(args: argparse.Namespace, settings: Settings) -> int:
    backend = open_backend(settings)
    try:
        # The operator's tool: the schema owner's engine (the app's login lists and ends
        # sessions only within an administrator's own session).
        store = SessionStore(backend.owner_engine)
        admin = SessionAdmin(store, SystemAccess("admin-cli"))
        if args.session_command == "list":
            sessions = admin.list_sessions()
            if not sessions:
                emit("nobody is signed in")
                return 0
            emit(f"{'session':<42} {'user':<16} {'roles':<14} {'workstation':<20} "
                 f"{'signed in (UTC)':<17} {'seen':<6} state")
            for s in sessions:
                emit(_line(s))
            open_ = sum(s.state in ("active", "locked") for s in sessions)
            emit(f"{len(sessions)} sessions, {open_} open")
            return 0
        if args.user:
            from backend_client.accounts.service import AccountService

            try:
                user = AccountService(backend.owner_engine).get(args.user)
            except NotFound as exc:
                emit(f"dr-assistant-admin: {exc}")
                return 1
            n = admin.revoke_user(user.id)
            emit(f"ended {n} session{'s' if n != 1 else ''} of {clean(user.username)}")
            return 0
        try:
            info = admin.revoke(args.session_id)
        except NotFound as exc:
            emit(f"dr-assistant-admin: {exc}")
            return 1
        emit(f"ended the session of {clean(info.username)} on {clean(info.workstation)}; its "
             "screen locks within seconds")
        return 0
    finally:
        backend.close(stop_stack=False)
