import json
from pathlib import Path

from jobs_local.openapi import openapi_document

COMMITTED = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"


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
