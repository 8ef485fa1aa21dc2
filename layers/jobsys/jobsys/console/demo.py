"""Small commands for trying the system out: they print, sleep and fail for real."""

import os
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
        print(f"PROGRESS {second}/{seconds}", flush=True)  # taken out of the output by the runner
    print("done", flush=True)
    return 0


def alloc(params: list[str]) -> int:
    try:
        megabytes = int(params[0])
        seconds = float(params[1]) if len(params) > 1 else 1.0
    except (IndexError, ValueError):
        return _usage("demo:alloc: MEGABYTES (a whole number) and optionally SECONDS")
    if not 0 <= megabytes <= 4096:
        return _usage("demo:alloc: MEGABYTES goes from 0 to 4096")
    # Written to, page by page, so that the memory is resident rather than only reserved.
    held = bytearray(megabytes * 1024 * 1024)
    for offset in range(0, len(held), 4096):
        held[offset] = 1
    print(f"holding {megabytes} MB for {seconds:g} s", flush=True)
    time.sleep(seconds)
    print("released", flush=True)
    return 0


def fail(params: list[str]) -> int:
    code = int(params[0]) if params and params[0].isdigit() else 3
    print("checking the remote system...", flush=True)
    print(f"error: the remote system refused the connection (exit {code})", file=sys.stderr, flush=True)
    return code


def flaky(params: list[str]) -> int:
    """Fails until the job's attempt number (JOB_ATTEMPT, set by the runner) reaches SUCCEED_ON."""
    try:
        succeed_on = int(params[0]) if params else 2
    except ValueError:
        return _usage(f"demo:flaky: SUCCEED_ON must be a whole number, not {params[0]!r}")
    attempt = int(os.environ.get("JOB_ATTEMPT", "1"))
    print(f"attempt {attempt}: calling the flaky remote system", flush=True)
    if attempt < succeed_on:
        print("error: the remote system timed out", file=sys.stderr, flush=True)
        return 75
    print("the remote system answered", flush=True)
    return 0


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
