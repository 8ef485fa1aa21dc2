"""The back-office API's bearer tokens, kept in one Secrets Manager secret and checked in constant time.

The secret holds one token per operator, and the operator's name becomes the request's principal:
- a JSON object: {"alice": "<token>", "bob": "<token>"};
- or `name:token` pairs, one per line (or separated by commas);
- or one bare token, as generated at deploy time: its operator is "back-office".
"""

from __future__ import annotations

import hmac
import json
import re
import time
from typing import Any

from aws_lambda_powertools import Logger

CACHE_SECONDS = 300  # a rotated or added token is picked up within five minutes
SHARED_NAME = "back-office"
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.@+-]{0,63}")
_TOKEN = re.compile(r"[\x21-\x7e]{8,512}")  # printable, no spaces: it travels in a header

logger = Logger(child=True)


def parse_tokens(secret: str) -> dict[str, str]:
    """Operator name → token. Malformed entries are left out (and logged without their token)."""
    text = secret.strip()
    if text.startswith("{"):
        try:
            pairs = list(json.loads(text).items())
        except (ValueError, AttributeError):
            logger.error("the back-office token secret is not a JSON object of name: token")
            return {}
    elif ":" not in text and "," not in text and "\n" not in text:
        pairs = [(SHARED_NAME, text)]
    else:
        pairs = [tuple(part.strip().partition(":")[::2]) for part in re.split(r"[\n,]", text) if part.strip()]
    tokens: dict[str, str] = {}
    for name, token in pairs:
        token = token.strip() if isinstance(token, str) else ""
        if not isinstance(name, str) or not _NAME.fullmatch(name) or not _TOKEN.fullmatch(token):
            logger.error("a back-office token entry is left out: a name of letters, digits, _.@+- and a token of"
                         " 8 to 512 printable characters are needed", extra={"operator": str(name)[:64]})  # fmt: skip
        elif name in tokens or token in tokens.values():
            logger.error("a back-office token entry is left out: its name or token is taken", extra={"operator": name})
        else:
            tokens[name] = token
    return tokens


class BackOfficeTokens:
    def __init__(self, secrets: Any, secret_id: str):
        self.secrets = secrets
        self.secret_id = secret_id
        self._tokens: dict[str, str] | None = None
        self._loaded = 0.0

    def _current(self) -> dict[str, str]:
        if self._tokens is None or time.monotonic() - self._loaded > CACHE_SECONDS:
            self._tokens = parse_tokens(self.secrets.get_secret_value(SecretId=self.secret_id)["SecretString"])
            self._loaded = time.monotonic()
        return self._tokens

    def operator(self, authorization: str | None) -> str | None:
        """The name whose token `Bearer <token>` carries; None for any other header."""
        scheme, _, given = (authorization or "").partition(" ")
        given = given.strip()
        if scheme.lower() != "bearer" or not given:
            return None
        found = None
        for name, token in self._current().items():  # every token compared, so the time tells nothing
            if hmac.compare_digest(given.encode(), token.encode()):
                found = name
        return found
