"""``dr-assistant-admin``: administration from a terminal.

    dr-assistant-admin stack start|stop [--force]|status
    dr-assistant-admin doctor
    dr-assistant-admin migrate
    dr-assistant-admin seed --patients N --providers M [--seed S] [--weeks W]
    dr-assistant-admin user add|passwd|disable|enable|list
    dr-assistant-admin session list | session revoke ID | session revoke --user USERNAME
    dr-assistant-admin audit verify | audit report --patient ID | audit break-glass [--days N]
    dr-assistant-admin provider list|add|link|unlink|hours|break|deactivate|activate
    dr-assistant-admin appointment-type list|add|set
    dr-assistant-admin clinic show | clinic set phone-region GB | clinic set date-order day-first
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections.abc import Sequence

from backend_client.admin.audit_cmd import add_audit_parser, run_audit_command
from backend_client.admin.clinic_cmd import add_clinic_parser, run_clinic_command
from backend_client.admin.output import AdminArgumentParser, emit, whole_number
from backend_client.admin.schedule_cmd import add_schedule_parsers, run_schedule_command
from backend_client.admin.sessions_cmd import add_session_parser, run_session_command
from backend_client.admin.users_cmd import add_user_parser, run_user_command
from backend_client.backend import open_backend
from backend_client.config import Settings, load_settings
from backend_client.errors import ConfigError, DraError
from backend_client.local_stack import LocalStack, StackError
from backend_client.logsafe import log_exception


def _stack(settings: Settings, action: str, *, force: bool = False) -> int:
    stack = LocalStack(settings.data_dir)
    if action == "start":
        t0 = time.perf_counter()
        stack.start(keep_running=True)
        emit(f"local stack running in {settings.data_dir} "
              f"({(time.perf_counter() - t0) * 1000:.0f} ms); it keeps running until "
              "'dr-assistant-admin stack stop'")
    elif action == "stop":
        stack.stop(force=force)
        emit("local stack stopped")
    statuses = stack.status()
    for st in statuses:
        state = "running" if st.running else "stopped"
        where = f"127.0.0.1:{st.port}" if st.port else "-"
        pid = st.pid if st.running else "-"
        emit(f"{st.name:<9} {state:<8} pid {pid or '-':<8} {where}")
    holders = stack.holders()
    apps = [h.pid for h in holders if h.kind == "app"]
    admins = [h.pid for h in holders if h.kind != "app"]
    emit(f"used by   {len(apps)} app instance{'s' if len(apps) != 1 else ''}"
          + (f" (pid {', '.join(map(str, apps))})" if apps else "")
          + (f", {len(admins)} admin command{'s' if len(admins) != 1 else ''}"
             f" (pid {', '.join(map(str, admins))})" if admins else ""))
    if action == "status":
        return 0 if all(s.running for s in statuses) else 1
    return 0


def _doctor(settings: Settings) -> int:
    from backend_client.health import HealthService

    backend = open_backend(settings, start_stack=False)
    try:
        health = HealthService(backend)
        results = health.check_all()
        clocks = []
        if all(r.ok for r in results if r.store in ("postgres", "redis")):
            try:
                clocks = health.clocks()
            except Exception as exc:  # a store went away between the two: say so
                emit(f"{'clock':<9} ?     could not be read ({type(exc).__name__})")
    finally:
        backend.close(stop_stack=False)
    for r in results:
        if r.ok:
            emit(f"{r.store:<9} ok    {r.version:<20} {r.round_trip_ms:7.1f} ms  {r.location}")
        else:
            emit(f"{r.store:<9} DOWN  {r.location}: {r.error}")
    for c in clocks:
        # Skew is a warning, not an outage: the exit status stays about reachability.
        state = "WARN" if c.skewed else "ok"
        emit(f"{'clock':<9} {state:<5} this computer is {c.difference()} {c.store_label}'s "
              f"clock (+/- {c.uncertainty_s * 1000:.1f} ms)")
        if c.skewed:
            emit(f"clock: {c.sentence()}", err=True)
    down = [r.label for r in results if not r.ok]
    if down:
        emit(f"down: {', '.join(down)}", err=True)
        return 1
    return 0


def _migrate(settings: Settings) -> int:
    from backend_client.schema import migrate

    backend = open_backend(settings)
    try:
        report = migrate(backend)
    finally:
        backend.close(stop_stack=False)
    emit(f"postgres: {report.postgres_before or 'empty'} -> {report.postgres_after}")
    applied = ", ".join(map(str, report.mongo_applied)) or "nothing (up to date)"
    emit(f"mongo: applied {applied}")
    return 0


def _seed(settings: Settings, patients: int, providers: int, seed: int, weeks: int) -> int:
    """Migrate, then load synthetic data. Prints counts and timings only, never a name."""
    from backend_client.schema import migrate
    from backend_client.seed import seed as load_seed

    started = time.perf_counter()
    last = [0.0]

    def progress(stage: str, done: int, total: int) -> None:
        now = time.perf_counter()
        if stage == "patients" and 0 < done < total and now - last[0] < 2.0:
            return
        last[0] = now
        emit(f"{stage:<12} {done:>9}/{total:<9} {now - started:7.1f} s", err=True)

    backend = open_backend(settings)
    try:
        migrate(backend)
        # As the owner: the loader bulk-copies and moves sequences (setval), which the app's
        # login may not.
        report = load_seed(backend.owner_engine, patients=patients, providers=providers, seed=seed,
                           weeks=weeks, progress=progress)
    finally:
        backend.close(stop_stack=False)
    emit(f"seeded {report.patients} patients, {report.providers} providers, "
          f"{report.appointments} appointments in {time.perf_counter() - started:.1f} s")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = AdminArgumentParser(prog="dr-assistant-admin", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-v", "--verbose", action="store_true", help="log to stderr")
    sub = parser.add_subparsers(dest="command", required=True,
                                parser_class=AdminArgumentParser)
    stack = sub.add_parser("stack", help="the embedded local stack")
    stack.add_argument("action", choices=["start", "stop", "status"])
    stack.add_argument("--force", action="store_true",
                       help="stop: even while app instances or admin commands use it")
    sub.add_parser("doctor", help="check every store: reachable, version, round trip")
    sub.add_parser("migrate", help="apply PostgreSQL migrations and MongoDB setup")
    seed = sub.add_parser("seed", help="migrate, then load deterministic synthetic clinic data")
    seed.add_argument("--patients", type=whole_number("a number of patients", 0, 10_000_000),
                      required=True, help="patients to generate")
    seed.add_argument("--providers", type=whole_number("a number of providers", 0, 10_000),
                      required=True, help="providers to generate")
    seed.add_argument("--seed", type=whole_number("a seed", 0, 2**63 - 1), default=1,
                      help="random seed (default 1)")
    seed.add_argument("--weeks", type=whole_number("a number of weeks", 0, 520), default=4,
                      help="weeks of appointments from today (default 4)")
    add_user_parser(sub)
    add_session_parser(sub)
    add_audit_parser(sub)
    add_schedule_parsers(sub)
    add_clinic_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    import os

    os.umask(0o077)  # what the commands write (the local stack, anchors) is private
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    settings: Settings | None = None
    try:
        settings = load_settings()
        if args.command == "stack":
            return _stack(settings, args.action, force=args.force)
        if args.command == "doctor":
            return _doctor(settings)
        if args.command == "migrate":
            return _migrate(settings)
        if args.command == "seed":
            return _seed(settings, args.patients, args.providers, args.seed, args.weeks)
        if args.command == "user":
            return run_user_command(args, settings)
        if args.command == "session":
            return run_session_command(args, settings)
        if args.command == "audit":
            return run_audit_command(args, settings)
        if args.command in ("provider", "appointment-type"):
            return run_schedule_command(args, settings)
        if args.command == "clinic":
            return run_clinic_command(args, settings)
    except (ConfigError, StackError, DraError) as exc:
        emit(f"dr-assistant-admin: {exc}", err=True)
        return 2
    except Exception as exc:
        # Whatever a store library or the file system raised: one sentence, never a
        # traceback (that is in the log with -v).
        emit(f"dr-assistant-admin: {_failure_sentence(exc, settings, args.verbose)}", err=True)
        return 2
    return 2


def _failure_sentence(exc: Exception, settings: Settings | None, verbose: bool) -> str:
    from backend_client.backend import store_failure

    failure = store_failure(exc, settings) if settings is not None else None
    if failure is not None:
        return str(failure)
    if isinstance(exc, OSError):
        where = f" {exc.filename}" if exc.filename else ""
        return f"cannot use{where}: {(exc.strerror or 'error').lower()}."
    if verbose:
        log_exception(logging.getLogger("dr-assistant-admin"), "the command failed", exc)
    return (f"the command stopped because of an unexpected problem ({type(exc).__name__}); "
            "run it again with -v to see where.")


if __name__ == "__main__":
    sys.exit(main())
