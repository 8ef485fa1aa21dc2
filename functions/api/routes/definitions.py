from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from jobsys.config import JobDefinition
from jobsys.models import Job
from jobsys.system import job_system
from routes.jobs import job_response
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
def start_definition(key: str) -> Response[Job]:
    return job_response(job_system().start_definition(key), status_code=202)
