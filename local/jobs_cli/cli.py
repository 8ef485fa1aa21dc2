"""`jobs`: start, follow, list, cancel and clean up jobs from a terminal.

What a command wrote to stdout goes to stdout; what it wrote to stderr, and everything about the
jobs, to stderr. So `jobs logs ID > file` keeps just its output, and `jobs logs ID --stderr` shows
just its errors and warnings. The exit status says whether the followed jobs finished.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import tempfile
from typing import Any

from jobs_cli.audit import AuditCommand
from jobs_cli.bulk import BulkCommand
from jobs_cli.client import ApiClient, ApiError
from jobs_cli.follow import JobFollower
from jobs_cli.queues import QueueCommands
from jobs_cli.stats import StatsCommand
from jobs_cli.tables import table
from jobs_cli.terminal import STATE_COLOURS, duration, note, progress, shown, state
from jobsys.config import load_config
from jobsys.errors import ConfigError
from jobsys.spec.limits import CLEAN_UP_MAX_RETENTION, CLEAN_UP_PER_CALL

EXIT_OK, EXIT_JOB_FAILED, EXIT_USAGE, EXIT_UNREACHABLE = 0, 1, 2, 3
SHOW_FIRST = ("id", "label", "command", "params", "state")  # what says which job it is


class Commands:
    def __init__(self, client: ApiClient, as_json: bool, raw: bool = False):
        self.client = client
        self.as_json = as_json
        self.raw = raw
        self.follower = JobFollower(client, as_json, raw)

    def _print_json(self, value: Any) -> None:
        print(json.dumps(value, indent=2))

    def definitions(self, args: argparse.Namespace) -> int:
        items = self.client.request("GET", "/job-definitions")["items"]
        if self.as_json:
            self._print_json(items)
            return EXIT_OK
        rows: list[list[str]] = []

        def add(definition: dict[str, Any], depth: int) -> None:
            key = ("  " * (depth - 1) + "└ " if depth else "") + definition["key"]
            schedule = definition.get("schedule") or {}
            when = " ".join(f"{k} {v}" for k, v in schedule.items())
            rows.append(
                [
                    key,
                    definition["label"],
                    " ".join([definition["command"], *definition["params"]])[:50],
                    definition.get("queue", "default"),
                    when,
                    (definition.get("next_run_at") or "").replace("T", " ")[:19],
                ]
            )
            for child in definition["depending_jobs"]:
                add(child, depth + 1)

        for definition in items:
            add(definition, 0)
        table(rows, ["KEY", "LABEL", "COMMAND", "QUEUE", "SCHEDULE", "NEXT RUN (UTC)"])
        return EXIT_OK

    @staticmethod
    def _options(args: argparse.Namespace) -> dict[str, Any]:
        """--set, --queue, --priority, --at and --in, as the API takes them; the API checks them."""
        options = {
            "queue": args.queue, "priority": args.priority, "run_at": args.at, "delay": args.delay,
            "tags": args.tags or None,
        }  # fmt: skip
        return {**_settings(args.settings), **{k: v for k, v in options.items() if v is not None}}

    def start(self, args: argparse.Namespace) -> int:
        job = self.client.request("POST", f"/job-definitions/{args.key}/start", self._options(args) or None)
        return self._started(job, args.follow)

    def run(self, args: argparse.Namespace) -> int:
        body: dict[str, Any] = {"command": args.command_name, "params": args.params, **self._options(args)}
        job = self.client.request("POST", "/jobs", body)
        return self._started(job, args.follow)

    def _started(self, job: dict[str, Any], follow: bool) -> int:
        if not follow:
            if self.as_json:
                self._print_json(job)
            else:
                print(job["id"])
                later = f", starts at {job['run_at']}" if job.get("run_at") else ""
                note(f"started {job['id']} {job['label']} ({state(job['state'])}, queue {job.get('queue')}{later})")
            return EXIT_OK
        return EXIT_OK if self.follower.follow(job["id"]) else EXIT_JOB_FAILED

    def list(self, args: argparse.Namespace) -> int:
        page = self.client.request(
            "GET",
            "/jobs",
            query={
                "state": args.state,
                "command": args.command_filter,
                "queue": args.queue,
                "tag": args.tag,
                "param": args.param,
                "limit": args.limit,
            },
        )
        if self.as_json:
            self._print_json(page)
            return EXIT_OK
        rows = [
            [
                j["id"],
                j["state"] + (f" {j['attempt']}/{j['retries']['max_attempts']}" if j.get("attempt", 1) > 1 else ""),
                shown(j["label"], self.raw),
                j.get("queue", "default"),
                shown(" ".join([j["command"], *j["params"]])[:60], self.raw),
                j["created_at"].replace("T", " ")[:19],
                duration(j),
                "" if j.get("exit_code") is None else str(j["exit_code"]),
            ]
            for j in page["items"]
        ]
        table(rows, ["ID", "STATE", "LABEL", "QUEUE", "COMMAND", "CREATED (UTC)", "DURATION", "EXIT"])
        if page.get("next_cursor"):
            note("(more: narrow with --state/--command/--tag/--param or raise --limit)")
        return EXIT_OK

    def show(self, args: argparse.Namespace) -> int:
        job = self.client.request("GET", f"/jobs/{args.id}")
        if self.as_json:
            self._print_json(job)
            return EXIT_OK
        # Every field the API gives, in its order (a new setting shows with no change here), those that
        # say which job it is first; of the rest, only those with a value.
        running = job["state"] == "running"
        for key in [*SHOW_FIRST, *(key for key in job if key not in SHOW_FIRST)]:
            if key not in SHOW_FIRST and job.get(key) in (None, [], {}, ""):
                continue
            if key == "progress":
                if (running and job.get("expected_end_at")) or job.get("progress"):
                    print(f"{key:<14} {progress(job) if running else progress({'progress': job['progress']})}")
                continue
            if key in ("canceled_by", "expected_end_at") and (not job.get(key) or running):
                continue  # a running job's expected end is on its progress line
            value = job.get(key)
            if isinstance(value, list):
                value = " ".join(value) or "-"
            elif isinstance(value, dict):
                value = ", ".join(f"{name} {inner}" for name, inner in value.items() if inner is not None)
            print(f"{key:<14} {state(value) if key == 'state' else ('-' if value is None else shown(value, self.raw))}")
        return EXIT_OK

    def logs(self, args: argparse.Namespace) -> int:
        for page in self.follower.output(args.id, "stderr" if args.stderr else None):
            if not args.follow and not page["advanced"]:  # all that it printed so far
                break
        return EXIT_OK

    def cancel(self, args: argparse.Namespace) -> int:
        job = self.client.request("POST", f"/jobs/{args.id}/cancel")
        if self.as_json:
            self._print_json(job)
        else:
            note(f"{job['id']} {state(job['state'])}")
        return EXIT_OK

    def replay(self, args: argparse.Namespace) -> int:
        body: dict[str, Any] = {**self._options(args)}
        if args.edit:
            original = self.client.request("GET", f"/jobs/{args.id}")
            body["params"] = edited_params(original["params"])
        elif args.params:
            body["params"] = args.params
        job = self.client.request("POST", f"/jobs/{args.id}/replay", body)
        if not args.follow and not self.as_json:
            note(f"{job['id']} replays {args.id}")
        return self._started(job, args.follow)

    def whoami(self, args: argparse.Namespace) -> int:
        me = self.client.request("GET", "/me")
        if self.as_json:
            self._print_json(me)
        else:
            print(f"{me['name']} ({me['role']})" if me.get("role") else f"{me['name']} (IAM decides)")
        return EXIT_OK

    def queue(self, args: argparse.Namespace) -> int:
        return QueueCommands(self.client, self.as_json)(args)

    def bulk(self, args: argparse.Namespace) -> int:
        return BulkCommand(self.client, self.as_json)(args)

    def audit(self, args: argparse.Namespace) -> int:
        return AuditCommand(self.client, self.as_json)(args)

    def stats(self, args: argparse.Namespace) -> int:
        return StatsCommand(self.client, self.as_json)(args)

    def clean_up(self, args: argparse.Namespace) -> int:
        body = {"per_call": args.per_call, "max_retention": args.max_retention}
        if args.max_retention_succeeded:
            body["max_retention_succeeded"] = args.max_retention_succeeded
        report = self.client.request("POST", "/clean-up", body)
        if self.as_json:
            self._print_json(report)
            return EXIT_OK
        print(
            f"deleted {len(report['deleted'])} job(s)"
            + (": " + " ".join(report["deleted"]) if report["deleted"] else "")
        )
        if report["kept_for_open_dependents"]:
            print(
                f"kept {len(report['kept_for_open_dependents'])} job(s) whose run goes on"
                " (a dependent or a next attempt open)"
            )
        if report.get("errors"):
            print(f"could not handle {len(report['errors'])} job(s) this time (see the function's log)")
        if report["marked_incomplete"]:
            print(f"marked {len(report['marked_incomplete'])} job(s) incomplete: their execution had died")
        return EXIT_OK


def edited_params(params: list[str]) -> list[str]:
    """The params as the user left them in $VISUAL or $EDITOR, one a line (run from an argv list)."""
    editor = shlex.split(os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi")
    with tempfile.NamedTemporaryFile("w+", suffix=".params", encoding="utf-8") as file:
        file.write("".join(f"{param}\n" for param in params))
        file.flush()
        subprocess.run([*editor, file.name], check=True)
        with open(file.name, encoding="utf-8") as edited:
            return edited.read().splitlines()


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="jobs", description="Start and follow jobs of the job system.")
    root.add_argument("--url", help="API URL (default: $JOBS_URL, else the local stack that `make run` started)")
    root.add_argument("--token", help="the local stack's token (default: $JOBS_TOKEN, else found with the stack)")
    root.add_argument("--json", action="store_true", help="machine-readable output")
    root.add_argument(
        "--raw",
        action="store_true",
        help="a job's output and fields as they are, control characters included"
        " (on a terminal they are shown escaped, e.g. \\x1b; pipes and files always get them as they are)",
    )
    sub = root.add_subparsers(dest="action", required=True, metavar="COMMAND")

    sub.add_parser("definitions", help="list the configured jobs")
    sub.add_parser("whoami", help="whom the token names, and the role it has")
    start = sub.add_parser("start", help="start a configured job")
    start.add_argument("key")
    start.add_argument("--follow", "-f", action="store_true", help="stream its output, then its dependents'")
    run = sub.add_parser("run", help="start an allowed command (put -- before params that start with -)")
    run.add_argument("command_name", metavar="COMMAND")
    run.add_argument("params", nargs="*", metavar="PARAMS")
    run.add_argument("--follow", "-f", action="store_true", help="stream its output, then its dependents'")
    replay = sub.add_parser("replay", help="start a closed job again, with its params edited")
    replay.add_argument("id")
    replay.add_argument("params", nargs="*", metavar="PARAMS", help="its new params (default: the job's own)")
    replay.add_argument("--edit", action="store_true", help="edit its params in $EDITOR, one a line")
    replay.add_argument("--follow", "-f", action="store_true", help="stream its output, then its dependents'")
    for starting in (start, run, replay):
        starting.add_argument("--queue", help="run in this queue (default: the job's)")
        starting.add_argument("--priority", type=int, help="-1000 to 1000: higher starts first in its queue")
        starting.add_argument(
            "--tag", dest="tags", action="append", default=[], help="a tag to find it by, besides its definition's"
        )
        starting.add_argument(
            "--set",
            dest="settings",
            action="append",
            default=[],
            metavar="NAME=VALUE",
            help="any setting of the job, as the API takes it (GET /job-definitions names them);"
            " a JSON value or a string: --set runner=fargate --set 'retries={\"max_attempts\": 3}'",
        )
        when = starting.add_mutually_exclusive_group()
        when.add_argument("--at", metavar="TIME", help="start at this ISO time, e.g. 2026-12-24T18:00:00Z")
        when.add_argument("--in", dest="delay", metavar="DURATION", help="start after this long, e.g. '10 min'")
    listing = sub.add_parser("list", help="the newest jobs")
    listing.add_argument("--state", choices=list(STATE_COLOURS))
    listing.add_argument("--command", dest="command_filter", metavar="COMMAND")
    listing.add_argument("--queue")
    listing.add_argument("--tag", help="only the jobs that carry this tag")
    listing.add_argument("--param", help="only the jobs that have this value as a param")
    listing.add_argument("--limit", type=int, default=30)
    show = sub.add_parser("show", help="every field of one job")
    show.add_argument("id")
    logs = sub.add_parser("logs", help="a job's output")
    logs.add_argument("id")
    logs.add_argument("--follow", "-f", action="store_true", help="keep reading until the job ends")
    logs.add_argument("--stderr", action="store_true", help="only the lines the command wrote to stderr")
    cancel = sub.add_parser("cancel", help="cancel a pending or running job")
    cancel.add_argument("id")
    clean = sub.add_parser("clean-up", help="delete old closed jobs now")
    clean.add_argument("--per-call", type=int, default=CLEAN_UP_PER_CALL)
    clean.add_argument("--max-retention", default=CLEAN_UP_MAX_RETENTION)
    clean.add_argument("--max-retention-succeeded")
    QueueCommands.add_parser(sub)
    StatsCommand.add_parser(sub)
    AuditCommand.add_parser(sub)
    BulkCommand.add_parser(sub)
    config = sub.add_parser("config", help="check a jobs.yaml before it is deployed (needs no stack)")
    config_sub = config.add_subparsers(dest="config_action", required=True, metavar="ACTION")
    check = config_sub.add_parser("check", help="exit 0 if PATH is a valid jobs.yaml; else 2, with every error")
    check.add_argument("path", metavar="PATH")
    return root


def check_config(path: str) -> int:
    """`jobs config check PATH`: what a deploy would load, checked here, for a user's own CI."""
    try:
        config = load_config(path)
    except ConfigError as error:
        for line in str(error).splitlines():
            print(line, file=sys.stderr)
        return EXIT_USAGE
    scheduled = sum(1 for definition in config.definitions.values() if definition.schedule is not None)
    limited = sum(1 for queue in config.queues.values() if queue.concurrency is not None)
    print(
        f"{path}: OK: {len(config.definitions)} jobs ({scheduled} scheduled), "
        f"{len(config.commands)} commands allowed, {limited} limited queues"
    )
    return 0


