"""The SigV4 signature that AWS computes for a request, to compare with the one it carries.

botocore's signer (what moto's authenticator uses) builds an `AWSRequest` with email-style headers
for every request: 30 µs of the stack's busiest thread for each AWS call. This computes the same
canonical request directly from the signed headers, and keeps each derived signing key (a chain of
four HMACs that changes once a day per key, region and service). S3, whose canonical request has
rules of its own, and form bodies, which moto has already parsed away, go through botocore.
`tests/unit/test_sigv4.py` checks that both give the same signature.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from botocore.auth import S3SigV4Auth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.utils import normalize_url_path

_keys: dict[tuple[str, str, str, str], bytes] = {}


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    found = _keys.get((secret, date, region, service))
    if found is None:
        if len(_keys) > 4096:  # keys of past days and gone sessions
            _keys.clear()
        found = _hmac(_hmac(_hmac(_hmac(f"AWS4{secret}".encode(), date), region), service), "aws4_request")
        _keys[(secret, date, region, service)] = found
    return found


def canonical_query(query: str) -> str:
    """As botocore puts a URL's query in order: pairs sorted, as they were encoded."""
    if not query:
        return ""
    pairs = sorted(pair.partition("=")[::2] for pair in query.split("&"))
    return "&".join(f"{key}={value}" for key, value in pairs)


def signature(
    method: str,
    path: str,
    query: str,
    signed: Mapping[str, str],
    body: bytes,
    secret: str,
    amz_date: str,
    region: str,
    service: str,
) -> str:
    """`signed`: the signed headers, by lower-case name."""
    names = sorted(signed)
    canonical = "\n".join(
        [
            method.upper(),
            quote(normalize_url_path(path), safe="/~"),
            canonical_query(query),
            "".join(f"{name}:{' '.join(signed[name].split())}\n" for name in names),
            ";".join(names),
            signed.get("x-amz-content-sha256") or hashlib.sha256(body).hexdigest(),
        ]
    )
    scope = f"{amz_date[:8]}/{region}/{service}/aws4_request"
    to_sign = f"AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{hashlib.sha256(canonical.encode()).hexdigest()}"
    key = signing_key(secret, amz_date[:8], region, service)
    return hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()


def expected_signature(response: Any, headers: dict[str, str], secret: str, token: str | None, scope: list[str]) -> str:
    """The signature of a request as moto's server holds it (`response`), from its signed headers."""
    region, service = scope[2], scope[3]
    body = response.raw_body or b""
    form = (response.headers.get("Content-Type") or "").startswith("application/x-www-form-urlencoded")
    if service != "s3" and not (form and not body):
        return signature(
            response.method,
            response.raw_path,
            response.parsed_url.query,
            headers,
            body if isinstance(body, bytes) else body.encode(),
            secret,
            headers.get("x-amz-date", ""),
            region,
            service,
        )
    # S3's canonical request has rules of its own; a form's body was read into moto's querystring,
    # so the form stands in for it (as in moto). botocore signs both.
    path = response.raw_path + (f"?{response.parsed_url.query}" if response.parsed_url.query else "")
    request = AWSRequest(
        method=response.method, url=path, data=body or (response.data if form else b""), headers=headers
    )
    request.context["timestamp"] = headers.get("x-amz-date", "")
    auth = (S3SigV4Auth if service == "s3" else SigV4Auth)(Credentials(scope[0], secret, token), service, region)
    return auth.signature(auth.string_to_sign(request, auth.canonical_request(request)), request)
