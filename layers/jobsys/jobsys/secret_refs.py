"""A command's `env:` may name a secret instead of giving a value: `{secret: NAME_OR_ARN}` (Secrets
Manager; `key: FIELD` takes one field of a JSON secret) or `{parameter: /path}` (SSM Parameter
Store, a SecureString decrypted). The runner reads it when it starts the command, keeps it for at
most five minutes, and gives it to that command's environment only: it is never in a job record,
a log, the output or an event."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

CACHE_SECONDS = 300.0


class SecretRef(BaseModel):
    """Where a variable's value is kept; exactly one of `secret` and `parameter`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    secret: str | None = Field(default=None, min_length=1, max_length=2048, description="A secret's name or ARN")
    key: str | None = Field(default=None, min_length=1, max_length=256, description="A field of a JSON secret")
    parameter: str | None = Field(default=None, min_length=1, max_length=2048, description="A parameter's name")

    @model_validator(mode="after")
    def _one_place(self) -> Self:
        if (self.secret is None) == (self.parameter is None):
            raise ValueError("give one of secret and parameter")
        if self.key is not None and self.secret is None:
            raise ValueError("key: only a secret has fields")
        return self

    def describe(self) -> str:
        """What it names, never what it holds."""
        if self.secret is not None:
            return f"secret {self.secret!r}" + (f" (key {self.key!r})" if self.key else "")
        return f"parameter {self.parameter!r}"


class SecretUnavailable(Exception):
    """A reference that cannot be read: the job fails at once, with this reason (no value in it)."""


class SecretValues:
    """Reads references, each kept for CACHE_SECONDS, so that a burst of jobs reads a secret once."""

    def __init__(self, secrets: Any, ssm: Any, clock: Callable[[], float] = time.monotonic):
        self.secrets = secrets
        self.ssm = ssm
        self.clock = clock
        self._kept: dict[SecretRef, tuple[str, float]] = {}

    def value(self, name: str, ref: SecretRef) -> str:
        kept = self._kept.get(ref)
        if kept is not None and self.clock() - kept[1] < CACHE_SECONDS:
            return kept[0]
        try:
            value = self._read(ref)
        except SecretUnavailable as exc:
            raise SecretUnavailable(f"env {name}: {ref.describe()} {exc}") from None
        except Exception as exc:  # noqa: BLE001 - a refusal, a missing name, a throttle: named, never shown
            code = getattr(exc, "response", {}).get("Error", {}).get("Code") or type(exc).__name__
            raise SecretUnavailable(f"env {name}: {ref.describe()} could not be read ({code})") from None
        self._kept[ref] = (value, self.clock())
        return value

    def _read(self, ref: SecretRef) -> str:
        if ref.parameter is not None:
            return str(self.ssm.get_parameter(Name=ref.parameter, WithDecryption=True)["Parameter"]["Value"])
        text = str(self.secrets.get_secret_value(SecretId=ref.secret)["SecretString"])
        if ref.key is None:
            return text
        try:
            fields = json.loads(text)
        except ValueError:
            raise SecretUnavailable("is not a JSON object, so it has no key") from None
        if not isinstance(fields, dict) or ref.key not in fields:
            raise SecretUnavailable("has no such key")
        return str(fields[ref.key])
