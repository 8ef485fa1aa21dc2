"""HTTP access to the API: the local stack with its token, or a deployed API with SigV4 signing."""

from __future__ import annotations

import json
import os
from typing import Any
from urllib.parse import urlencode, urlsplit

import requests

from jobs_cli.connection import local_stack


class ApiError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


class ApiClient:
    def __init__(self, url: str, token: str | None = None, timeout: float = 30):
        self.url = url.rstrip("/")
        self.token = token
        self.timeout = timeout
        self.session = requests.Session()
        host = urlsplit(self.url).hostname or ""
        # A deployed API (IAM auth) takes SigV4-signed requests; the local stack takes its token.
        self.sign = token is None and host not in ("127.0.0.1", "localhost", "::1")
        self.region = host.split(".")[2] if self.sign and host.count(".") >= 3 else os.environ.get("AWS_REGION")

    @classmethod
    def from_environment(cls, url: str | None, token: str | None) -> ApiClient:
        url = url or os.environ.get("JOBS_URL")
        token = token or os.environ.get("JOBS_TOKEN")
        if not url:
            found = local_stack()
            if found is None:
                raise ApiError(
                    0, "no job system to talk to: start one with `make run`, or pass --url (or set JOBS_URL)"
                )
            url, token = found["url"], token or found["token"]
        return cls(url, token)

    def request(self, method: str, path: str, body: Any = None, query: dict[str, Any] | None = None) -> Any:
        params = {k: v for k, v in (query or {}).items() if v is not None}
        url = self.url + path + (f"?{urlencode(params)}" if params else "")
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        elif self.sign:
            headers = self._signed(method, url, data, headers)
        try:
            response = self.session.request(method, url, data=data, headers=headers, timeout=self.timeout)
        except requests.RequestException as exc:
            raise ApiError(0, f"cannot reach {self.url}: {exc}") from None
        try:
            payload = response.json() if response.content else None
        except ValueError:
            payload = {"message": response.text[:200]}
        if response.status_code >= 400:
            message = (payload or {}).get("message") if isinstance(payload, dict) else None
            raise ApiError(response.status_code, message or f"HTTP {response.status_code}")
        return payload

    def _signed(self, method: str, url: str, data: bytes | None, headers: dict[str, str]) -> dict[str, str]:
        import botocore.session
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest

        session = botocore.session.get_session()
        credentials = session.get_credentials()
        if credentials is None:
            raise ApiError(0, "no AWS credentials found to sign requests to the deployed API")
        request = AWSRequest(method=method, url=url, data=data, headers=headers)
        SigV4Auth(
            credentials.get_frozen_credentials(), "execute-api", self.region or session.get_config_variable("region")
        ).add_auth(request)
        return dict(request.headers.items())
