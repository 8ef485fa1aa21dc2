"""`make fuzz`: schemathesis against a fresh local stack, with every check. The API must answer
as docs/openapi.json says: documented statuses and bodies, schema-valid requests accepted,
invalid ones refused, no 5xx. Then bodies that no schema describes (tools.hostile_bodies):
not UTF-8, nested deep, ... each refused with a 4xx in JSON. A failing run prints the seed that
repeats it (`make fuzz SEED=n`)."""

from __future__ import annotations

import argparse
import random
import re
import secrets
import subprocess
import sys
import time
from pathlib import Path

from jobs_local.apigateway.gateway import INTEGRATION_TIMEOUT
from jobs_local.process import StackProcess
from tools.hostile_bodies import send_hostile_bodies

ROOT = Path(__file__).resolve().parents[1]
MIN_CASES = 1000
# Per operation, in the fuzzing and stateful phases (the coverage phase's boundary values do not
# depend on it). At 150 the fuzzing phase took 149 of the admin's 183 s (2,678 cases, 257 CPU-s in
# all, seed 174894862); at 25, with 21 operations, the fuzz made 3,828 cases in 171 CPU-s; at 15,
# with the viewer's run as below, 1,981 in 127 (seed 548290693, `/usr/bin/time python -m tools.fuzz`).
# A deeper run: `make fuzz EXAMPLES=500`.
MAX_EXAMPLES = 15
ALL_PHASES = "examples,coverage,fuzzing,stateful"
# The viewer's run: a 403 for each write whatever its body, so the coverage phase's boundary values
# (half of a run's cases, the same 403s) and the stateful phase (which creates nothing) show nothing
# the fuzzing phase's cases do not: each answer to a viewer, a 403 included, is documented.
VIEWER_EXAMPLES = 10  # per operation, in the fuzzing phase
VIEWER_PHASES = "examples,fuzzing"
HOSTILE_PER_KIND = 10  # per operation: 330 bodies that no schema describes (tools.hostile_bodies)
STACK_START_TIMEOUT = 600  # seconds; the stack prints its banner when it is up


def st_arguments(url: str, token: str, seed: int, max_examples: int, phases: str = ALL_PHASES) -> list[str]:
    """schemathesis' command line. Every check runs by default; naming them (`--checks=all`) would
    also run those that schemathesis.toml turns off for an operation, its reasons given there."""
    return [
        str(Path(sys.executable).parent / "st"),
        "run",
        str(ROOT / "docs" / "openapi.json"),
        f"--url={url}",
        f"--header=Authorization: Bearer {token}",
        f"--max-examples={max_examples}",
        f"--phases={phases}",
        f"--seed={seed}",
        "--no-color",
        # Two at once: one at a time the CPUs idled while each answer came (56 s against 42 s).
        "--workers=2",
        # API Gateway's own limit, not schemathesis' 10 s, both to wait for an answer and to
        # fail a slow one: beside the other suites (make test) the fuzz runs at a lower CPU
        # priority, and an answer may wait for a CPU. Speed is measured in bench/, not here.
        f"--request-timeout={INTEGRATION_TIMEOUT:g}",
        f"--max-response-time={INTEGRATION_TIMEOUT:g}",
    ]


def _schemathesis(
    url: str, token: str, seed: int, max_examples: int, phases: str = ALL_PHASES
) -> subprocess.CompletedProcess[str]:
    arguments = st_arguments(url, token, seed, max_examples, phases)
    return subprocess.run(arguments, cwd=ROOT, capture_output=True, text=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seed", type=int, default=None, help="repeat the run that printed this seed")
    parser.add_argument("--max-examples", type=int, default=MAX_EXAMPLES)
    args = parser.parse_args(argv)
    seed = args.seed if args.seed is not None else random.randrange(2**31)
    started = time.monotonic()
    # An admin (no role given) and a viewer: every answer to either, a 403 included, is documented.
    admin, viewer = secrets.token_hex(20), secrets.token_hex(20)
    stack = StackProcess(reset=True, token=f"fuzz:{admin},fuzz-viewer:{viewer}:viewer")
    # Under make test the fuzz runs at a lower priority beside the integration tests, and its stack
    # gets the CPU only when they leave it: a start that takes 5 s alone may take minutes there.
    stack.start(timeout=STACK_START_TIMEOUT)
    try:
        runs = [_schemathesis(stack.url, admin, seed, args.max_examples)]
        runs.append(_schemathesis(stack.url, viewer, seed, VIEWER_EXAMPLES, VIEWER_PHASES))
        hostile, refused_badly = send_hostile_bodies(stack.url, admin, seed, HOSTILE_PER_KIND)
    finally:
        stack.stop()
    report = "\n".join(run.stdout + run.stderr for run in runs)
    cases = sum(int(found) for found in re.findall(r"(\d+) generated", report))
    took = time.monotonic() - started
    failed = any(run.returncode != 0 for run in runs)
    if failed or cases < MIN_CASES or refused_badly:
        print(report)
        for failure in refused_badly:
            print(f"hostile body: {failure}")
        why = "failures above" if failed or refused_badly else f"only {cases} cases, fewer than {MIN_CASES}"
        print(f"make fuzz: FAILED ({why}) in {took:.0f} s; repeat it with: make fuzz SEED={seed}", file=sys.stderr)
        return 1
    print(
        f"make fuzz: {cases} generated cases, every check passed, and {hostile} hostile bodies"
        f" (not UTF-8, nested up to 200,000 deep, ...), each refused with a 4xx in JSON or accepted,"
        f" in {took:.0f} s (seed {seed})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
