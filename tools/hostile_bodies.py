"""`make fuzz`'s second phase: request bodies that no schema describes, so schemathesis rarely
sends them. Each body is built from a valid one, then broken: bytes that are not UTF-8, other
encodings, JSON nested up to 200,000 deep at any field, lone surrogates, numbers that Python cannot
hold, NaN, truncation, NUL. The API must refuse each with a 4xx and a JSON message, never a 5xx."""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterator
from typing import Any

import requests

# Each operation that takes a body, with a body that it accepts.
OPERATIONS: list[tuple[str, dict[str, Any]]] = [
    ("/jobs", {"command": "demo:echo", "params": ["x"], "depending_jobs": [{"command": "demo:echo"}]}),
    ("/job-definitions/import_solr/start", {"queue": "default", "priority": 1, "delay": "1 s"}),
    ("/clean-up", {"max_retention": "30 days"}),
]
NOT_UTF8 = [b"\xff", b"\x80", b"\xc0\xaf", b"\xed\xa0\x80", b"\xf8\x88\x80\x80\x80", b"\xe2\x82", b"\xf4\x90\x80\x80"]
SURROGATES = ["\\ud800", "\\udfff", "\\udbff", "\\udc00\\ud800", "a\\ud834", "\\ud834x"]
NUMBERS = ["1" * 5000, "-" + "9" * 4301, "1e999", "-1e999", "NaN", "Infinity", "-Infinity", "1e-999", "-0"]


def _depth(rng: random.Random) -> int:
    return int(10 ** rng.uniform(1.7, 5.3))  # 50 to 200,000, as many of each order of magnitude


def _nest(rng: random.Random, depth: int) -> str:
    opener, closer = rng.choice([("[", "]"), ('{"a":', "}"), ('[{"b":', "}]")])
    return opener * depth + rng.choice(["1", '"x"', "null", "[]"]) + closer * depth


def _with(valid: dict[str, Any], rng: random.Random, raw_value: str) -> str:
    """The valid body's JSON with one field's value (or a new field's) replaced by raw JSON text."""
    field = rng.choice([*valid, "params", "depending_jobs", "label", "run_at", "extra"])
    marker = "\u0001MARK\u0001"
    return json.dumps({**valid, field: marker}).replace(json.dumps(marker), raw_value)


def _broken_string(valid: dict[str, Any], rng: random.Random, inside: str) -> str:
    text = json.dumps(valid)
    quotes = [i for i, c in enumerate(text) if c == '"']
    at = rng.choice(quotes[1::2]) if quotes else 0  # just before a closing quote: inside a string
    return text[:at] + inside + text[at:]


def _cases(rng: random.Random, valid: dict[str, Any]) -> dict[str, Callable[[], bytes]]:
    return {
        "not UTF-8 in a string": lambda: _broken_string(valid, rng, "@@").encode().replace(b"@@", rng.choice(NOT_UTF8)),
        "random bytes": lambda: rng.randbytes(rng.randint(1, 2048)),
        "another encoding": lambda: json.dumps(valid).encode(
            rng.choice(["utf-16", "utf-32", "utf-16-be", "utf-8-sig"])
        ),
        "nested deep": lambda: _with(valid, rng, _nest(rng, _depth(rng))).encode(),
        "nested deep, whole body": lambda: _nest(rng, _depth(rng)).encode(),
        "dependents nested deep": lambda: (
            '{"command": "demo:echo", "depending_jobs": [' * (depth := _depth(rng) // 2) + "]}" * depth
        ).encode(),
        "lone surrogate": lambda: _broken_string(valid, rng, rng.choice(SURROGATES)).encode(),
        "number out of range": lambda: _with(valid, rng, rng.choice(NUMBERS)).encode(),
        "NUL in a string": lambda: _broken_string(valid, rng, "\\u0000").encode(),
        "truncated": lambda: (text := json.dumps(valid).encode())[: rng.randint(0, len(text) - 1)],
        "duplicate keys": lambda: (json.dumps(valid)[:-1] + ', "command": "rm", "max_retention": 1}').encode(),
    }


def hostile_bodies(seed: int, per_kind: int) -> Iterator[tuple[str, str, bytes]]:
    """(path, kind, body): `per_kind` bodies of each kind, spread over the operations."""
    rng = random.Random(seed)
    for _ in range(per_kind):
        for path, valid in OPERATIONS:
            for kind, make in _cases(rng, valid).items():
                yield path, kind, make()


def send_hostile_bodies(url: str, token: str, seed: int, per_kind: int) -> tuple[int, list[str]]:
    """Sends each body; returns how many were sent and what went wrong (a 5xx, or an error that is
    not a JSON message)."""
    session = requests.Session()
    session.headers.update({"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    sent, failures = 0, []
    for path, kind, body in hostile_bodies(seed, per_kind):
        response = session.post(url + path, data=body, timeout=60)
        sent += 1
        try:
            message = response.json().get("message") if response.status_code >= 400 else "accepted"
        except (ValueError, AttributeError):
            message = None
        if response.status_code >= 500 or not isinstance(message, str):
            failures.append(
                f"POST {path} ({kind}, {len(body)} bytes: {body[:80]!r}…): {response.status_code} {response.text[:200]}"
            )
    return sent, failures
