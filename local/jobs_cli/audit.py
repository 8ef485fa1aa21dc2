"""`jobs audit`: who did what, on what, when, and what came of it (the API's GET /audit, admin)."""

from __future__ import annotations

import argparse
import json
from typing import Any

from jobs_cli.client import ApiClient
from jobs_cli.tables import table
from jobs_cli.terminal import note


class AuditCommand:
    def __init__(self, client: ApiClient, as_json: bool):
        self.client = client
        self.as_json = as_json

    def __call__(self, args: argparse.Namespace) -> int:
        query = {
            "actor": args.actor, "action": args.audit_action, "since": args.since, "until": args.until,
            "limit": args.limit,
        }  # fmt: skip
        page = self.client.request("GET", "/audit", query=query)
        if self.as_json:
            print(json.dumps(page, indent=2))
            return 0
        rows = [
            [r["at"].replace("T", " ")[:19], r["actor"], r["action"], r["target"], r["outcome"][:70]]
            for r in page["items"]
        ]
        table(rows, ["AT (UTC)", "WHO", "ACTION", "ON", "OUTCOME"])
        if page.get("next_cursor"):
            note("(more: narrow with --actor/--action/--since or raise --limit)")
        return 0

    @staticmethod
    def add_parser(sub: Any) -> None:
        audit = sub.add_parser("audit", help="the audit log: who did what, newest first (admin)")
        audit.add_argument("--actor", help="only this person's actions")
        audit.add_argument("--action", dest="audit_action", help="only this action: start, cancel, replay, pause, ...")
        audit.add_argument("--since", help="a time (2026-12-24T18:00:00Z) or a duration before now ('24h')")
        audit.add_argument("--until", help="as --since")
        audit.add_argument("--limit", type=int, default=50)
