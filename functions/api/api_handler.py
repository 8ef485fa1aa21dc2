"""The HTTP API. Routes live in routes/; domain errors become HTTP statuses here, in one place."""

from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from jobsys.errors import (
    CommandNotAllowed,
    InvalidRequest,
    JobStateConflict,
    JobSystemError,
    NotFound,
    StartFailed,
)
from jobsys.observability import logger, metrics, tracer
from routes import definitions, jobs, page

app = APIGatewayRestResolver(enable_validation=True)
app.include_router(definitions.router)
app.include_router(jobs.router)
app.include_router(page.router)

STATUS_OF: dict[type[JobSystemError], HTTPStatus] = {
    NotFound: HTTPStatus.NOT_FOUND,
    CommandNotAllowed: HTTPStatus.UNPROCESSABLE_ENTITY,
    InvalidRequest: HTTPStatus.BAD_REQUEST,
    JobStateConflict: HTTPStatus.CONFLICT,
    StartFailed: HTTPStatus.SERVICE_UNAVAILABLE,
}


def _error(status: HTTPStatus, message: str, **extra: Any) -> Response:
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body={"message": message, **extra})


@app.exception_handler(JobSystemError)
def handle_domain_error(error: JobSystemError) -> Response:
    status = next((STATUS_OF[kind] for kind in type(error).__mro__ if kind in STATUS_OF), HTTPStatus.BAD_REQUEST)
    if status >= 500:
        logger.exception("request failed after it was accepted")
    return _error(status, str(error))


@app.exception_handler(RequestValidationError)
def handle_validation_error(error: RequestValidationError) -> Response:
    problems = error.errors()
    first = problems[0] if problems else {}
    where = ".".join(str(part) for part in first.get("loc", ()) if part != "body" or len(first["loc"]) == 1)
    message = f"{where}: {first.get('msg', 'invalid')}" if where else first.get("msg", "invalid request")
    detail = [{"loc": list(p.get("loc", ())), "msg": p.get("msg"), "type": p.get("type")} for p in problems]
    return _error(HTTPStatus.UNPROCESSABLE_ENTITY, message, detail=detail)


@app.exception_handler(RecursionError)
def handle_deep_body(_: RecursionError) -> Response:
    # json.loads and validation recurse once per level: a body nested thousands deep exhausts the stack.
    return _error(HTTPStatus.BAD_REQUEST, "request body: JSON is nested too deeply")


@app.not_found
def handle_not_found(_: Exception) -> Response:
    return _error(HTTPStatus.NOT_FOUND, f"no route {app.current_event.http_method} {app.current_event.path}")


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
