"""Human durations as the seed's clean-up takes them: "1 min", "2 hours", "7 days"."""

import re
from datetime import timedelta

from jobsys.errors import InvalidRequest

_UNITS = {
    "s": 1, "sec": 1, "secs": 1, "second": 1, "seconds": 1,
    "m": 60, "min": 60, "mins": 60, "minute": 60, "minutes": 60,
    "h": 3600, "hour": 3600, "hours": 3600,
    "d": 86400, "day": 86400, "days": 86400,
    "w": 604800, "week": 604800, "weeks": 604800,
}  # fmt: skip
_PART = re.compile(r"(\d+)\s*([a-z]+)")


def parse_duration(text: str) -> timedelta:
    """Parses "1 min", "90s", "1 hour 30 min"; refuses anything it does not fully understand."""
    cleaned = text.strip().lower()
    seconds, position = 0, 0
    for match in _PART.finditer(cleaned):
        if cleaned[position : match.start()].strip(" ,") or match.group(2) not in _UNITS:
            break
        seconds += int(match.group(1)) * _UNITS[match.group(2)]
        position = match.end()
    else:
        if position and not cleaned[position:].strip():
            return timedelta(seconds=seconds)
    raise InvalidRequest(f"cannot read the duration {text!r}: use e.g. '1 min', '2 hours', '7 days'")
