"""`make fuzz`: schemathesis against a fresh local stack, with every check. The API must answer
as docs/openapi.json says: documented statuses and bodies, schema-valid requests accepted,
invalid ones refused, no 5xx. A failing run prints the seed that repeats it (`make fuzz SEED=n`)."""

from __future__ import annotations

import argparse
import random
import re
import subprocess
import sys
import time
from pathlib import Path

from jobs_local.process import StackProcess

ROOT = Path(__file__).resolve().parents[2]
MIN_CASES = 1000
MAX_EXAMPLES = 150  # per operation and phase: about 1,700 cases in about 3 min on 2 cores


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seed", type=int, default=None, help="repeat the run that printed this seed")
    parser.add_argument("--max-examples", type=int, default=MAX_EXAMPLES)
    args = parser.parse_args(argv)
    seed = args.seed if args.seed is not None else random.randrange(2**31)
    started = time.monotonic()
    with StackProcess(reset=True) as stack:
        run = subprocess.run(
            [
                str(Path(sys.executable).parent / "st"),
                "run",
                str(ROOT / "docs" / "openapi.json"),
                f"--url={stack.url}",
                f"--header=Authorization: Bearer {stack.token}",
                f"--max-examples={args.max_examples}",
                "--checks=all",
                f"--seed={seed}",
                "--no-color",
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
    report = run.stdout + run.stderr
    generated = re.search(r"(\d+) generated", report)
    cases = int(generated.group(1)) if generated else 0
    took = time.monotonic() - started
    if run.returncode != 0 or cases < MIN_CASES:
        print(report)
        why = f"only {cases} cases, fewer than {MIN_CASES}" if run.returncode == 0 else "failures above"
        print(f"make fuzz: FAILED ({why}) in {took:.0f} s; repeat it with: make fuzz SEED={seed}", file=sys.stderr)
        return 1
    print(f"make fuzz: {cases} generated cases, every check passed, in {took:.0f} s (seed {seed})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
