"""The AWS calls of one job, by service and action, and where its milliseconds go.

Starts a local stack in this process, with its gateway, and counts every request that reaches
the moto server (each one is an AWS API call that the deployed stack would make). One job of
`demo:echo` with one dependent goes through `POST /jobs` and runs to the end; the calls from the
POST to the dependent's close are counted, and shown as a timeline with the job's own timestamps.

    .venv/bin/python bench/calls.py [--write docs/performance.md]
"""

from __future__ import annotations

import argparse
import collections
import logging
import re
import threading
import time
from pathlib import Path
from typing import Any

from moto.moto_server.werkzeug_app import DomainDispatcherApplication
from report import heading, publish
from stack_http import session_with, wait_closed

from jobs_local.apigateway.gateway import Gateway
from jobs_local.lambda_.function_logs import USER_AGENT as LAMBDA_LOGS
from jobs_local.stack import LocalStack
from jobsys.models import parse_iso

INTRO = """
Every request that reaches the local stack's moto server is an AWS API call that the deployed
stack makes too. `bench/calls.py` counts them for one job of `demo:echo` with one dependent, from
its `POST /jobs` to the dependent's close, and lays them out on a timeline next to the jobs' own
timestamps. API Gateway's calls to the functions are not AWS API calls of ours and are not counted,
nor are Lambda's writes of the functions' log lines; Step Functions' calls to Lambda (`Invoke`) are.
"""

_SCOPE = re.compile(r"Credential=[^/]+/[^/]+/[^/]+/([^/]+)/")


_KEY = re.compile(r"Credential=([^/]+)/")
COMMAND = "command"  # the parent's command in the path: a step, and no call


class CallLog:
    """What the moto server was asked, and when: (start, seconds, service, action, access key)."""

    def __init__(self) -> None:
        self.calls: list[tuple[float, float, str, str, str]] = []
        self.lock = threading.Lock()

    def install(self) -> None:
        original = DomainDispatcherApplication.__call__
        log = self

        def __call__(app: DomainDispatcherApplication, environ: dict[str, Any], start_response: Any) -> Any:
            at = time.time()
            try:
                return original(app, environ, start_response)
            finally:
                # Lambda's own writes of the functions' log lines are not the stack's calls.
                if LAMBDA_LOGS not in environ.get("HTTP_USER_AGENT", ""):
                    service, action = _what(environ)
                    key = _KEY.search(environ.get("HTTP_AUTHORIZATION", ""))
                    with log.lock:
                        log.calls.append((at, time.time() - at, service, action, key.group(1) if key else ""))

        DomainDispatcherApplication.__call__ = __call__  # type: ignore[method-assign]

    def between(self, start: float, end: float) -> list[tuple[float, float, str, str, str]]:
        with self.lock:
            return [call for call in self.calls if start <= call[0] <= end]


def _what(environ: dict[str, Any]) -> tuple[str, str]:
    found = _SCOPE.search(environ.get("HTTP_AUTHORIZATION", ""))
    service = found.group(1) if found else "moto-api"
    target = environ.get("HTTP_X_AMZ_TARGET")
    if target:
        return service, target.rsplit(".", 1)[-1]
    path = environ.get("PATH_INFO", "")
    if service == "lambda":
        return service, "Invoke" if path.endswith("/invocations") else f"{environ['REQUEST_METHOD']} {path}"
    if service == "s3":
        method = environ["REQUEST_METHOD"]
        return service, {"PUT": "PutObject", "GET": "GetObject", "HEAD": "HeadObject"}.get(method, method)
    return service, f"{environ['REQUEST_METHOD']} {path}"


