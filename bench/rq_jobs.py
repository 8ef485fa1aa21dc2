"""What the RQ workers of bench/vs_rq.py run: the command, as a process, as the job system's runner does."""

import subprocess


def run(argv: list[str]) -> int:
    return subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, check=True).returncode
