"""The back-office API's bearer tokens, kept in one Secrets Manager secret and checked in constant time.

The secret holds one token per operator, and the operator's name becomes the request's principal:
- a JSON object: {"alice": "<token>", "bob": "<token>"}, or with roles:
  {"vera": {"token": "<token>", "role": "viewer"}};
- or `name:token` (or `name:token:role`) entries, one per line (or separated by commas);
- or one bare token, as generated at deploy time: its operator is "back-office".
An entry without a role is an admin's, so that a secret written before roles keeps its powers.
"""

from __future__ import annotations

import hmac
import json
import re
import time
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools import Logger

from jobsys.roles import Role
from jobsys.spec.limits import TOKEN_CACHE

SHARED_NAME = "back-office"
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.@+-]{0,63}")
_TOKEN = re.compile(r"[\x21-\x7e]{8,512}")  # printable, no spaces: it travels in a header

logger = Logger(child=True)


@dataclass(frozen=True)
class Operator:
    name: str
    token: str
    role: Role = Role.ADMIN


def _line_entry(line: str) -> tuple[str, Any, Any]:
    """`name:token` or `name:token:role`; a token may hold ':' itself, a role is one of the roles."""
    name, _, rest = line.strip().partition(":")
    token, colon, role = rest.rpartition(":")
    return (name, token, role) if colon and role in set(Role) else (name, rest, None)


def _json_entry(name: Any, value: Any) -> tuple[Any, Any, Any]:
    if isinstance(value, dict):
        return name, value.get("token"), value.get("role")
    return name, value, None


def parse_operators(secret: str) -> dict[str, Operator]:
    """Operator name → its token and role. Malformed entries are left out (and logged without their token)."""
    text = secret.strip()
    entries: list[tuple[Any, Any, Any]]
    if text.startswith("{"):
        try:
            entries = [_json_entry(name, value) for name, value in json.loads(text).items()]
        except (ValueError, AttributeError):
            logger.error("the back-office token secret is not a JSON object of name: token")
            return {}
    elif ":" not in text and "," not in text and "\n" not in text:
        entries = [(SHARED_NAME, text, None)]
    else:
        entries = [_line_entry(part) for part in re.split(r"[\n,]", text) if part.strip()]
    operators: dict[str, Operator] = {}
    for name, token, role in entries:
        token = token.strip() if isinstance(token, str) else ""
        if not isinstance(name, str) or not _NAME.fullmatch(name) or not _TOKEN.fullmatch(token):
            logger.error("a back-office token entry is left out: a name of letters, digits, _.@+- and a token of"
                         " 8 to 512 printable characters are needed", extra={"operator": str(name)[:64]})  # fmt: skip
        elif role is not None and role not in set(Role):
            logger.error("a back-office token entry is left out: its role is not viewer, operator or admin",
                         extra={"operator": name})  # fmt: skip
        elif name in operators or token in {known.token for known in operators.values()}:
            logger.error("a back-office token entry is left out: its name or token is taken", extra={"operator": name})
        else:
            operators[name] = Operator(name, token, Role(role) if role else Role.ADMIN)
    return operators


def parse_tokens(secret: str) -> dict[str, str]:
    """Operator name → token."""
    return {name: operator.token for name, operator in parse_operators(secret).items()}


class BackOfficeTokens:
    def __init__(self, secrets: Any, secret_id: str):
        self.secrets = secrets
        self.secret_id = secret_id
        self._operators: dict[str, Operator] | None = None
        self._loaded = 0.0

    def _current(self) -> dict[str, Operator]:
        if self._operators is None or time.monotonic() - self._loaded > TOKEN_CACHE:
            self._operators = parse_operators(self.secrets.get_secret_value(SecretId=self.secret_id)["SecretString"])
            self._loaded = time.monotonic()
        return self._operators

    def operator(self, authorization: str | None) -> Operator | None:
        """The operator whose token `Bearer <token>` carries; None for any other header."""
        scheme, _, given = (authorization or "").partition(" ")
        given = given.strip()
        if scheme.lower() != "bearer" or not given:
            return None
        found = None
        for operator in self._current().values():  # every token compared, so the time tells nothing
            if hmac.compare_digest(given.encode(), operator.token.encode()):
                found = operator
        return found
