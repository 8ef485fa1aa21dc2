"""Small commands for trying the system out: they print, sleep and fail for real."""

import sys
import time


def _usage(message: str) -> int:
    print(message, file=sys.stderr)
    return 2


def sleep(params: list[str]) -> int:
    try:
        seconds = int(params[0]) if params else 5
    except ValueError:
        return _usage(f"demo:sleep: SECONDS must be a whole number, not {params[0]!r}")
    print(f"sleeping {seconds} s", flush=True)
    for second in range(1, seconds + 1):
        time.sleep(1)
        print(f"second {second}/{seconds}", flush=True)
    print("done", flush=True)
    return 0


def fail(params: list[str]) -> int:
    code = int(params[0]) if params and params[0].isdigit() else 3
    print("checking the remote system...", flush=True)
    print(f"error: the remote system refused the connection (exit {code})", file=sys.stderr, flush=True)
    return code


def lines(params: list[str]) -> int:
    try:
        count = int(params[0]) if params else 1000
        per_second = float(params[1]) if len(params) > 1 else 0.0
    except ValueError:
        return _usage("demo:lines: COUNT and PER_SECOND must be numbers")
    for number in range(1, count + 1):
        print(f"line {number:05d} of {count}", flush=per_second > 0)
        if per_second > 0:
            time.sleep(1 / per_second)
    return 0


def echo(params: list[str]) -> int:
    for word in params:
        print(word)
    return 0
