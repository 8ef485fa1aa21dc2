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


def _any_case(word: str) -> str:
    return "".join(f"[{c}{c.upper()}]" for c in word)


# One regular expression for the code and the API's schema (JSON Schema patterns have no flags,
# hence the letter classes). Seven digits at most keep every sum within what a date can hold.
_UNIT = "(?:" + "|".join(_any_case(unit) for unit in sorted(_UNITS, key=len, reverse=True)) + ")"
_SPACE = "[ \t]*"
DURATION_PATTERN = f"^{_SPACE}[0-9]{{1,7}}{_SPACE}{_UNIT}(?:[ \t,]*[0-9]{{1,7}}{_SPACE}{_UNIT})*{_SPACE}$"
_WHOLE = re.compile(DURATION_PATTERN)
_PART = re.compile(f"([0-9]+){_SPACE}([a-zA-Z]+)")


def parse_duration(text: str) -> timedelta:
    """Parses "1 min", "90s", "1 hour 30 min"; refuses anything it does not fully understand."""
    if _WHOLE.fullmatch(text):
        try:
            return timedelta(seconds=sum(int(n) * _UNITS[unit.lower()] for n, unit in _PART.findall(text)))
        except OverflowError:
            pass
    raise InvalidRequest(f"cannot read the duration {text!r}: use e.g. '1 min', '2 hours', '7 days'")
