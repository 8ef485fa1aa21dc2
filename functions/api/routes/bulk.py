from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from access import needs
from jobsys.errors import NotFound
from jobsys.ids import is_job_id
from jobsys.roles import Role
from jobsys.spec.bulk import BulkAction, BulkDryRun, BulkRequest
from jobsys.spec.limits import DEFAULT_PAGE
from jobsys.system import job_system
from routes.jobs import actor
from schemas import BulkActionList, PageCursor, PageSize, answers

router = APIGatewayRouter()


def _checked_id(bulk_id: str) -> str:
    if not is_job_id(bulk_id):
        raise NotFound(f"no bulk action '{bulk_id}'")
    return bulk_id


def _accepted(action: BulkAction) -> Response[dict[str, Any]]:
    return Response(status_code=202, content_type=content_types.APPLICATION_JSON, body=action.model_dump(mode="json"))


@router.post(
    "/bulk-actions",
    summary="Cancel, retry or delete the jobs that match a filter: a dry run counts them, the action names that count",
    tags=["bulk actions"],
    responses={
        **answers(200, BulkDryRun, "The dry run: how many jobs match now, and the newest of them", 400, 409, 422, 503),
        **answers(202, BulkAction, "Accepted: the action is recorded and its execution started"),
    },
    middlewares=needs(Role.OPERATOR, "act on jobs in bulk", "bulk-action"),
)
def start_bulk_action(request: Annotated[BulkRequest, Body()]) -> Response[dict[str, Any]]:
    if request.dry_run:
        dry_run = job_system().dry_run(request)
        return Response(
            status_code=200, content_type=content_types.APPLICATION_JSON, body=dry_run.model_dump(mode="json")
        )
    return _accepted(job_system().start_bulk(request, actor()))


@router.get(
    "/bulk-actions",
    summary="The bulk actions, newest first",
    tags=["bulk actions"],
    responses=answers(200, BulkActionList, "A page of bulk actions", 422),
)
def list_bulk_actions(
    limit: PageSize = DEFAULT_PAGE,
    cursor: PageCursor = None,
) -> BulkActionList:
    actions, next_cursor = job_system().recent_bulk_actions(limit, cursor)
    return BulkActionList(items=actions, next_cursor=next_cursor)


@router.get(
    "/bulk-actions/<bulk_id>",
    summary="A bulk action: its state and progress",
    tags=["bulk actions"],
    responses=answers(200, BulkAction, "The bulk action", 404),
)
def get_bulk_action(bulk_id: str) -> BulkAction:
    return job_system().bulk_action(_checked_id(bulk_id))


@router.post(
    "/bulk-actions/<bulk_id>/stop",
    summary="Stop a running bulk action at its next page; it can be resumed",
    tags=["bulk actions"],
    responses=answers(202, BulkAction, "Accepted: it stops at its next page", 404, 409),
    middlewares=needs(Role.OPERATOR, "act on jobs in bulk", "bulk-action"),
)
def stop_bulk_action(bulk_id: str) -> Response[dict[str, Any]]:
    return _accepted(job_system().stop_bulk(_checked_id(bulk_id), actor()))


@router.post(
    "/bulk-actions/<bulk_id>/resume",
    summary="Resume a stopped bulk action from where it stopped",
    tags=["bulk actions"],
    responses=answers(202, BulkAction, "Accepted: it goes on in a new execution", 404, 409, 503),
    middlewares=needs(Role.OPERATOR, "act on jobs in bulk", "bulk-action"),
)
def resume_bulk_action(bulk_id: str) -> Response[dict[str, Any]]:
    return _accepted(job_system().resume_bulk(_checked_id(bulk_id), actor()))
