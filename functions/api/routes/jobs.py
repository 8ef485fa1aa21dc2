from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Body, Header, Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from access import actor_of, caller_of, needs
from idempotency import start_once
from jobsys.audit import Actor
from jobsys.cleanup import CleanUpPolicy, clean_up
from jobsys.errors import JobNotFound
from jobsys.filters import JobFilter
from jobsys.ids import is_job_id
from jobsys.models import Job, JobState
from jobsys.roles import Role
from jobsys.spec.limits import API_CLEAN_UP_BUDGET, DEFAULT_PAGE, MAX_PARAM_LENGTH
from jobsys.spec.requests import CommandStart, Replay
from jobsys.spec.types import NO_NUL, TAG_PATTERN
from jobsys.streams import Stream
from jobsys.system import job_system
from schemas import CleanUpOut, CleanUpRequest, JobList, MeOut, OutputPageOut, PageCursor, PageSize, RunOut, answers

router = APIGatewayRouter()


def job_response(job: Job, status_code: int = 200) -> Response[dict[str, Any]]:
    return Response(
        status_code=status_code, content_type=content_types.APPLICATION_JSON, body=job.model_dump(mode="json")
    )


STARTED = "Accepted: the job (and its dependents) are recorded and its execution started"


def actor() -> Actor:
    """The caller as the audit log records it, with the request's id."""
    return actor_of(router.current_event)


def caller() -> str:
    """Who sends this request: the operator that the back-office token names, or the IAM principal
    that signed it. API Gateway sets both; a request without either never gets this far."""
    return caller_of(router.current_event)[0]


def _checked_id(job_id: str) -> str:
    if not is_job_id(job_id):
        raise JobNotFound(f"no job '{job_id}'")
    return job_id


IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=128,
        description="Send the same key again (for 24 h) to get the same job back instead of a second one",
    ),
]


@router.get(
    "/me",
    summary="Who calls: the operator's name and role, or the IAM principal that signed the request",
    tags=["jobs"],
    responses=answers(200, MeOut, "The caller"),
)
def whoami() -> MeOut:
    name, role = caller_of(router.current_event)
    return MeOut(name=name, role=role)


@router.post(
    "/jobs",
    summary="Start a command from the allow-list",
    tags=["jobs"],
    responses=answers(202, Job, STARTED, 409, 422, 503),
    middlewares=needs(Role.OPERATOR, "start jobs", "start"),
)
def start_job(
    request: Annotated[CommandStart, Body()], idempotency_key: IdempotencyKey = None
) -> Response[dict[str, Any]]:
    def start() -> Job:
        return job_system().start(request, started_by=caller(), actor=actor())

    return job_response(
        start_once(idempotency_key, caller(), "jobs", request.model_dump(), start, router.lambda_context),
        status_code=202,
    )


@router.get(
    "/jobs",
    summary="The newest jobs first",
    tags=["jobs"],
    responses=answers(200, JobList, "A page of jobs, newest first", 422),
)
def list_jobs(
    state: Annotated[JobState | None, Query()] = None,
    command: Annotated[str | None, Query(max_length=200, description="Not with queue")] = None,
    queue: Annotated[str | None, Query(max_length=64, description="Not with command, unless with tag or param")] = None,
    tag: Annotated[
        str | None, Query(pattern=TAG_PATTERN, max_length=128, description="Only the jobs that carry this tag")
    ] = None,
    param: Annotated[
        str | None,
        Query(max_length=MAX_PARAM_LENGTH, pattern=NO_NUL, description="Only the jobs that have this value as a param"),
    ] = None,
    limit: PageSize = DEFAULT_PAGE,
    cursor: PageCursor = None,
) -> JobList:
    if tag is not None or param is not None:
        # Through the search index: a page may hold fewer than `limit` where state, command, queue
        # or a second of tag and param filter the jobs it found. The query's parameters checked
        # each value already (a bulk filter's types are stricter: a blank command is no error here).
        found_by = JobFilter.model_construct(tag=tag, param=param, state=state, command=command, queue=queue)
        jobs, next_cursor = job_system().search_jobs(found_by, limit=limit, cursor=cursor)
    else:
        jobs, next_cursor = job_system().list_jobs(state, command, limit, cursor, queue=queue)
    return JobList(items=jobs, next_cursor=next_cursor)


