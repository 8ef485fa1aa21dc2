"""`jobs stats KEY` (or `--command NAME`): how a definition's last runs went, and what they cost."""

from __future__ import annotations

import argparse
import json
import math
from typing import Any
from urllib.parse import urlencode

from jobs_cli.client import ApiClient


def dollars(value: float) -> str:
    """As the page writes them: cents from a cent up, else two significant digits."""
    if value >= 0.01:
        return f"${value:.2f}"
    if value < 0.000001:
        return "< $0.000001"
    rounded = float(f"{value:.2g}")  # first: 0.0000999 is $0.00010, not $0.000100
    return f"${rounded:.{1 - math.floor(math.log10(rounded))}f}"


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} s"


def cost_line(cost: dict[str, Any]) -> str:
    """`≈ $0.00014 a run · $0.0042 in 30 days`, with what it counts; the page's line and title."""
    if not cost["runs"]:
        return "cost: no runs in the last 30 days"
    runs = "1 run" if cost["runs"] == 1 else f"{cost['runs']} runs"
    days = "today" if cost["days"] == 1 else f"in the last {cost['days']} days"
    return (
        f"≈ {dollars(cost['per_run'])} a run · {dollars(cost['in_30_days'])} in 30 days"
        f" ({runs} {days}, at {cost['region']}'s AWS prices of {cost['prices_as_of']})"
    )


class StatsCommand:
    def __init__(self, client: ApiClient, as_json: bool):
        self.client = client
        self.as_json = as_json

    def __call__(self, args: argparse.Namespace) -> int:
        subject = {"command": args.command_name} if args.command_name else {"definition": args.key}
        stats = self.client.request("GET", "/stats?" + urlencode({**subject, "runs": args.runs}))
        if self.as_json:
            print(json.dumps(stats, indent=2))
            return 0
        facts = ["1 run" if stats["runs"] == 1 else f"{stats['runs']} runs"]
        if stats["success_rate"] is not None:
            facts.append(f"{round(stats['success_rate'] * 100)} % succeed")
        if stats["runtime"]["p50"] is not None:
            facts += [f"p50 {_seconds(stats['runtime']['p50'])}", f"p95 {_seconds(stats['runtime']['p95'])}"]
        if stats["peak_memory_mb"]["max"] is not None:
            facts.append(f"peak {round(stats['peak_memory_mb']['max'])} MB")
        print(f"{args.command_name or args.key}: {' · '.join(facts)}")
        print(cost_line(stats["cost"]))
        return 0

    @staticmethod
    def add_parser(sub: Any) -> None:
        stats = sub.add_parser("stats", help="a definition's (or a command's) last runs, and what they cost on AWS")
        which = stats.add_mutually_exclusive_group(required=True)
        which.add_argument("key", nargs="?", metavar="KEY", help="a configured job's key")
        which.add_argument("--command", dest="command_name", metavar="NAME", help="a command, ad-hoc jobs too")
        stats.add_argument("--runs", type=int, default=50, help="how many of the last runs (1 to 500)")
