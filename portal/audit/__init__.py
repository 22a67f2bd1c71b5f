"""The audit log: who did what, when, from where. Services call `record_audit` (see docs/access.md)."""

from portal.audit.actions import AuditAction, AuditOutcome
from portal.audit.service import AuditTarget, record_audit, record_refused

__all__ = ["AuditAction", "AuditOutcome", "AuditTarget", "record_audit", "record_refused"]