@router.get(
    "/jobs/<job_id>",
    summary="One job, with the ids of its dependents",
    tags=["jobs"],
    responses=answers(200, Job, "The job", 404),
)
def get_job(job_id: str) -> Job:
    return job_system().get_job(_checked_id(job_id))


@router.get(
    "/jobs/<job_id>/run",
    summary="The whole run a job is part of: its root, dependents, fan-ins and attempts, for its graph",
    tags=["jobs"],
    responses=answers(200, RunOut, "Every job of the run", 404),
)
def get_run(job_id: str) -> RunOut:
    jobs = job_system().job_run(_checked_id(job_id))
    return RunOut(root_id=jobs[0].root_id, jobs=jobs)


@router.get(
    "/jobs/<job_id>/output",
    summary="A page of a job's output; works while it runs",
    tags=["jobs"],
    responses=answers(200, OutputPageOut, "A page of output lines", 404, 422),
)
def get_output(
    job_id: str,
    cursor: Annotated[
        str | None,
        Query(
            max_length=2048, pattern="^(s3:[0-9]{1,15}|cw:[!-~]{1,2000})$", description="next_cursor of the page before"
        ),
    ] = None,
    stream: Annotated[
        Stream | None,
        Query(description="Only the lines the command wrote to this stream; without it, both, in their order"),
    ] = None,
) -> OutputPageOut:
    page = job_system().read_output(_checked_id(job_id), cursor, stream)
    return OutputPageOut(lines=page.lines, next_cursor=page.next_cursor, complete=page.complete, stderr=page.stderr)


@router.post(
    "/jobs/<job_id>/cancel",
    summary="Cancel a pending or running job (for an attempt that failed: its next attempt)",
    tags=["jobs"],
    responses=answers(202, Job, "Accepted: the job is canceled, or its command is being stopped", 404, 409),
    middlewares=needs(Role.OPERATOR, "cancel jobs", "cancel"),
)
def cancel_job(job_id: str) -> Response[dict[str, Any]]:
    canceled = job_system().cancel_job(_checked_id(job_id), canceled_by=caller(), actor=actor())
    return job_response(canceled, status_code=202)


@router.post(
    "/jobs/<job_id>/replay",
    summary="Start a closed job again, its params edited: the new job records replay_of",
    tags=["jobs"],
    responses=answers(202, Job, STARTED, 404, 409, 422, 503),
    middlewares=needs(Role.OPERATOR, "replay jobs", "replay"),
)
def replay_job(job_id: str, request: Annotated[Replay, Body()]) -> Response[dict[str, Any]]:
    replay = job_system().replay(_checked_id(job_id), request, replayed_by=caller(), actor=actor())
    return job_response(replay, status_code=202)


@router.post(
    "/clean-up",
    summary="Delete old closed jobs now, as the schedule does",
    tags=["jobs"],
    responses=answers(200, CleanUpOut, "What the clean-up did", 409),
    middlewares=needs(Role.ADMIN, "clean up", "clean-up"),
)
def run_clean_up(request: Annotated[CleanUpRequest, Body()]) -> CleanUpOut:
    policy = CleanUpPolicy.parse(request.per_call, request.max_retention, request.max_retention_succeeded)
    # Well inside API Gateway's 29 s: what is left waits for the next run (`complete` false).
    report = clean_up(job_system(), policy, budget=API_CLEAN_UP_BUDGET).as_dict()
    # Many deletes, each conditional: one record after them, with what they came to.
    outcome = f"deleted {len(report['deleted'])} job(s); complete: {str(report['complete']).lower()}"
    job_system().audit(actor(), "clean-up", "jobs", outcome)
    return CleanUpOut(**report)
