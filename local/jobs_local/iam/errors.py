"""A refusal of IAM's, as the refusing service answers it.

Replaces: moto's `IAMRequest._raise_*` and `S3IAMRequest._raise_*`, which answer with IAM's XML error
for every service but EC2 and S3; a JSON service's client (DynamoDB's, Lambda's, …) then reads no
error code at all. AWS answers in each service's own protocol and words.
"""

from __future__ import annotations

from moto.core.exceptions import AccessDeniedError, JsonRESTError
from moto.s3.exceptions import S3AccessDeniedError, S3InvalidAccessKeyIdError, S3SignatureDoesNotMatchError

# Services whose errors are JSON (awsJson and restJson protocols); the others answer in XML.
JSON_SERVICES = {"dynamodb", "logs", "states", "ecs", "secretsmanager", "lambda", "scheduler", "events"}


class Refusal(Exception):
    """What IAM refused, with IAM's code (`AccessDenied`, `InvalidClientTokenId`, …) and words."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


_JSON_CODES = {
    "AccessDenied": "AccessDeniedException",
    "InvalidClientTokenId": "UnrecognizedClientException",
    "SignatureDoesNotMatch": "InvalidSignatureException",
    "MissingAuthenticationToken": "MissingAuthenticationTokenException",
    "IncompleteSignature": "IncompleteSignatureException",
}


class _XmlRefusal(AccessDeniedError):
    """IAM's XML error with any code (STS, IAM, EC2, CloudFormation); moto's has fixed messages."""

    def __init__(self, refusal: Refusal):
        super(AccessDeniedError, self).__init__(refusal.code, refusal.message)


def service_error(service: str, refusal: Refusal) -> Exception:
    if service == "s3":
        return {
            "InvalidClientTokenId": S3InvalidAccessKeyIdError,
            "SignatureDoesNotMatch": S3SignatureDoesNotMatchError,
        }.get(refusal.code, S3AccessDeniedError)()
    if service in JSON_SERVICES:
        error = JsonRESTError(_JSON_CODES.get(refusal.code, refusal.code), refusal.message)
        error.code = 400 if service == "dynamodb" else 403  # DynamoDB answers every refusal with a 400
        return error
    return _XmlRefusal(refusal)
