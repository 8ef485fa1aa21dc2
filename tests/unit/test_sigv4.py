"""The local stack's SigV4 check computes what botocore's signer computes, for the requests AWS
clients send: JSON bodies, REST paths with encoded names and ARNs, query strings, GETs."""

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from jobs_local.iam import sigv4

SECRET, TOKEN = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY", "FwoGZXIvYXdzEXAMPLE+token/=="


def _signed_by_boto(method: str, path: str, query: str, body: bytes, service: str, extra: dict) -> AWSRequest:
    url = f"http://127.0.0.1:5000{path}" + (f"?{query}" if query else "")
    request = AWSRequest(
        method=method, url=url, data=body, headers={"Content-Type": "application/x-amz-json-1.0", **extra}
    )
    SigV4Auth(Credentials("ASIAEXAMPLE", SECRET, TOKEN), service, "us-east-1").add_auth(request)
    return request


@pytest.mark.parametrize(
    ("method", "path", "query", "body", "service", "extra"),
    [
        ("POST", "/", "", b'{"TableName": "t", "Key": {"pk": {"S": "x"}}}', "dynamodb", {}),
        ("POST", "/2015-03-31/functions/jobs-RunnerFunction-ABC/invocations", "", b'{"job_id": "01J"}', "lambda", {}),
        ("POST", "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Af/invocations",
         "Qualifier=live", b"{}", "lambda", {}),
        ("GET", "/schedules", "MaxResults=10&GroupName=jobs%20group&NamePrefix=a%2Fb", b"", "scheduler", {}),
        ("PUT", "/schedules/nightly", "", b'{"GroupName": "g"}', "scheduler",
         {"X-Amz-Content-SHA256": "UNSIGNED-PAYLOAD"}),
        ("POST", "/", "", b"", "logs", {"X-Amz-Target": "Logs_20140328.PutLogEvents", "X-Custom": "  a   b  "}),
        ("POST", "/", "", "{\"message\": \"caf\u00e9 \u20ac\"}".encode(), "logs", {}),
    ],
)  # fmt: skip
def test_the_signature_is_the_one_botocore_makes(method, path, query, body, service, extra):
    request = _signed_by_boto(method, path, query, body, service, extra)
    header = request.headers["Authorization"]
    names = header.partition("SignedHeaders=")[2].partition(",")[0].split(";")
    signed = {name: request.headers.get(name) or "127.0.0.1:5000" for name in names}  # Host goes on the wire
    computed = sigv4.signature(
        method, path, query, signed, body, SECRET, request.headers["X-Amz-Date"], "us-east-1", service
    )
    assert computed == header.rpartition("Signature=")[2]


def test_another_secret_or_body_gives_another_signature():
    request = _signed_by_boto("POST", "/", "", b'{"a": 1}', "dynamodb", {})
    names = request.headers["Authorization"].partition("SignedHeaders=")[2].partition(",")[0].split(";")
    signed = {name: request.headers.get(name) or "127.0.0.1:5000" for name in names}
    right = request.headers["Authorization"].rpartition("Signature=")[2]
    date = request.headers["X-Amz-Date"]
    assert sigv4.signature("POST", "/", "", signed, b'{"a": 1}', SECRET, date, "us-east-1", "dynamodb") == right
    assert sigv4.signature("POST", "/", "", signed, b'{"a": 2}', SECRET, date, "us-east-1", "dynamodb") != right
    assert sigv4.signature("POST", "/", "", signed, b'{"a": 1}', "other", date, "us-east-1", "dynamodb") != right