def parse(argv: list[str]) -> argparse.Namespace:
    """Everything after `--` is a param of `jobs run`, even if it looks like an option."""
    extra: list[str] = []
    if "--" in argv:
        cut = argv.index("--")
        argv, extra = argv[:cut], argv[cut + 1 :]
    the_parser = parser()
    args = the_parser.parse_args(argv)
    if extra:
        if args.action != "run":
            the_parser.error("only `jobs run` takes params after --")
        args.params += extra
    return args


def _settings(given: list[str]) -> dict[str, Any]:
    """`--set NAME=VALUE`s: the CLI keeps no list of a job's settings; the API says which it takes."""
    settings: dict[str, Any] = {}
    for setting in given:
        name, equals, value = setting.partition("=")
        if not equals or not name:
            raise SystemExit(f"jobs: --set {setting!r}: expected NAME=VALUE")
        try:
            settings[name] = json.loads(value)
        except ValueError:
            settings[name] = value  # a string, unquoted: --set queue=imports
    return settings


def main(argv: list[str] | None = None) -> int:
    args = parse(list(sys.argv[1:] if argv is None else argv))
    if args.action == "config":  # offline: no API, no stack
        return check_config(args.path)
    try:
        commands = Commands(ApiClient.from_environment(args.url, args.token), args.json, args.raw)
        return getattr(commands, args.action.replace("-", "_"))(args)
    except ApiError as error:
        print(f"jobs: {error}", file=sys.stderr)
        return EXIT_UNREACHABLE if error.status == 0 else EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `jobs show ID | head`: the reader has what it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141


if __name__ == "__main__":
    sys.exit(main())
