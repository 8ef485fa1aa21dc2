"""The values that jobs.yaml and the API share, each with its rule once: a field that takes a
priority is a `Priority`, and its limits, its JSON schema and its error message come with it."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field

from jobsys.durations import DURATION_PATTERN, parse_duration
from jobsys.errors import InvalidRequest
from jobsys.spec.limits import (
    MAX_ATTEMPTS,
    MAX_CONCURRENCY,
    MAX_PARAM_LENGTH,
    MAX_PARAMS,
    MAX_PRIORITY,
    MAX_RUNTIME,
    MAX_TAGS,
)

Runner = Literal["lambda", "fargate"]
Overlap = Literal["skip", "allow"]

QUEUE_NAME_PATTERN = "^[A-Za-z0-9_.:-]{1,64}$"
# A tag is a word an operator types to find jobs again (`store:de`, `team=imports`): no blanks,
# nothing that a URL's query string would need to escape besides ':' and '='.
TAG_PATTERN = "^[A-Za-z0-9_.:=/@+-]{1,128}$"
ENV_NAME_PATTERN = "^[A-Za-z_][A-Za-z0-9_]{0,127}$"
# One character that no engine counts as blank. `\S` would differ: pydantic's Rust regex takes
# Unicode's White_Space (U+0085 is blank), editors' and schemathesis' ECMAScript does not (U+FEFF
# is blank), and Python adds U+001C-U+001F. The union is spelled out, so all three agree.
NOT_BLANK = (
    "[^\\u0009-\\u000d\\u001c-\\u0020\\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000\\ufeff]"
)
NO_NUL = "^[^\\x00]*$"

# What a broken pattern means, in the words a user reads (spec/messages.py uses it).
PATTERN_MEANS = {
    QUEUE_NAME_PATTERN: "a queue name holds letters, digits, '_', '.', ':' or '-' (64 at most)",
    TAG_PATTERN: "a tag holds letters, digits and '_.:=/@+-' (128 at most)",
    ENV_NAME_PATTERN: "a variable name holds letters, digits and '_', and does not start with a digit",
    NOT_BLANK: "must not be blank",
    NO_NUL: "must not hold a NUL character",
    DURATION_PATTERN: "cannot read the duration: use e.g. '1 min', '2 hours', '7 days'",
}


def _whole_number(value: Any) -> Any:
    # JSON Schema's integer: 3 and 3.0, never true, "3" or 3.5 (which pydantic's lax mode would take).
    if isinstance(value, bool) or not isinstance(value, int | float) or not float(value).is_integer():
        raise ValueError("must be a whole number")
    return int(value)


def _real_number(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("must be a number")
    return value


# An integer within its Field's limits; the limits come before the check, so the schema shows them.
WholeNumber = BeforeValidator(_whole_number)


def _seconds(value: Any) -> Any:
    """A duration as jobs.yaml writes it ('30 s'), or the seconds a stored job holds; to the
    millisecond, as DynamoDB holds no number below 1e-130 (a back-off of 1e-142 s is 0 s)."""
    if isinstance(value, str):
        if len(value) > DURATION_LENGTH:  # the schema's maxLength, which a BeforeValidator's input skips
            raise ValueError(f"a duration has at most {DURATION_LENGTH} characters")
        try:
            return round(parse_duration(value).total_seconds(), 3)
        except InvalidRequest as exc:
            raise ValueError(str(exc)) from None
    return round(_real_number(value), 3)


Priority = Annotated[
    int, Field(ge=-MAX_PRIORITY, le=MAX_PRIORITY, description="Higher starts first in its queue"), WholeNumber
]
Runtime = Annotated[
    int,
    Field(ge=1, le=MAX_RUNTIME, description="Seconds before the command is killed and the job terminated"),
    WholeNumber,
]
Concurrency = Annotated[
    int, Field(ge=1, le=MAX_CONCURRENCY, description="At most this many of its jobs run at once"), WholeNumber
]
Attempts = Annotated[
    int, Field(ge=1, le=MAX_ATTEMPTS, description="Attempts in all, the first one included"), WholeNumber
]
Factor = Annotated[float, Field(ge=1, le=10), BeforeValidator(_real_number)]
DURATION_LENGTH = 64
Duration = Annotated[
    str, Field(max_length=DURATION_LENGTH, pattern=DURATION_PATTERN, examples=["10 min", "2 hours", "7 days"])
]
# A point in time of a filter: a time with its zone, or a duration before now ("24h"). One that
# fits and cannot be read (a time without its zone) is a 422.
Moment = Annotated[
    str,
    Field(
        max_length=64,
        json_schema_extra={"anyOf": [{"format": "date-time"}, {"pattern": DURATION_PATTERN}]},
        examples=["24h", "2026-12-24T18:00:00Z"],
    ),
]
# Seconds, or a duration as jobs.yaml writes it: the schema takes the strings that the model reads.
Seconds = Annotated[
    float,
    Field(ge=0),
    BeforeValidator(_seconds, json_schema_input_type=Annotated[float, Field(ge=0)] | Duration),
]
QueueName = Annotated[str, Field(pattern=QUEUE_NAME_PATTERN, max_length=64)]
CommandName = Annotated[str, Field(min_length=1, max_length=200, pattern=NOT_BLANK, examples=["demo:echo"])]
Label = Annotated[str, Field(min_length=1, max_length=200, pattern=NOT_BLANK)]
JobKey = Annotated[str, Field(min_length=1, max_length=200, pattern=NOT_BLANK, examples=["import_de"])]
Param = Annotated[str, Field(max_length=MAX_PARAM_LENGTH, pattern=NO_NUL)]
Params = Annotated[list[Param], Field(max_length=MAX_PARAMS)]
EnvName = Annotated[str, Field(pattern=ENV_NAME_PATTERN)]
Tag = Annotated[str, Field(pattern=TAG_PATTERN, max_length=128, examples=["store:de"])]
Tags = Annotated[list[Tag], Field(max_length=MAX_TAGS, description="Words to find its jobs by (GET /jobs?tag=)")]
