import json
from pathlib import Path

from tools.openapi import openapi_document

from jobs_local.cloudformation.deploy import load_template

COMMITTED = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"
TEMPLATE = COMMITTED.parents[1] / "template.yaml"


def test_the_committed_openapi_document_matches_the_api():
    assert json.loads(openapi_document()) == json.loads(COMMITTED.read_text()), (
        "docs/openapi.json is out of date: run `make openapi` and commit it"
    )


def test_the_contract_paths_are_there():
    paths = json.loads(COMMITTED.read_text())["paths"]
    assert {
        "/job-definitions",
        "/job-definitions/{key}/start",
        "/jobs",
        "/jobs/{job_id}",
        "/jobs/{job_id}/output",
        "/jobs/{job_id}/cancel",
    } <= set(paths)


def test_each_api_of_the_template_has_its_security_scheme_documented():
    """JobsApi takes SigV4-signed requests, BackOfficeApi a bearer token: both are documented."""
    document = json.loads(COMMITTED.read_text())
    schemes = document["components"]["securitySchemes"]
    assert (
        schemes["sigv4"]["x-amazon-apigateway-authtype"] == "awsSigv4" and "JobsApi" in schemes["sigv4"]["description"]
    )
    assert schemes["bearer"] == {**schemes["bearer"], "type": "http", "scheme": "bearer"}
    assert "BackOfficeApi" in schemes["bearer"]["description"]
    assert document["security"] == [{"sigv4": []}, {"bearer": []}]  # either one

    apis = load_template(TEMPLATE)["Resources"]
    assert apis["JobsApi"]["Properties"]["Auth"]["DefaultAuthorizer"] == "AWS_IAM"
    auth = apis["BackOfficeApi"]["Properties"]["Auth"]
    token = auth["Authorizers"][auth["DefaultAuthorizer"]]
    assert token.get("FunctionPayloadType", "TOKEN") == "TOKEN" and token["Identity"]["Header"] == "Authorization"


def test_every_request_body_is_an_object():
    """The API refuses any other top-level JSON value before validation (api_handler.json_body)."""
    document = json.loads(COMMITTED.read_text())
    schemas = document["components"]["schemas"]
    bodies = [
        operation["requestBody"]["content"]["application/json"]["schema"]
        for path in document["paths"].values()
        for operation in path.values()
        if "requestBody" in operation
    ]
    assert bodies
    for body in bodies:
        for choice in body.get("anyOf") or [body]:
            if choice == {"type": "null"}:  # an optional body
                continue
            resolved = schemas[choice["$ref"].rsplit("/", 1)[-1]]
            assert resolved["type"] == "object", choice


def test_every_route_that_changes_something_declares_the_role_it_needs():
    openapi_document()  # puts functions/api on the import path, as the function has it
    from api_handler import app

    routes = app._static_routes + app._dynamic_routes
    changing = [route for route in routes if route.method not in ("GET", "HEAD", "OPTIONS")]
    assert changing
    undeclared = [
        f"{route.method} {route.rule}"
        for route in changing
        if not any(hasattr(middleware, "needed") for middleware in route.middlewares)
    ]
    assert undeclared == []
