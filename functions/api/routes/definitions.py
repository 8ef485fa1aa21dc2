from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from idempotency import start_once
from jobsys.config import JobDefinition
from jobsys.models import Job
from jobsys.system import job_system
from routes.jobs import IdempotencyKey, job_response
from schemas import DefinitionList, DefinitionOut

router = APIGatewayRouter()


def _definition_out(definition: JobDefinition) -> DefinitionOut:
    return DefinitionOut(
        key=definition.key,
        label=definition.label,
        desc=definition.desc,
        command=definition.command,
        params=list(definition.params),
        runner=definition.runner,
        max_runtime=definition.max_runtime,
        depending_jobs=[_definition_out(child) for child in definition.depending_jobs],
    )


@router.get("/job-definitions", summary="The configured back-office jobs", tags=["definitions"])
def list_definitions() -> DefinitionList:
    definitions = job_system().config.definitions.values()
    return DefinitionList(items=[_definition_out(d) for d in definitions])


@router.post("/job-definitions/<key>/start", summary="Start a configured job", tags=["definitions"])
def start_definition(key: str, idempotency_key: IdempotencyKey = None) -> Response[Job]:
    job = start_once(idempotency_key, f"definition#{key}", {"key": key}, lambda: job_system().start_definition(key))
    return job_response(job, status_code=202)
