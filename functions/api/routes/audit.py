from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from access import needs
from jobsys.audit import AuditAction, AuditQuery
from jobsys.errors import Unprocessable
from jobsys.roles import Role
from jobsys.spec.limits import DEFAULT_PAGE
from jobsys.spec.types import Moment
from jobsys.system import job_system
from jobsys.timestamps import moment_of
from schemas import AuditList, PageCursor, PageSize, answers

router = APIGatewayRouter()

MomentParam = Annotated[
    Moment | None, Query(description="A time with its zone (2026-12-24T18:00:00Z), or a duration before now (24h)")
]


@router.get(
    "/audit",
    summary="The audit log: who did what, on what, when, and what came of it; newest first",
    tags=["audit"],
    responses=answers(200, AuditList, "A page of audit records", 400, 422),
    middlewares=needs(Role.ADMIN, "read the audit log", "read-audit"),
)
def read_audit(
    actor: Annotated[str | None, Query(min_length=1, max_length=2048, description="Only this person's")] = None,
    action: Annotated[AuditAction | None, Query(description="Only this action")] = None,
    since: MomentParam = None,
    until: MomentParam = None,
    limit: PageSize = DEFAULT_PAGE,
    cursor: PageCursor = None,
) -> AuditList:
    system = job_system()
    now = system.clock()
    try:
        start = moment_of(since, now) if since is not None else None
        end = moment_of(until, now) if until is not None else None
    except ValueError as problem:
        raise Unprocessable(f"since, until: {problem}") from None
    entries, next_cursor = system.audit_log(AuditQuery(actor, action, start, end), limit, cursor)
    return AuditList(items=entries, next_cursor=next_cursor)
