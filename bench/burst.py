"""A burst of starts from many clients at once, each on a new connection: are any reset, refused or
left without an answer? tests/e2e keeps a smaller burst (128 starts); this is the full one.

    .venv/bin/python bench/burst.py [--starts 500] [--clients 64] [--write docs/performance.md]
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests
from report import heading, publish

from jobs_local.process import StackProcess

INTRO = """
N `POST /jobs` from C clients at once, each on a new connection, to a local stack: every request
must get an answer (202), none reset or refused. The e2e tests keep a burst of 128.
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--starts", type=int, default=500)
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--write", type=Path)
    args = parser.parse_args()
    with StackProcess() as stack:
        headers = {"Authorization": f"Bearer {stack.token}"}
        body = {"command": "demo:echo", "params": ["burst"]}

        def start(_: int) -> tuple[int | str, float]:
            began = time.perf_counter()
            try:
                status = requests.post(f"{stack.url}/jobs", json=body, headers=headers, timeout=300).status_code
            except requests.RequestException as exc:
                status = type(exc).__name__
            return status, time.perf_counter() - began

        began = time.perf_counter()
        with ThreadPoolExecutor(args.clients) as pool:
            answers = list(pool.map(start, range(args.starts)))
        wall = time.perf_counter() - began
    errors = [status for status, _ in answers if status != 202]
    seconds = sorted(took for _, took in answers)
    lines = [
        heading(platform.node(), f"{args.starts} starts from {args.clients} clients"),
        "",
        "| answered 202 | errors | p50 | p95 | max | wall |",
        "| --- | --- | --- | --- | --- | --- |",
        f"| {len(answers) - len(errors)} | {len(errors)} {sorted(set(map(str, errors)))[:3] if errors else ''} "
        f"| {statistics.median(seconds):.2f} s | {seconds[int(len(seconds) * 0.95) - 1]:.2f} s "
        f"| {seconds[-1]:.2f} s | {wall:.1f} s |",
    ]
    publish(lines, args.write, "A burst of starts (`bench/burst.py`)", INTRO)


if __name__ == "__main__":
    main()
