"""Who may call a route. Each route that changes something declares the role it needs (`needs`),
and this one check compares the caller's role, which the token authorizer put in the request's
context, with it. A request signed with SigV4 (JobsApi) has no role: IAM decided it already."""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware
from aws_lambda_powertools.middleware_factory import lambda_handler_decorator
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent

from jobsys.audit import Actor, AuditAction
from jobsys.observability import logger
from jobsys.roles import Role
from jobsys.spec.limits import REASON_LIMIT
from jobsys.system import job_system


def caller_of(event: APIGatewayProxyEvent) -> tuple[str, Role | None]:
    """The caller's name and role; no role for an IAM principal. A token's context without a
    valid role is a viewer's: the least, never more."""
    context = event.request_context
    name = context.authorizer.principal_id
    if not name:
        return context.identity.user_arn or "unknown", None
    role = (context.authorizer.get_context() or {}).get("role")
    return name, Role(role) if role in set(Role) else Role.VIEWER


def actor_of(event: APIGatewayProxyEvent) -> Actor:
    """The caller as the audit log names it, with API Gateway's id of the request."""
    return Actor(caller_of(event)[0], event.request_context.request_id)


def needs(role: Role, doing: str, action: AuditAction) -> list[Any]:
    """The route's middleware: a caller whose role is below `role` gets a 403, and nothing is done.
    `action`: what the audit log calls the route's action, refused (`audit_refusals`) or done (the
    job system writes its record with the change)."""

    def check(app: Any, next_middleware: NextMiddleware) -> Response[Any]:
        name, have = caller_of(app.current_event)
        if have is not None and not have.allows(role):
            logger.info("refused by role", extra={"caller": name, "role": have.value, "needed": role.value})
            return Response(
                status_code=HTTPStatus.FORBIDDEN,
                content_type=content_types.APPLICATION_JSON,
                body={"message": f"{have.value} {name} may not {doing} ({role.value} needed)"},
            )
        return next_middleware(app)

    check.needed = role  # type: ignore[attr-defined]  # read by the test that every changing route has one
    check.action = action  # type: ignore[attr-defined]  # read by audit_refusals
    return [check]


def action_of(app: Any, method: str, path: str) -> AuditAction | None:
    """The audited action of the route that a request names, if it has one."""
    for route in app._static_routes + app._dynamic_routes:
        if route.method == method and route.rule.match(path):
            return next((m.action for m in route.middlewares if hasattr(m, "action")), None)
    return None


@lambda_handler_decorator
def audit_refusals(handler: Any, event: dict[str, Any], context: Any, app: Any = None) -> dict[str, Any]:
    """Every refused action of a person, whatever refused it (the schema, the role, the state of
    a job, a fault of ours), is one audit record: its status and message are the outcome. Written
    alone, as it changed nothing; a failure to write it is logged, and the answer stays as it was.
    `app`: the resolver, whose routes say their actions."""
    response = handler(event, context)
    status = response.get("statusCode", 200)
    if status < 400:
        return response
    action = action_of(app, str(event.get("httpMethod", "")).upper(), str(event.get("path", "")))
    if action is None:
        return response
    try:
        message = json.loads(response.get("body") or "{}").get("message", "")
        actor = actor_of(APIGatewayProxyEvent(event))
        job_system().audit(actor, action, str(event.get("path")), f"refused: {status} {message}"[:REASON_LIMIT])
    except Exception:  # noqa: BLE001 - the refusal is answered all the same
        logger.exception("could not write the audit record of a refused request")
    return response
