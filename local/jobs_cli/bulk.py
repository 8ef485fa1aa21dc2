"""`jobs bulk retry|cancel|delete --state failed --since 24h [--dry-run]`: act on the jobs of a
filter. Without --dry-run it counts them first, shows the count and the newest, and asks before it
starts (--yes does not ask); the API refuses the action if more jobs match by then.
`jobs bulk list|show|stop|resume` follow the actions."""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

from jobs_cli.client import ApiClient
from jobs_cli.tables import table
from jobs_cli.terminal import note, state

VERBS = ("retry", "cancel", "delete")
FILTERS = ("state", "definition", "command", "queue", "since", "until", "tag", "param")


def progress_line(action: dict[str, Any]) -> str:
    return (
        f"bulk {action['action']} {action['id']}: {action['state']}, {action['done']} done,"
        f" {action['skipped']} skipped of {action['count']}"
    )


class BulkCommand:
    def __init__(self, client: ApiClient, as_json: bool):
        self.client = client
        self.as_json = as_json

    def __call__(self, args: argparse.Namespace) -> int:
        if args.bulk_action in VERBS:
            return self._act(args)
        if args.bulk_action == "list":
            actions = self.client.request("GET", "/bulk-actions", query={"limit": 20})["items"]
            if self.as_json:
                print(json.dumps(actions, indent=2))
                return 0
            rows = [
                [a["id"], a["action"], a["state"], f"{a['done']}/{a['count']}", str(a["skipped"]), a["created_by"]]
                for a in actions
            ]
            table(rows, ["ID", "ACTION", "STATE", "DONE", "SKIPPED", "BY"])
            return 0
        if not args.id:
            note(f"jobs bulk {args.bulk_action} needs the action's id")
            return 2
        if args.bulk_action == "show":
            action = self.client.request("GET", f"/bulk-actions/{args.id}")
        else:
            action = self.client.request("POST", f"/bulk-actions/{args.id}/{args.bulk_action}")
        return self._shown(action, args.follow)

    def _act(self, args: argparse.Namespace) -> int:
        found_by = {name: getattr(args, name) for name in FILTERS if getattr(args, name) is not None}
        body: dict[str, Any] = {"action": args.bulk_action, "filter": found_by}
        counted = self.client.request("POST", "/bulk-actions", {**body, "dry_run": True})
        if self.as_json and args.dry_run:
            print(json.dumps(counted, indent=2))
            return 0
        if not self.as_json:
            note(f"{counted['count']} job(s) match; the newest:")
            for job in counted["sample"][:10]:
                note(f"  {job['id']} {state(job['state'])} {job['label']} {' '.join(job['params'])[:50]}")
        if args.dry_run:
            return 0
        if counted["count"] == 0:
            note("nothing to do")
            return 0
        if not args.yes and not _confirmed(f"{args.bulk_action} {counted['count']} job(s)? [y/N] "):
            note("nothing done")
            return 1
        action = self.client.request("POST", "/bulk-actions", {**body, "expect_count": counted["count"]})
        return self._shown(action, args.follow)

    def _shown(self, action: dict[str, Any], follow: bool) -> int:
        while follow and action["state"] in ("running", "stopping"):
            if not self.as_json:
                note(progress_line(action))
            time.sleep(2)
            action = self.client.request("GET", f"/bulk-actions/{action['id']}")
        if self.as_json:
            print(json.dumps(action, indent=2))
        else:
            print(action["id"])
            note(progress_line(action) + (f" ({action['reason']})" if action.get("reason") else ""))
        return 0

    @staticmethod
    def add_parser(sub: Any) -> None:
        bulk = sub.add_parser("bulk", help="retry, cancel or delete the jobs of a filter; follow bulk actions")
        bulk.add_argument("bulk_action", choices=[*VERBS, "list", "show", "stop", "resume"], metavar="ACTION",
                          help="retry, cancel or delete; or list, show ID, stop ID, resume ID")  # fmt: skip
        bulk.add_argument("id", nargs="?", help="the bulk action's id (show, stop, resume)")
        bulk.add_argument("--state")
        bulk.add_argument("--definition")
        bulk.add_argument("--command")
        bulk.add_argument("--queue")
        bulk.add_argument("--since", help="created since: a time, or a duration before now ('24h')")
        bulk.add_argument("--until", help="created until: as --since")
        bulk.add_argument("--tag")
        bulk.add_argument("--param", help="jobs with this value as a param")
        bulk.add_argument("--dry-run", action="store_true", help="only count the jobs, and show the newest")
        bulk.add_argument("--yes", "-y", action="store_true", help="start without asking")
        bulk.add_argument("--follow", "-f", action="store_true", help="show its progress until it ends")


def _confirmed(question: str) -> bool:
    if not sys.stdin.isatty():
        return False  # nobody to ask: --yes says it
    return input(question).strip().lower() in ("y", "yes")
