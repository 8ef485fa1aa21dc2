"""The audit log as the job system writes and reads it: each action of a person, one record
(jobsys/audit.py), in the transaction of the change it records where there is one."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from jobsys.audit import Actor, AuditAction, AuditEntry, AuditQuery
from jobsys.durations import parse_duration
from jobsys.ids import new_job_id
from jobsys.models import iso
from jobsys.system.base import SystemBase


class AuditTrail(SystemBase):
    """Makes, writes and reads audit records."""

    @property
    def audit_kept(self) -> timedelta:
        return parse_duration(self.settings.audit_retention)

    def audit_entry(self, actor: Actor, action: AuditAction, target: str, outcome: str) -> AuditEntry:
        now = self.clock()
        return AuditEntry(
            id=new_job_id(int(now.timestamp() * 1000)),
            actor=actor.name,
            action=action,
            target=target,
            at=iso(now),
            request_id=actor.request_id,
            outcome=outcome,
        )

    def audit_write(self, actor: Actor, action: AuditAction, target: str, outcome: str) -> dict[str, Any]:
        """The record as a write of the transaction that makes the change."""
        return self.store.audit_put(self.audit_entry(actor, action, target, outcome), self.audit_kept)

    def audit(self, actor: Actor, action: AuditAction, target: str, outcome: str) -> AuditEntry:
        """The record of an action that changed nothing (a refusal), or of many writes (a clean-up), alone."""
        entry = self.audit_entry(actor, action, target, outcome)
        self.store.record_audit(entry, self.audit_kept)
        return entry

    def audit_log(self, query: AuditQuery, limit: int, cursor: str | None) -> tuple[list[AuditEntry], str | None]:
        return self.store.audit_page(query, limit, cursor)
