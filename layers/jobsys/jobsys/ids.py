"""Job ids are ULIDs: unique, URL-safe, and sorted by creation time.

Sorting by id is what lets every listing index use the id as its sort key.
"""

import os
import time
from datetime import datetime

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford's base32


def _encode(value: int, length: int) -> str:
    chars = []
    for _ in range(length):
        value, rem = divmod(value, 32)
        chars.append(_ALPHABET[rem])
    return "".join(reversed(chars))


def new_job_id(now_ms: int | None = None) -> str:
    ms = int(time.time() * 1000) if now_ms is None else now_ms
    randomness = int.from_bytes(os.urandom(10), "big")
    return _encode(ms, 10) + _encode(randomness, 16)


def is_job_id(value: str) -> bool:
    return len(value) == 26 and all(c in _ALPHABET for c in value)


def ulid_floor(at: datetime) -> str:
    """The least id of a time: ids made at `at` or later sort at or after it, those before, before.
    A time before 1970 is 1970's, where ids start."""
    return _encode(max(0, int(at.timestamp() * 1000)), 10) + "0" * 16
