"""The tamper-evident audit trail: append events, verify the hash chain, report access."""

from backend_client.audit.service import (
    AuditEntry,
    AuditService,
    VerifyReport,
    canonical_bytes,
    event_hash,
)

__all__ = ["AuditEntry", "AuditService", "VerifyReport", "canonical_bytes", "event_hash"]
