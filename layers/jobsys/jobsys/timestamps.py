"""The job system's moments: UTC, written fixed-width so that string order is time order."""

from __future__ import annotations

from datetime import UTC, datetime


def utc_now() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    """Fixed-width UTC timestamps, so that string order is time order."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_iso(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def moment_of(text: str, now: datetime) -> datetime:
    """A request's point in time: an RFC 3339 time with its zone, or a duration before `now`
    ("24h", "7 days"). ValueError names what it takes."""
    from jobsys.durations import parse_duration  # durations imports nothing of this module's users
    from jobsys.errors import InvalidRequest

    try:
        moment = parse_iso(text)
    except ValueError:
        try:
            return now - parse_duration(text)
        except (InvalidRequest, OverflowError):  # not a duration, or one that reaches before year 1
            raise ValueError("a time (2026-12-24T18:00:00Z) or a duration before now ('24h', '7 days')") from None
    if moment.tzinfo is None:
        raise ValueError("a time needs its zone: 2026-12-24T18:00:00Z")
    return moment
