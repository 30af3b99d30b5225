"""``dr-assistant-admin audit``: verify the audit chain, report who accessed a patient.

    dr-assistant-admin audit verify
    dr-assistant-admin audit report --patient ID
    dr-assistant-admin audit break-glass [--days N]
"""

from __future__ import annotations

import argparse
from datetime import UTC
from typing import Any

from backend_client.admin.output import AdminArgumentParser, clean, emit, guarded, whole_number
from backend_client.audit import AuditService
from backend_client.backend import open_backend
from backend_client.config import Settings

PROG = "dr-assistant-admin audit"
# A patient id is a PostgreSQL bigint.
_patient_id = whole_number("a patient id", 1, 2**63 - 1)
_days = whole_number("a number of days", 1, 36500)


def add_audit_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``audit`` and its sub-commands to the CLI's sub-parsers."""
    audit = subparsers.add_parser("audit", help="verify the audit trail or report access")
    sub = audit.add_subparsers(dest="audit_command", required=True,
                               parser_class=AdminArgumentParser)
    sub.add_parser("verify", help="check the hash chain; says where it is broken")
    report = sub.add_parser("report", help="who accessed a patient's record, oldest first")
    report.add_argument("--patient", type=_patient_id, required=True, metavar="ID",
                        help="the patient's id")
    glass = sub.add_parser("break-glass",
                           help="restricted charts opened by breaking the glass, with reasons")
    glass.add_argument("--days", type=_days, default=30, metavar="N",
                       help="look back this many days (default 30)")
    return audit


def run_audit_command(args: argparse.Namespace, settings: Settings) -> int:
    """Run ``audit verify`` (0 intact, 1 broken) or ``audit report`` (0)."""
    return guarded(PROG, lambda: _run(args, settings))


def _run(args: argparse.Namespace, settings: Settings) -> int:
    from backend_client.schema import migrate

    backend = open_backend(settings)
    try:
        migrate(backend)
        # The operator reads the whole trail: the schema owner's engine.
        service = AuditService(backend.owner_engine)
        if args.audit_command == "verify":
            from backend_client.audit.anchor import AuditAnchors

            anchors = AuditAnchors(backend.owner_engine, backend.objects,
                                   settings.data_dir / "audit-anchors")
            result = service.verify()
            if not result.ok:
                emit(result.message)
                return 1
            # The chain holds together; does it still hold what was anchored outside it?
            anchored = anchors.check()
            if not anchored.ok:
                emit(f"the audit trail was tampered with: {anchored.message}")
                return 1
            head = result.head_hash.hex() if result.head_hash else "-"
            emit(f"{result.message} (last event {result.last_id or '-'}, head {head}); "
                  f"{anchored.message}")
            anchors.write()
            return 0
        if args.audit_command == "report":
            entries = service.report_for_patient(args.patient)
            if not entries:
                emit(f"no audit events for patient {args.patient}")
                return 0
            emit(f"{'when (UTC)':<26} {'who':<30} {'workstation':<20} {'action':<24} object")
            for e in entries:
                when = e.occurred_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
                who = clean(e.user_name) or ("-" if e.user_id is None else f"user {e.user_id}")
                obj = clean(f"{e.object_type} {e.object_id}".strip()) or "-"
                emit(f"{when:<26} {who:<30} {clean(e.workstation) or '-':<20} "
                     f"{clean(e.action):<24} {obj}")
            emit(f"{len(entries)} events")
            return 0
        if args.audit_command == "break-glass":
            glass = service.break_glass_report(args.days)
            if not glass:
                emit(f"no chart was opened by breaking the glass in the last {args.days} days")
                return 0
            emit(f"{'when (UTC)':<20} {'who':<28} {'workstation':<18} {'patient':>9}  reason")
            for g in glass:
                when = g.occurred_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M")
                who = clean(g.user_name) or ("-" if g.user_id is None else f"user {g.user_id}")
                emit(f"{when:<20} {who:<28} {clean(g.workstation) or '-':<18} "
                     f"{g.patient_id:>9}  {clean(g.reason)}")
            emit(f"{len(glass)} charts opened by breaking the glass in the last "
                 f"{args.days} days")
            return 0
    finally:
        backend.close(stop_stack=False)
    emit(f"{PROG}: unknown audit command {args.audit_command!r}", err=True)
    return 2
