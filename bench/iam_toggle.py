"""What IAM enforcement alone costs: one local stack in this process, enforcement switched on and off
between rounds (the order alternating), the same jobs measured on both sides in one run.

bench/iam_cost.py compares whole checkouts, before and after issue 19; this measures only the
check of each call (SigV4, the policy decision), with everything else the same.

    .venv/bin/python bench/iam_toggle.py [--rounds 10] [--jobs 8] [--write docs/performance.md]
"""

from __future__ import annotations

import argparse
import logging
import platform
import statistics
import time
from pathlib import Path

import requests
from report import heading, publish
from stack_http import session_with, wait_closed

from jobs_local.apigateway.gateway import Gateway
from jobs_local.iam import enforcement as iam_enforcement
from jobs_local.stack import LocalStack
from jobsys.models import parse_iso

INTRO = """
IAM enforcement alone (issue 19): one local stack in one process, enforcement switched on and off
between rounds of jobs, the order alternating, so that both sides share the machine's state. Each
job is `demo:echo` with one `demo:echo` dependent, started through the API function.
Goal: enforcement costs under 10 %.
"""


def _ms(later: str, earlier: str) -> float:
    return (parse_iso(later) - parse_iso(earlier)).total_seconds() * 1000


def one_job(session: requests.Session, url: str) -> dict[str, float]:
    body = {"command": "demo:echo", "params": ["p"], "depending_jobs": [{"command": "demo:echo", "params": ["c"]}]}
    posted = time.perf_counter()
    response = session.post(f"{url}/jobs", json=body, timeout=30)
    post_ms = (time.perf_counter() - posted) * 1000
    response.raise_for_status()
    parent = wait_closed(session, url, response.json()["id"])
    child = wait_closed(session, url, parent["dependents"][0])
    return {
        "post_jobs": post_ms,
        "created_to_started": _ms(parent["started_at"], parent["created_at"]),
        "closed_to_dependent_started": _ms(child["started_at"], parent["closed_at"]),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--jobs", type=int, default=8)
    parser.add_argument("--write", type=Path)
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    sides: dict[str, dict[str, list[float]]] = {"off": {}, "on": {}}
    with LocalStack(stack_name="bench-toggle", concurrency=2) as stack:
        session = session_with(stack.back_office_token("bench-token-1234"))
        gateway = Gateway(stack.routes, stack.call_function, 0).start()
        url = f"http://127.0.0.1:{gateway.port}"
        enforcer = iam_enforcement._enforcer
        for _ in range(2):
            one_job(session, url)  # warm: the workers started, the policies parsed
        try:
            for round_number in range(args.rounds):
                for side in ("on", "off") if round_number % 2 == 0 else ("off", "on"):
                    iam_enforcement._enforcer = enforcer if side == "on" else None
                    for _ in range(args.jobs):
                        for name, value in one_job(session, url).items():
                            sides[side].setdefault(name, []).append(value)
        finally:
            iam_enforcement._enforcer = enforcer
            gateway.stop()
    lines = [
        heading(platform.node(), f"{args.rounds} rounds of {args.jobs} jobs with a dependent, each side"),
        "",
        "| figure | enforcement off | on | on / off |",
        "| --- | --- | --- | --- |",
    ]
    for name in ("created_to_started", "closed_to_dependent_started", "post_jobs"):
        off, on = (statistics.median(sides[side][name]) for side in ("off", "on"))
        lines.append(f"| {name} (p50) | {off:.1f} ms | {on:.1f} ms | {on / off:.2f} |")
    publish(lines, args.write, "IAM enforcement alone", INTRO)


if __name__ == "__main__":
    main()
