"""Who did what: every action of a person, as one audit record.

A record that goes with a change (a start, a cancel, a pause) is written in the change's own
transaction, so that neither is kept without the other; one that changed nothing (a refusal, a
pause of a paused queue) is written alone. The clean-up deletes the records older than the
configured retention (`AuditRetention`, 90 days by default), and their TTL does too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from jobsys.durations import parse_duration
from jobsys.ids import new_job_id
from jobsys.timestamps import iso, utc_now

# What a person did. `read-audit` and `token-refused` are recorded only refused: reading the log
# changes nothing, and a token that works is each request's.
AuditAction = Literal[
    "start", "cancel", "retry", "replay", "pause", "resume", "bulk-action", "clean-up", "read-audit", "token-refused",
]  # fmt: skip
AUDIT_ACTIONS: tuple[str, ...] = AuditAction.__args__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Actor:
    """Who asks for a change, and the request that carries it."""

    name: str
    request_id: str | None = None


@dataclass(frozen=True)
class AuditQuery:
    """Which records GET /audit asks for: one person's, one action's, and a time range."""

    actor: str | None = None
    action: str | None = None
    since: datetime | None = None
    until: datetime | None = None


class AuditEntry(BaseModel):
    """One action of a person."""

    id: str = Field(description="Sorted by time, as job ids are")
    actor: str = Field(description="The operator the token names, the IAM principal, or 'unknown token'")
    action: AuditAction
    target: str = Field(description="What it acted on: a job's id, a definition's key, a queue's name, a route")
    at: str
    request_id: str | None = Field(default=None, description="API Gateway's request id")
    outcome: str = Field(description="What came of it: 'started', 'canceled', ..., or the refusal's status and message")


class RefusedTokens:
    """The token authorizer's audit records: one for each token it refused, named "unknown token"."""

    def __init__(self, table: Any, retention: str):
        self.table = table  # the jobs table (a boto3 Table)
        self.kept = parse_duration(retention)

    def record(self, target: str) -> None:
        from jobsys.store.audit import AuditRecords  # the store, once a token is refused

        now = utc_now()
        entry = AuditEntry(
            id=new_job_id(int(now.timestamp() * 1000)),
            actor="unknown token",
            action="token-refused",
            target=target,
            at=iso(now),
            outcome="refused: 401 Unauthorized",
        )
        AuditRecords(self.table).record_audit(entry, self.kept)
