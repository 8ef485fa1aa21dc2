"""The back-office page's bearer token, kept in Secrets Manager and checked in constant time."""

from __future__ import annotations

import hmac
import time
from typing import Any

CACHE_SECONDS = 300  # a rotated token is picked up within five minutes


class BackOfficeToken:
    def __init__(self, secrets: Any, secret_id: str):
        self.secrets = secrets
        self.secret_id = secret_id
        self._value: str | None = None
        self._loaded = 0.0

    def _current(self) -> str:
        if self._value is None or time.monotonic() - self._loaded > CACHE_SECONDS:
            self._value = self.secrets.get_secret_value(SecretId=self.secret_id)["SecretString"].strip()
            self._loaded = time.monotonic()
        return self._value

    def accepts(self, authorization: str | None) -> bool:
        """True for `Bearer <token>` with the right token."""
        scheme, _, given = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not given.strip():
            return False
        return hmac.compare_digest(given.strip().encode(), self._current().encode())
