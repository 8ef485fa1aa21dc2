from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from access import needs
from idempotency import start_once
from jobsys.errors import Unprocessable
from jobsys.models import Job
from jobsys.roles import Role
from jobsys.spec.requests import DefinitionStart, StartOptions
from jobsys.stats import DEFAULT_RUNS, MAX_RUNS, RunStats
from jobsys.system import job_system
from routes.jobs import STARTED, IdempotencyKey, actor, caller, job_response
from schemas import DefinitionList, DefinitionOut, QueueList, QueueOut, answers

router = APIGatewayRouter()


@router.get(
    "/job-definitions",
    summary="The configured back-office jobs, with their schedules",
    tags=["definitions"],
    responses=answers(200, DefinitionList, "The job definitions of jobs.yaml"),
)
def list_definitions() -> DefinitionList:
    system = job_system()
    runs = system.next_runs()
    return DefinitionList(items=[DefinitionOut.of(d, runs.get(d.key)) for d in system.config.definitions.values()])


@router.post(
    "/job-definitions/<key>/start",
    summary="Start a configured job, now or later",
    tags=["definitions"],
    responses=answers(202, Job, STARTED, 404, 409, 422, 503),
    middlewares=needs(Role.OPERATOR, "start jobs", "start"),
)
def start_definition(
    key: str,
    request: Annotated[StartOptions | None, Body()] = None,
    idempotency_key: IdempotencyKey = None,
) -> Response[dict[str, Any]]:
    request = request or StartOptions()

    def start() -> Job:
        return job_system().start(DefinitionStart(definition=key, options=request), started_by=caller(), actor=actor())

    body = {"key": key, **request.model_dump(exclude_none=True)}
    return job_response(
        start_once(idempotency_key, caller(), f"definition#{key}", body, start, router.lambda_context), status_code=202
    )


@router.get(
    "/stats",
    summary="How a definition's (or a command's) last runs went: states, success rate, runtimes, memory",
    tags=["definitions"],
    responses=answers(200, RunStats, "Statistics over the last runs, and the runs for a chart", 404, 422),
)
def get_stats(
    definition: Annotated[str | None, Query(min_length=1, max_length=200, description="A job definition's key")] = None,
    command: Annotated[
        str | None, Query(min_length=1, max_length=200, description="A command, for ad-hoc jobs too")
    ] = None,
    runs: Annotated[int, Query(ge=1, le=MAX_RUNS, description="How many of the last runs")] = DEFAULT_RUNS,
) -> RunStats:
    if (definition is None) == (command is None):
        raise Unprocessable("definition, command: give one of them")
    if definition is not None:
        return job_system().definition_stats(definition, runs)
    assert command is not None  # one of the two, checked above
    return job_system().command_stats(command, runs)


@router.get(
    "/queues",
    summary="The queues, their limits and the slots taken",
    tags=["definitions"],
    responses=answers(200, QueueList, "The queues of jobs.yaml"),
)
def list_queues() -> QueueList:
    return QueueList(items=[QueueOut.of(queue, item) for queue, item in job_system().queue_usage()])


@router.post(
    "/queues/<name>/pause",
    summary="Pause a queue: none of its jobs starts until it is resumed; running jobs go on",
    tags=["definitions"],
    responses=answers(200, QueueOut, "The queue, paused (by whoever paused it first)", 404),
    middlewares=needs(Role.ADMIN, "pause queues", "pause"),
)
def pause_queue(name: str) -> QueueOut:
    return QueueOut.of(*job_system().pause_queue(name, caller(), actor=actor()))


@router.post(
    "/queues/<name>/resume",
    summary="Resume a queue: its waiting jobs start in its order",
    tags=["definitions"],
    responses=answers(200, QueueOut, "The queue, resumed", 404),
    middlewares=needs(Role.ADMIN, "resume queues", "resume"),
)
def resume_queue(name: str) -> QueueOut:
    return QueueOut.of(*job_system().resume_queue(name, actor=actor()))
