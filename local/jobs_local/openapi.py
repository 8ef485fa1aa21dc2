"""Prints the API's OpenAPI document, generated from the routes and pydantic models (`make openapi`)."""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def openapi_document() -> str:
    sys.path.insert(0, str(ROOT / "functions" / "api"))
    from api_handler import app

    return app.get_openapi_json_schema(
        title="Job system API",
        version="1.0.0",
        description="Start console commands as jobs, follow their output, cancel them, clean up old ones.",
        security_schemes={"sigv4": {"type": "apiKey", "name": "Authorization", "in": "header"}},
        security=[{"sigv4": []}],
    )


if __name__ == "__main__":
    print(openapi_document())
