"""`jobs queue list|pause|resume`: the queues, and holding one back before a maintenance."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any
from urllib.parse import quote

from jobs_cli.client import ApiClient
from jobs_cli.tables import table


def _paused(queue: dict[str, Any]) -> str:
    return f"paused by {queue['paused_by']} at {queue['paused_at']}" if queue["paused"] else ""


class QueueCommands:
    def __init__(self, client: ApiClient, as_json: bool):
        self.client = client
        self.as_json = as_json

    def __call__(self, args: argparse.Namespace) -> int:
        if args.queue_action == "list":
            queues = self.client.request("GET", "/queues")["items"]
            if self.as_json:
                print(json.dumps(queues, indent=2))
            else:
                rows = [[q["name"], str(q["concurrency"] or "-"), str(q["running"]), _paused(q)] for q in queues]
                table(rows, ["QUEUE", "LIMIT", "RUNNING", "PAUSED"])
            return 0
        queue = self.client.request("POST", f"/queues/{quote(args.name, safe='')}/{args.queue_action}")
        if self.as_json:
            print(json.dumps(queue, indent=2))
        elif queue["paused"]:
            print(f"queue {queue['name']} is {_paused(queue)}: none of its jobs starts", file=sys.stderr)
        else:
            print(f"queue {queue['name']} runs: its waiting jobs start in its order", file=sys.stderr)
        return 0

    @staticmethod
    def add_parser(sub: Any) -> None:
        queue = sub.add_parser("queue", help="list the queues, or pause or resume one")
        actions = queue.add_subparsers(dest="queue_action", required=True, metavar="ACTION")
        actions.add_parser("list", help="each queue, its limit, its running jobs, and whether it is paused")
        for action, says in (
            ("pause", "no job of the queue starts until it is resumed; running jobs go on"),
            ("resume", "the queue's waiting jobs start, in its order"),
        ):
            actions.add_parser(action, help=says).add_argument("name", metavar="NAME")
