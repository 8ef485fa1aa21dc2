"""A burst of starts from many clients at once, each on a new connection: how long does each wait
for its answer, and are any reset, refused or left without one? tests/e2e keeps a smaller burst
(128 starts) for the errors; this measures the latency.

Two rounds against one stack: the first (`--warm`, one start per client) meets a stack whose API
workers start cold, as the first burst after a deploy or a quiet night does; the second (`--starts`)
is the figure of issue 24: a person who clicks Start while the burst's jobs run. The jobs of both
rounds run meanwhile, on the same two cores.

    .venv/bin/python bench/burst.py [--starts 320] [--clients 32] [--warm 32] [--write docs/performance.md]
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
must get an answer (202), none reset or refused. A first round of one start per client meets cold
API workers; the burst follows on the warm stack, while the jobs of both rounds run. The e2e tests
keep a burst of 128.
"""


def burst(url: str, token: str, starts: int, clients: int) -> tuple[list[tuple[int | str, float]], float]:
    headers = {"Authorization": f"Bearer {token}"}
    body = {"command": "demo:echo", "params": ["burst"]}

    def start(_: int) -> tuple[int | str, float]:
        began = time.perf_counter()
        try:
            status: int | str = requests.post(f"{url}/jobs", json=body, headers=headers, timeout=300).status_code
        except requests.RequestException as exc:
            status = type(exc).__name__
        return status, time.perf_counter() - began

    began = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        answers = list(pool.map(start, range(starts)))
    return answers, time.perf_counter() - began


def row(name: str, answers: list[tuple[int | str, float]], wall: float) -> str:
    errors = [status for status, _ in answers if status != 202]
    seconds = sorted(took for _, took in answers)
    return (
        f"| {name} | {len(answers) - len(errors)} | {len(errors)} "
        f"{sorted(set(map(str, errors)))[:3] if errors else ''} | {statistics.median(seconds):.2f} s "
        f"| {seconds[max(0, int(len(seconds) * 0.95) - 1)]:.2f} s | {seconds[-1]:.2f} s | {wall:.1f} s |"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--starts", type=int, default=320)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--warm", type=int, default=32, help="starts of the first round, on cold API workers")
    parser.add_argument("--write", type=Path)
    args = parser.parse_args()
    with StackProcess() as stack:
        cold = burst(stack.url, stack.token, args.warm, args.clients)
        warm = burst(stack.url, stack.token, args.starts, args.clients)
    lines = [
        heading(platform.node(), f"{args.starts} starts from {args.clients} clients, after {args.warm}"),
        "",
        "| round | answered 202 | errors | p50 | p95 | max | wall |",
        "| --- | --- | --- | --- | --- | --- | --- |",
        row(f"first {args.warm}, cold API workers", *cold),
        row(f"the burst of {args.starts}", *warm),
    ]
    publish(lines, args.write, "A burst of starts (`bench/burst.py`)", INTRO)


if __name__ == "__main__":
    main()
