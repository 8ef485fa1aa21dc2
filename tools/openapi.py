"""Prints the API's OpenAPI document, generated from the routes and pydantic models (`make openapi`)."""

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

SECURITY_SCHEMES = {
    "sigv4": {
        "type": "apiKey",
        "name": "Authorization",
        "in": "header",
        "description": "JobsApi (output ApiUrl): requests signed with AWS Signature Version 4",
        "x-amazon-apigateway-authtype": "awsSigv4",
    },
    "bearer": {
        "type": "http",
        "scheme": "bearer",
        "description": "BackOfficeApi (output BackOfficeUrl): Authorization: Bearer <an operator's token>",
    },
}


def openapi_document() -> str:
    sys.path.insert(0, str(ROOT / "functions" / "api"))
    from api_handler import app

    document = json.loads(
        app.get_openapi_json_schema(
            title="Job system API",
            version="1.0.0",
            description="Start console commands as jobs, follow their output, cancel them, clean up old ones. "
            "The same routes are served by two APIs: one signed with SigV4, one with a bearer token.",
            security_schemes=SECURITY_SCHEMES,
            security=[{"sigv4": []}, {"bearer": []}],
        )
    )
    # Powertools documents a 422 of its own on every route; ours are 400 (schema) and 422 (ErrorOut).
    for operations in document["paths"].values():
        for operation in operations.values():
            answer = operation["responses"].get("422", {})
            if "HTTPValidationError" in json.dumps(answer):
                del operation["responses"]["422"]
    for unused in ("HTTPValidationError", "ValidationError", "ResponseValidationError"):
        document["components"]["schemas"].pop(unused, None)
    return json.dumps(document, indent=2)


if __name__ == "__main__":
    print(openapi_document())
