"""The HTTP API. Routes live in routes/; domain errors become HTTP statuses here, in one place."""

from jobsys.cold_start import collector_paused

with collector_paused():
    import json
    from http import HTTPStatus
    from typing import Any

    from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
    from aws_lambda_powertools.event_handler.openapi.exceptions import (
        RequestUnsupportedContentType,
        RequestValidationError,
    )
    from aws_lambda_powertools.logging import correlation_paths
    from aws_lambda_powertools.middleware_factory import lambda_handler_decorator
    from aws_lambda_powertools.utilities.typing import LambdaContext

    from access import audit_refusals
    from jobsys.errors import (
        CommandNotAllowed,
        ExecutionNotStarted,
        InvalidRequest,
        JobStateConflict,
        JobSystemError,
        NotFound,
        StartFailed,
        Unprocessable,
    )
    from jobsys.observability import logger, traced
    from jobsys.spec.messages import messages
    from routes import audit, bulk, definitions, jobs, page


def _error(status: HTTPStatus, message: str, headers: dict[str, str] | None = None, **extra: Any) -> Response:
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body={"message": message, **extra},
        headers=headers,
    )


NOT_JSON = "request body: send it as Content-Type: application/json"


@lambda_handler_decorator
def json_bodies_only(handler: Any, event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Every body this API takes is JSON. Any other media type is a 415 before Powertools' validation
    parses it, as it would a form (and fail with a 500 on a multipart body without a boundary)."""
    headers = {name.lower(): value for name, value in (event.get("headers") or {}).items()}
    media_type = (headers.get("content-type") or "").split(";")[0].strip().lower()
    if event.get("body") and media_type and media_type != "application/json" and not media_type.endswith("+json"):
        return {
            "statusCode": HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
            "headers": {"Content-Type": content_types.APPLICATION_JSON},
            "body": json.dumps({"message": NOT_JSON}),
            "isBase64Encoded": False,
        }
    return handler(event, context)


@lambda_handler_decorator
def head_as_get(handler: Any, event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """HEAD is GET without the body (RFC 9110): the routes answer it as GET, and API Gateway, as
    any HTTP server, sends no body for a HEAD."""
    if event.get("httpMethod") == "HEAD":
        event = {**event, "httpMethod": "GET", "requestContext": {**(event.get("requestContext") or {})}}
        event["requestContext"]["httpMethod"] = "GET"
    return handler(event, context)


JSON_TYPE_OF = {list: "an array", str: "a string", int: "a number", float: "a number", bool: "true or false"}


def json_body(text: str) -> Any:
    """json.loads, where a number too long for Python (over 4,300 digits) is a JSON error like any
    other, not a ValueError that would fail the request with a 502.

    Every body this API takes is an object (or null, where it is optional), and anything else is
    refused here: Powertools' validation unwraps a list to its first item for any field that is
    not a list (meant for query strings, applied to bodies too), so `[{"command": ...}]` would
    otherwise start a job."""
    try:
        body = json.loads(text)
    except json.JSONDecodeError:
        raise
    except ValueError as exc:
        raise json.JSONDecodeError(f"a number too long to read ({exc})", text, 0) from None
    if body is not None and not isinstance(body, dict):
        raise InvalidRequest(f"request body: must be a JSON object, not {JSON_TYPE_OF[type(body)]}")
    return body


app = APIGatewayRestResolver(enable_validation=True, json_body_deserializer=json_body)
app.include_router(definitions.router)
app.include_router(jobs.router)
app.include_router(audit.router)
app.include_router(bulk.router)
app.include_router(page.router)

STATUS_OF: dict[type[JobSystemError], HTTPStatus] = {
    NotFound: HTTPStatus.NOT_FOUND,
    CommandNotAllowed: HTTPStatus.UNPROCESSABLE_ENTITY,
    Unprocessable: HTTPStatus.UNPROCESSABLE_ENTITY,
    InvalidRequest: HTTPStatus.BAD_REQUEST,
    JobStateConflict: HTTPStatus.CONFLICT,
    StartFailed: HTTPStatus.SERVICE_UNAVAILABLE,
    ExecutionNotStarted: HTTPStatus.SERVICE_UNAVAILABLE,
}


@app.exception_handler(JobSystemError)
def handle_domain_error(error: JobSystemError) -> Response:
    # An error with no status of its own (a bad jobs.yaml found at run time, say) is a fault of
    # ours, not of the request: a 500, with its trace in the log.
    status = next(
        (STATUS_OF[kind] for kind in type(error).__mro__ if kind in STATUS_OF), HTTPStatus.INTERNAL_SERVER_ERROR
    )
    if status >= 500:
        logger.exception("request failed after it was accepted" if status != 500 else "the job system failed")
    if status == HTTPStatus.INTERNAL_SERVER_ERROR:
        return _error(status, f"internal error: {error}")
    return _error(status, str(error), **error.details())


@app.exception_handler(RequestValidationError)
def handle_validation_error(error: RequestValidationError) -> Response:
    problems = error.errors()
    if not problems:
        return _error(HTTPStatus.BAD_REQUEST, "invalid request")
    first = problems[0]
    if first.get("type") == "json_invalid":  # the whole body, not a field of it
        why = (first.get("ctx") or {}).get("error") or "invalid"
        at = first.get("loc", ("body", 0))[-1]
        return _error(HTTPStatus.BAD_REQUEST, f"request body: not valid JSON: {why} (at character {at})")
    # Named by the body's own key path, as jobs.yaml's errors are.
    message = messages([first], skip=("body",))[0]
    detail = [{"loc": list(p.get("loc", ())), "msg": p.get("msg"), "type": p.get("type")} for p in problems]
    return _error(HTTPStatus.BAD_REQUEST, message, detail=detail)


@app.exception_handler(RequestUnsupportedContentType)
def handle_content_type(_: RequestUnsupportedContentType) -> Response:
    return _error(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, NOT_JSON)


@app.exception_handler(UnicodeDecodeError)
def handle_undecodable_body(_: UnicodeDecodeError) -> Response:
    return _error(HTTPStatus.BAD_REQUEST, "request body: not UTF-8")


@app.exception_handler(RecursionError)
def handle_deep_body(_: RecursionError) -> Response:
    # json.loads and validation recurse once per level: a body nested thousands deep exhausts the stack.
    return _error(HTTPStatus.BAD_REQUEST, "request body: JSON is nested too deeply")


@app.not_found
def handle_not_found(_: Exception) -> Response:
    method, path = app.current_event.http_method.upper(), app.context.get("_path", app.current_event.path)
    matching = {route.method for route in app._static_routes + app._dynamic_routes if route.rule.match(path)}
    allowed = sorted(matching | ({"HEAD"} if "GET" in matching else set()))
    if allowed:
        return _error(
            HTTPStatus.METHOD_NOT_ALLOWED, f"{path} takes {', '.join(allowed)}", headers={"Allow": ", ".join(allowed)}
        )
    return _error(HTTPStatus.NOT_FOUND, f"no route {method} {path}")


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@traced
@audit_refusals(app=app)
@json_bodies_only
@head_as_get
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
