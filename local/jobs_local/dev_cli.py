"""`jobs-local`: what a developer runs beside `make run`, to use the SAM and AWS CLIs on the stack.

- `jobs-local env`: shell `export` lines: the stack's AWS endpoint, its administrator's keys, its
  region, the names of its table, bucket and state machine (and its executions' ARN prefix), and
  .venv/bin first on PATH, for its `sam` and `aws`.
  `eval "$(jobs-local env)"` makes `aws` and `sam` talk to the local stack.
- `jobs-local events [--definition KEY]`: the sample events that need the stack's own data, as
  `events/<function>.local.json`: a job recorded pending without its execution (`runner`, then
  `job_state` to end its run as the state machine would), and the token the authorizer allows.
- `jobs-local exec CMD...`: runs CMD with that environment (`make invoke` uses it).
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from pathlib import Path

from jobs_local.running_stack import RunningStack, StackUnreachable
from jobsys.errors import JobSystemError

ROOT = Path(__file__).resolve().parents[2]
EVENTS = ROOT / "events"


# Where `sam` and `aws` were installed with jobs-local (.venv/bin): a shell that has not activated
# the virtualenv finds them, and the versions the tests ran, before any other on its PATH.
TOOLS = str(Path(sys.executable).parent)


def _env(stack: RunningStack) -> int:
    for name, value in stack.environment().items():
        print(f"export {name}={shlex.quote(value)}")
    print(f'export PATH={shlex.quote(TOOLS)}:"$PATH"')
    return 0


def _exec(stack: RunningStack, argv: list[str]) -> int:
    if not argv:
        print("jobs-local exec: name a command to run", file=sys.stderr)
        return 2
    path = os.pathsep.join([TOOLS, os.environ.get("PATH", os.defpath)])
    os.execvpe(argv[0], argv, os.environ | stack.environment() | {"PATH": path})
    return 127  # not reached


def _events(stack: RunningStack, definition: str | None) -> int:
    from jobs_local.sample_events import SampleEvents  # the job system's models: only for this command

    written = SampleEvents(stack, EVENTS).write(definition)
    for path, what in written:
        print(f"{path.relative_to(ROOT)}: {what}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="jobs-local", description="The SAM and AWS CLIs on the local stack.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser("env", help="export lines for the local stack's endpoint, keys and resource names")
    events = commands.add_parser("events", help="write events/*.local.json for the running stack")
    events.add_argument("--definition", help="the configured job to record (default: the first on Lambda)")
    run = commands.add_parser("exec", help="run a command (sam, aws) against the local stack")
    run.add_argument("argv", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    try:
        stack = RunningStack.find()
        if args.command == "env":
            return _env(stack)
        if args.command == "events":
            return _events(stack, args.definition)
        return _exec(stack, args.argv)
    except StackUnreachable as exc:
        print(f"jobs-local: {exc}", file=sys.stderr)
        return 3
    except (LookupError, JobSystemError) as exc:  # an unknown definition, one on Fargate, a unique one running
        print(f"jobs-local: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
