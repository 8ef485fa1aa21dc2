"""Who may call a route. Each route that changes something declares the role it needs (`needs`),
and this one check compares the caller's role, which the token authorizer put in the request's
context, with it. A request signed with SigV4 (JobsApi) has no role: IAM decided it already."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent

from jobsys.observability import logger
from jobsys.roles import Role


def caller_of(event: APIGatewayProxyEvent) -> tuple[str, Role | None]:
    """The caller's name and role; no role for an IAM principal. A token's context without a
    valid role is a viewer's: the least, never more."""
    context = event.request_context
    name = context.authorizer.principal_id
    if not name:
        return context.identity.user_arn or "unknown", None
    role = (context.authorizer.get_context() or {}).get("role")
    return name, Role(role) if role in set(Role) else Role.VIEWER


def needs(role: Role, doing: str) -> list[Any]:
    """The route's middleware: a caller whose role is below `role` gets a 403, and nothing is done."""

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
    return [check]
