"""pydantic's errors in the words of this project: `jobs.flaky.retries.max_attempts: must be at least 1`.
jobs.yaml's loader and the API's 400s both speak through here."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydantic_core import ErrorDetails, PydanticCustomError

from jobsys.spec.types import PATTERN_MEANS

_EXPECTED = {
    "dict_type": "expected a mapping",
    "model_type": "expected a mapping",
    "model_attributes_type": "expected a mapping",
    "list_type": "expected a list",
    "tuple_type": "expected a list",
    "string_type": "expected a string",
    "int_type": "must be a whole number",
    "float_type": "must be a number",
    "bool_type": "must be true or false",
    "recursion_loop": "dependency cycle: this job depends on itself",
}
_BOUNDS = {
    "greater_than_equal": ("ge", "must be at least {}"),
    "less_than_equal": ("le", "must be at most {}"),
    "greater_than": ("gt", "must be more than {}"),
    "less_than": ("lt", "must be less than {}"),
    "string_too_long": ("max_length", "{} characters at most"),
    "too_long": ("max_length", "{} items at most"),
}


def at_key(key: Any, reason: str) -> PydanticCustomError:
    """An error in a value's own key (`env.JOB_ID`), which a validator of the whole value finds."""
    return PydanticCustomError("at_key", reason, {"key": str(key)})


def _reason(error: ErrorDetails) -> str:
    kind, ctx = error["type"], error.get("ctx") or {}
    if kind in _EXPECTED:
        return _EXPECTED[kind]
    if kind in _BOUNDS:
        name, text = _BOUNDS[kind]
        return text.format(ctx.get(name))
    if kind in ("string_too_short", "too_short"):
        return "must not be empty"
    if kind == "string_pattern_mismatch":
        return PATTERN_MEANS.get(ctx.get("pattern", ""), f"does not match {ctx.get('pattern')}")
    if kind == "literal_error":
        return f"must be one of {ctx.get('expected')}, not {error.get('input')!r}"
    if kind in ("value_error", "assertion_error"):
        return str(ctx.get("error") or error["msg"])
    return error["msg"]


def _path(parts: Iterable[Any]) -> str:
    return ".".join(str(part) for part in parts)


def messages(errors: Iterable[ErrorDetails], skip: tuple[str, ...] = ()) -> list[str]:
    """One line per problem, `key.path: reason`, in the order found; unknown keys of one mapping
    are one line. `skip` drops leading parts of the location that the user never wrote (`body`)."""
    lines: dict[str, list[str]] = {}
    unknown: dict[str, list[str]] = {}
    for error in errors:
        written = [part for part in error["loc"] if part != "[key]"]
        loc = list(written)
        while loc and loc[0] in skip:
            loc = loc[1:]
        kind = error["type"]
        if kind == "missing" and not loc:  # the part that was skipped is what is missing
            loc = written[-1:]
        if kind == "extra_forbidden":
            unknown.setdefault(_path(loc[:-1]), []).append(str(loc[-1]))
            lines.setdefault(_path(loc[:-1]), [])
            continue
        if kind == "missing":
            where, reason = _path(loc[:-1]), f"missing field '{loc[-1]}'"
        elif kind == "at_key":
            where, reason = _path([*loc, (error.get("ctx") or {}).get("key")]), error["msg"]
        else:
            where, reason = _path(loc), _reason(error)
        lines.setdefault(where, []).append(reason)
    found = []
    for where, reasons in lines.items():
        names = ", ".join(unknown.get(where, ()))  # a key may be "" (still unknown)
        if where in unknown and where:
            reasons = [*reasons, f"unknown field(s) {names}"]
        elif where in unknown:  # the document's own keys
            found.append(f"{names}: unknown key")
        found.extend(f"{where}: {reason}" if where else reason for reason in reasons)
    return found