def sequential_steps(calls: list[tuple[float, float, str, str, str]]) -> list[list[tuple[float, float, str, str, str]]]:
    """The calls in steps, in time: a call that starts after every call of the step before has
    ended waited for it, and starts a step; one that starts while the step's calls run is beside them.
    A Lambda `Invoke` lasts as long as the function it runs, whose own calls are the steps after it:
    it counts as a step of no length."""
    steps: list[list[tuple[float, float, str, str, str]]] = []
    step_end = float("-inf")
    for call in sorted(calls):
        length = 0.0 if call[3] == "Invoke" else call[1]
        if call[0] >= step_end:
            steps.append([call])
            step_end = call[0] + length
        else:
            steps[-1].append(call)
            step_end = max(step_end, call[0] + length)
    return steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", type=Path, help="append the figures to this Markdown file")
    args = parser.parse_args()
    logging.disable(logging.ERROR)
    calls = CallLog()
    calls.install()
    with LocalStack(stack_name="bench-calls") as stack:
        token = stack.back_office_token("bench-token-1234")
        gateway = Gateway(stack.routes, stack.call_function, 0).start()
        url = f"http://127.0.0.1:{gateway.port}"
        session = session_with(token)
        body = {"command": "demo:echo", "params": ["parent"], "depending_jobs": [{"command": "demo:echo"}]}
        for _ in range(2):  # the first warms the workers up; the second is measured
            posted = time.time()
            job = session.post(f"{url}/jobs", json=body, timeout=30).json()
            answered = time.time()
            # No polling while the pair runs: every call counted is the jobs' own. An idle stack
            # runs both in well under a second; the records say whether they ended meanwhile.
            time.sleep(3)
            parent = wait_closed(session, url, job["id"])
            child = wait_closed(session, url, parent["dependents"][0])
        # Up to a second after the dependent's close, for its closing write (the GETs above came later).
        end = parse_iso(child["closed_at"]).timestamp()
        # What follows the changes (the stream's reads, the events, the usage) is made with
        # JobEventsFunction's role, beside the jobs' path: counted in the total, not in the path.
        follower = stack.client("lambda").get_function_configuration(
            FunctionName=stack.physical_id("JobEventsFunction")
        )["Role"]
        following = {keys.access_key_id for (role, _), keys in stack.roles.sessions.items() if role == follower}
        seen = calls.between(posted, end + 1.0)
        gateway.stop()

    marks = {
        "POST /jobs sent": posted,
        "POST /jobs answered": answered,
        "parent created_at": parse_iso(parent["created_at"]).timestamp(),
        "parent started_at": parse_iso(parent["started_at"]).timestamp(),
        "parent closed_at": parse_iso(parent["closed_at"]).timestamp(),
        "dependent started_at": parse_iso(child["started_at"]).timestamp(),
        "dependent closed_at": end,
    }
    by_service = collections.Counter((c[2], c[3]) for c in seen)
    dependent_started = marks["dependent started_at"]
    own = [c for c in seen if c[4] not in following]
    # Up to the dependent's running write, which starts just after the time it records.
    started_write = min((c for c in own if c[0] >= dependent_started and c[3] == "UpdateItem"), key=lambda c: c[0])
    path = [c for c in own if c[0] <= dependent_started or c is started_write]
    # The parent's command runs between its running write and its output's saves: a step of the
    # path that is no AWS call. What the runner calls while it runs (the log stream made, its lines
    # sent) is beside it, and waits for nothing.
    running = min(
        (c for c in path if c[3] == "UpdateItem" and c[0] >= marks["parent started_at"] - 0.005), key=lambda c: c[0]
    )  # the running write: the command starts when it has returned
    command = (running[0] + running[1], parent["runtime"], "(the parent's command", "runs)", COMMAND)
    steps = sequential_steps([*path, command])
    calls_in_steps = [step for step in steps if not any(c[4] == COMMAND for c in step)]
    parent_calls = [c for c in seen if c[0] <= marks["parent closed_at"] and c[4] not in following]
    lines = [
        heading("a job with one dependent"),
        "",
        "Command: `.venv/bin/python bench/calls.py`",
        "",
        "| service | action | calls |",
        "| --- | --- | --- |",
        *[f"| {service} | {action} | {n} |" for (service, action), n in sorted(by_service.items())],
        "",
        f"{len(seen)} calls in all for the two jobs, {len(seen) - sum(c[4] in following for c in seen)} of them on the"
        f" jobs' own path; {len(parent_calls)} up to the parent's close.",
        "",
        f"**Sequential calls from `POST /jobs` to the dependent's start: {len(calls_in_steps)}** (a call"
        " that began before the one before it ended is side by side, not a step; the parent's command"
        " is a step of its own, and the calls made while it runs are beside it):",
        "",
        *[
            f"{n}. {' ‖ '.join(f'{c[2]}.{c[3]}' if c[4] != COMMAND else f'{c[2]} {c[3]}' for c in step)}"
            for n, step in enumerate(steps, 1)
        ],
        "",
        "Timeline (ms from the POST; a call's start and its duration in moto):",
        "",
        "```",
    ]
    events = [(at, f"{name}") for name, at in marks.items()]
    events += [
        (at, f"  {service}.{action} ({took * 1000:.1f} ms){' (follows the changes)' if key in following else ''}")
        for at, took, service, action, key in seen
    ]
    lines += [f"{(at - posted) * 1000:8.1f}  {what}" for at, what in sorted(events)]
    lines.append("```")
    publish(lines, args.write, "AWS calls per job (`bench/calls.py`)", INTRO)


if __name__ == "__main__":
    main()
