"""The back-office page: plain HTML, CSS and JavaScript shipped with the function, no build step."""

from pathlib import Path

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from jobsys.errors import NotFound

router = APIGatewayRouter()

STATIC = Path(__file__).resolve().parent.parent / "static"
CONTENT_TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8"}
PAGE = (STATIC / "index.html").read_text(encoding="utf-8")
ASSETS = {path.name: path.read_text(encoding="utf-8") for path in STATIC.iterdir() if path.suffix in CONTENT_TYPES}
# Scripts and styles come only from this origin, so job output can never run as code here.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self' data:; base-uri 'self'; form-action 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


def _answer(body: str, content_type: str, cache: str) -> Response[str]:
    return Response(
        status_code=200, content_type=content_type, body=body, headers={**SECURITY_HEADERS, "Cache-Control": cache}
    )


def _base_path() -> str:
    """Behind API Gateway's own domain the stage is part of the path (/v1/); elsewhere it is not."""
    event = router.current_event
    host = (event.headers or {}).get("Host") or (event.headers or {}).get("host") or ""
    stage = event.request_context.stage
    return f"/{stage}/" if host.endswith(".amazonaws.com") and stage else "/"


@router.get("/", include_in_schema=False)
def page() -> Response[str]:
    # Relative URLs (static/app.js, jobs, ...) then resolve under the stage, with or without a trailing slash.
    body = PAGE.replace('<base href="/">', f'<base href="{_base_path()}">', 1)
    return _answer(body, "text/html; charset=utf-8", "no-cache")


@router.get("/static/<asset>", include_in_schema=False)
def static_asset(asset: str) -> Response[str]:
    if asset not in ASSETS:
        raise NotFound(f"no asset '{asset}'")
    return _answer(ASSETS[asset], CONTENT_TYPES[Path(asset).suffix], "public, max-age=300")
