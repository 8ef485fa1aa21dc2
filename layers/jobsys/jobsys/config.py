"""Loads `jobs.yaml`: the allow-list of commands and the back-office job definitions.

Everything is checked at load time, so a bad file fails when it is deployed or the stack
starts, naming the file, the key and the reason, and never later when a user clicks Start.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from jobsys.console.registry import CONSOLE_COMMANDS
from jobsys.durations import parse_duration
from jobsys.errors import CommandNotAllowed, ConfigError, DefinitionNotFound, InvalidRequest, Unprocessable
from jobsys.models import (
    DEFAULT_QUEUE,
    JobSpec,
    RetryPolicy,
    Runner,
    parse_iso,
    utc_now,
)
from jobsys.schedules import Schedule, parse_schedule, schedule_name
from jobsys.spec.limits import (
    DEFAULT_MAX_RETRY_WAIT,
    DEFAULT_MAX_RUNTIME,
    LAMBDA_MAX_RUNTIME,
    MAX_ATTEMPTS,
    MAX_CONCURRENCY,
    MAX_DELAY,
    MAX_ENV,
    MAX_JOBS_PER_START,
    MAX_PARAM_LENGTH,
    MAX_PARAMS,
    MAX_PRIORITY,
    MAX_RETRY_WAIT,
    MAX_RUNTIME,
    RUN_AT_SKEW,
)

# The seed's configuration nests the job definitions under this Symfony parameter.
SEED_PARAMETER = "siso_control_center.default.add_jobs"
RUNNERS: tuple[Runner, ...] = ("lambda", "fargate")
OVERLAPS = ("skip", "allow")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")
RUNNER_SETS = ("JOB_ID", "JOB_ATTEMPT")  # a command's `env:` cannot change what identifies its job
NO_WORKLOAD = {"queue": DEFAULT_QUEUE, "priority": 0, "retries": RetryPolicy()}
_QUEUE_NAME = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")


@dataclass(frozen=True)
class Queue:
    name: str
    concurrency: int | None  # None: no limit

    def describe(self) -> dict:
        return {"name": self.name, "concurrency": self.concurrency}


@dataclass(frozen=True)
class Command:
    name: str
    # None for a console command run by `jobs-console`; else the argv that params are appended to.
    argv: tuple[str, ...] | None
    max_runtime: int
    runner: Runner
    queue: str = DEFAULT_QUEUE
    priority: int = 0
    retries: RetryPolicy = field(default_factory=RetryPolicy)
    # jobs.yaml's `env:`, in its order: (name, value), where None passes the runner's own value on.
    env: tuple[tuple[str, str | None], ...] = ()


@dataclass(frozen=True)
class JobDefinition:
    key: str
    label: str
    desc: str
    command: str
    params: tuple[str, ...]
    runner: Runner
    max_runtime: int
    depending_jobs: tuple[JobDefinition, ...] = ()
    queue: str = DEFAULT_QUEUE
    priority: int = 0
    retries: RetryPolicy = field(default_factory=RetryPolicy)
    schedule: Schedule | None = None
    overlap: str = "skip"

    def to_spec(self) -> JobSpec:
        return JobSpec(
            command=self.command,
            params=list(self.params),
            label=self.label,
            definition=self.key,
            runner=self.runner,
            max_runtime=self.max_runtime,
            queue=self.queue,
            priority=self.priority,
            retries=self.retries,
            depending_jobs=[child.to_spec() for child in self.depending_jobs],
        )


@dataclass(frozen=True)
class StartOptions:
    """What a start may change: the queue, the priority and when it runs. Checked by `JobsConfig.options`."""

    queue: str | None = None
    priority: int | None = None
    run_at: datetime | None = None


@dataclass(frozen=True)
class JobsConfig:
    commands: dict[str, Command]
    definitions: dict[str, JobDefinition] = field(default_factory=dict)
    queues: dict[str, Queue] = field(default_factory=lambda: {DEFAULT_QUEUE: Queue(DEFAULT_QUEUE, None)})

    def limited_queue(self, name: str) -> Queue | None:
        """The queue, if it limits how many of its jobs run at once."""
        queue = self.queues.get(name)
        return queue if queue is not None and queue.concurrency is not None else None

    def queue(self, name: str) -> Queue:
        try:
            return self.queues[name]
        except KeyError:
            known = ", ".join(sorted(self.queues))
            raise Unprocessable(f"queue: no queue '{name}' (the queues are: {known})") from None

    def options(
        self,
        queue: str | None = None,
        priority: int | None = None,
        run_at: str | None = None,
        delay: str | None = None,
        now: datetime | None = None,
    ) -> StartOptions:
        """Checks a start's queue, priority, run_at and delay; each error names its key."""
        if queue is not None:
            self.queue(queue)
        if priority is not None:
            check_priority(priority, "priority")
        if run_at is not None and delay is not None:
            raise InvalidRequest("run_at, delay: give one of them, not both")
        now = now or utc_now()
        when = None
        if run_at is not None:
            try:
                when = parse_iso(run_at)
            except (ValueError, TypeError):
                raise InvalidRequest(f"run_at: {run_at!r} is not an ISO time such as 2026-12-24T18:00:00Z") from None
            if when.tzinfo is None:
                raise InvalidRequest("run_at: give the time zone, e.g. 2026-12-24T18:00:00Z or +01:00")
            try:
                when = when.astimezone(UTC)
            except OverflowError:  # year 1 or 9999 shifted by its offset
                raise Unprocessable(f"run_at: {run_at} is out of range") from None
            if when < now - RUN_AT_SKEW:
                raise Unprocessable(f"run_at: {run_at} is in the past")
        elif delay is not None:
            if delay.strip().startswith("-"):
                raise InvalidRequest(f"delay: {delay!r} is negative")
            try:
                wait = parse_duration(delay)
            except InvalidRequest as exc:
                raise InvalidRequest(f"delay: {exc}") from None
            if wait > MAX_DELAY:  # checked first: a delay of thousands of years is past the last date
                raise Unprocessable(f"delay: at most {MAX_DELAY.days} days ahead")
            when = now + wait
        if when is not None and when - now > MAX_DELAY:
            raise Unprocessable(f"{'run_at' if run_at else 'delay'}: at most {MAX_DELAY.days} days ahead")
        return StartOptions(queue=queue, priority=priority, run_at=when if when and when > now else None)

    def command(self, name: str) -> Command:
        try:
            return self.commands[name]
        except KeyError:
            raise CommandNotAllowed(f"command '{name}' is not in the allow-list") from None

    def definition(self, key: str) -> JobDefinition:
        try:
            return self.definitions[key]
        except KeyError:
            raise DefinitionNotFound(f"no job definition '{key}'") from None

    def spec_for_command(
        self,
        command: str,
        params: list[str],
        depending_jobs: list[dict[str, Any]] | None = None,
        label: str | None = None,
        runner: Runner | None = None,
        max_runtime: int | None = None,
        queue: str | None = None,
        priority: int | None = None,
    ) -> JobSpec:
        """An ad-hoc job from the API, checked against the allow-list like a definition."""
        allowed = self.command(command)
        check_params(params, where="params")
        if queue is not None:
            self.queue(queue)
        if priority is not None:
            check_priority(priority, "priority")
        if max_runtime is not None and not 1 <= max_runtime <= MAX_RUNTIME:
            raise InvalidRequest(f"max_runtime: must be from 1 to {MAX_RUNTIME} seconds")
        chosen_runner = runner or allowed.runner
        chosen_runtime = max_runtime or allowed.max_runtime
        if chosen_runner == "lambda" and chosen_runtime > LAMBDA_MAX_RUNTIME:
            # Asked for, it breaks the API's schema; from the command's defaults, it is configuration.
            raise (InvalidRequest if runner == "lambda" and max_runtime else Unprocessable)(
                f"max_runtime {chosen_runtime} s exceeds {LAMBDA_MAX_RUNTIME} s, the limit of the Lambda runner;"
                " use runner 'fargate'"
            )
        children = [
            self.spec_for_command(
                command=child.get("command", ""),
                params=child.get("params") or [],
                depending_jobs=child.get("depending_jobs") or [],
                label=child.get("label"),
                runner=child.get("runner"),
                max_runtime=child.get("max_runtime"),
                queue=child.get("queue"),
                priority=child.get("priority"),
            )
            for child in depending_jobs or []
        ]
        spec = JobSpec(
            command=command,
            params=list(params),
            label=label or command,
            runner=chosen_runner,
            max_runtime=chosen_runtime,
            queue=queue or allowed.queue,
            priority=allowed.priority if priority is None else priority,
            retries=allowed.retries,
            depending_jobs=children,
        )
        if spec.count() > MAX_JOBS_PER_START:
            raise Unprocessable(f"one start may create at most {MAX_JOBS_PER_START} jobs")
        return spec


def check_priority(priority: Any, where: str) -> int:
    if isinstance(priority, bool) or not isinstance(priority, int) or abs(priority) > MAX_PRIORITY:
        raise InvalidRequest(f"{where}: must be a whole number from -{MAX_PRIORITY} to {MAX_PRIORITY}")
    return priority


def check_params(params: Any, where: str) -> None:
    if not isinstance(params, list) or not all(isinstance(p, str) for p in params):
        raise InvalidRequest(f"{where} must be a list of strings")
    if len(params) > MAX_PARAMS:
        raise InvalidRequest(f"{where} has more than {MAX_PARAMS} items")
    for param in params:
        if len(param) > MAX_PARAM_LENGTH or "\x00" in param:
            raise InvalidRequest(f"{where} has a parameter that is too long or holds a NUL byte")


def load_config(path: str | os.PathLike[str] | None = None) -> JobsConfig:
    """Loads and checks a jobs.yaml; `JOBS_CONFIG` names it when no path is given."""
    source = Path(path or os.environ.get("JOBS_CONFIG") or "/opt/jobs.yaml")
    try:
        text = source.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{source}: cannot read the file: {exc.strerror}") from None
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{source}: not valid YAML: {exc}") from None
    return parse_config(document, source=str(source))


def parse_config(document: Any, source: str = "<memory>") -> JobsConfig:
    return _Parser(source).parse(document)


class _ReportedAlready(ConfigError):
    """A job whose command failed its own check: that error says it all."""


class _Parser:
    def __init__(self, source: str):
        self.source = source

    def fail(self, where: str, reason: str) -> ConfigError:
        return ConfigError(f"{self.source}: {where}: {reason}")

    def parse(self, document: Any) -> JobsConfig:
        if document is None:
            document = {}
        if not isinstance(document, dict):
            raise self.fail("top level", "expected a mapping with 'commands' and 'jobs'")
        unknown = set(document) - {"commands", "jobs", "defaults", "parameters", "queues"}
        if unknown:
            raise self.fail(", ".join(sorted(unknown)), "unknown top-level key")
        self.queues = self.parse_queues(document.get("queues"))
        defaults = self.parse_defaults(document.get("defaults"))
        # Each command and each job is checked on its own, so that one run reports every error.
        errors: list[str] = []
        commands = self.parse_commands(document.get("commands"), defaults, errors)
        raw_jobs = dict(self.mapping(document.get("jobs"), "jobs"))
        parameters = self.mapping(document.get("parameters"), "parameters")
        if parameters:
            seed_jobs = self.mapping(parameters.get(SEED_PARAMETER), f"parameters.{SEED_PARAMETER}")
            for key, value in seed_jobs.items():
                if key in raw_jobs:
                    raise self.fail(f"jobs.{key}", "defined twice (in 'jobs' and in 'parameters')")
                raw_jobs[key] = value
        # Every command that a definition names is allowed as well, so the seed's block alone is
        # a complete configuration.
        self.collect_commands(raw_jobs, "jobs", commands, defaults, seen=set(), errors=errors)
        definitions = {}
        for key, raw in raw_jobs.items():
            try:
                definition = self.parse_definition(key, raw, f"jobs.{key}", raw_jobs, commands, defaults, ())
            except _ReportedAlready as error:
                if not errors:  # never a job dropped in silence
                    errors.append(str(self.fail(str(error), "its command is not allowed")))
                continue
            except ConfigError as error:
                errors.append(str(error))
                continue
            if definition.to_spec().count() > MAX_JOBS_PER_START:
                errors.append(str(self.fail(f"jobs.{key}", f"creates more than {MAX_JOBS_PER_START} jobs per start")))
            definitions[key] = definition
        if errors:
            raise ConfigError("\n".join(dict.fromkeys(errors)))
        return JobsConfig(commands=commands, definitions=definitions, queues=self.queues)

    def parse_queues(self, raw: Any) -> dict[str, Queue]:
        queues = {DEFAULT_QUEUE: Queue(DEFAULT_QUEUE, None)}
        for name, spec in self.mapping(raw, "queues").items():
            where = f"queues.{name}"
            if not _QUEUE_NAME.match(name):
                raise self.fail(where, "a queue name holds letters, digits, '_', '.', ':' or '-' (64 at most)")
            spec = self.mapping(spec, where)
            unknown = set(spec) - {"concurrency"}
            if unknown:
                raise self.fail(where, f"unknown field(s) {', '.join(sorted(unknown))}")
            concurrency = spec.get("concurrency")
            whole = isinstance(concurrency, int) and not isinstance(concurrency, bool)
            if concurrency is not None and not (whole and 1 <= concurrency <= MAX_CONCURRENCY):
                raise self.fail(f"{where}.concurrency", f"must be a whole number from 1 to {MAX_CONCURRENCY}")
            queues[name] = Queue(name, concurrency)
        return queues

    def queue_name(self, value: Any, where: str) -> str:
        if value not in self.queues:
            known = ", ".join(sorted(self.queues))
            raise self.fail(where, f"no queue {value!r}; declare it under 'queues' (the queues are: {known})")
        return value

    def priority(self, value: Any, where: str) -> int:
        try:
            return check_priority(value, where)
        except InvalidRequest as exc:
            raise self.fail(where, str(exc).split(": ", 1)[1]) from None

    def retries(self, value: Any, where: str) -> RetryPolicy:
        spec = self.mapping(value, where)
        unknown = set(spec) - {"max_attempts", "backoff", "factor", "max_wait"}
        if unknown:
            raise self.fail(where, f"unknown field(s) {', '.join(sorted(unknown))}")
        attempts = spec.get("max_attempts", 1)
        if isinstance(attempts, bool) or not isinstance(attempts, int) or not 1 <= attempts <= MAX_ATTEMPTS:
            raise self.fail(f"{where}.max_attempts", f"must be a whole number from 1 to {MAX_ATTEMPTS}")
        backoff = spec.get("backoff", "0 s")
        try:
            if not isinstance(backoff, str):
                raise InvalidRequest("expected a duration such as '30 s'")
            wait = parse_duration(backoff)
        except InvalidRequest as exc:
            raise self.fail(f"{where}.backoff", str(exc)) from None
        factor = spec.get("factor", 2)
        if isinstance(factor, bool) or not isinstance(factor, int | float) or not 1 <= factor <= 10:
            raise self.fail(f"{where}.factor", "must be a number from 1 to 10")
        max_wait = spec.get("max_wait")
        longest = DEFAULT_MAX_RETRY_WAIT
        if max_wait is not None:
            try:
                if not isinstance(max_wait, str):
                    raise InvalidRequest("expected a duration such as '6 hours'")
                longest = parse_duration(max_wait).total_seconds()
            except InvalidRequest as exc:
                raise self.fail(f"{where}.max_wait", str(exc)) from None
            if not 0 < longest <= MAX_RETRY_WAIT:
                raise self.fail(f"{where}.max_wait", f"must be from 1 s to {int(MAX_RETRY_WAIT // 86400)} days")
        if wait.total_seconds() > longest:
            raise self.fail(f"{where}.backoff", f"is longer than max_wait ({longest:g} s)")
        return RetryPolicy(max_attempts=attempts, backoff=wait.total_seconds(), factor=factor, max_wait=longest)

    def workload(self, raw: dict[str, Any], where: str, inherited: Command | None) -> dict[str, Any]:
        """queue, priority and retries of a command or a job; a job takes its command's where it says nothing."""
        checks = {"queue": self.queue_name, "priority": self.priority, "retries": self.retries}
        base = {key: getattr(inherited, key) for key in checks} if inherited else NO_WORKLOAD
        return {key: check(raw[key], f"{where}.{key}") if key in raw else base[key] for key, check in checks.items()}

    def mapping(self, value: Any, where: str) -> dict[str, Any]:
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise self.fail(where, "expected a mapping")
        for key in value:
            if not isinstance(key, str) or not key:
                raise self.fail(where, f"key {key!r} must be a non-empty string")
        return value

    def parse_defaults(self, raw: Any) -> dict[str, Any]:
        defaults = self.mapping(raw, "defaults")
        unknown = set(defaults) - {"max_runtime", "runner"}
        if unknown:
            raise self.fail("defaults", f"unknown field(s) {', '.join(sorted(unknown))}")
        return {
            "max_runtime": self.max_runtime(defaults.get("max_runtime", DEFAULT_MAX_RUNTIME), "defaults.max_runtime"),
            "runner": self.runner(defaults.get("runner", "lambda"), "defaults.runner"),
        }

    def max_runtime(self, value: Any, where: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_RUNTIME:
            raise self.fail(where, f"max_runtime must be a whole number of seconds, from 1 to {MAX_RUNTIME}")
        return value

    def runner(self, value: Any, where: str) -> Runner:
        if value not in RUNNERS:
            raise self.fail(where, f"runner must be one of {', '.join(RUNNERS)}, not {value!r}")
        return value

    def check_runtime_fits(self, runner: Runner, max_runtime: int, where: str) -> None:
        if runner == "lambda" and max_runtime > LAMBDA_MAX_RUNTIME:
            raise self.fail(
                where,
                f"max_runtime {max_runtime} s is over {LAMBDA_MAX_RUNTIME} s, the Lambda runner's limit;"
                " use runner: fargate",
            )

    def parse_commands(self, raw: Any, defaults: dict[str, Any], errors: list[str]) -> dict[str, Command]:
        if isinstance(raw, list):
            raw = {name: None for name in raw}
        commands = {}
        for name, spec in self.mapping(raw, "commands").items():
            try:
                commands[name] = self.parse_command(name, spec, defaults)
            except ConfigError as error:
                errors.append(str(error))
        return commands

    def parse_command(self, name: str, spec: Any, defaults: dict[str, Any], where: str | None = None) -> Command:
        where = where or f"commands.{name}"
        spec = self.mapping(spec, where)
        unknown = set(spec) - {"argv", "max_runtime", "runner", "desc", "queue", "priority", "retries", "env"}
        if unknown:
            raise self.fail(where, f"unknown field(s) {', '.join(sorted(unknown))}")
        argv = spec.get("argv")
        if argv is None:
            if name not in CONSOLE_COMMANDS:
                raise self.fail(
                    where,
                    f"unknown command '{name}': not a jobs-console command (see `jobs-console list`),"
                    " and no 'argv' names an executable",
                )
        elif not (isinstance(argv, list) and argv and all(isinstance(a, str) and a for a in argv)):
            raise self.fail(f"{where}.argv", "expected a non-empty list of strings (the executable first)")
        runner = self.runner(spec.get("runner", defaults["runner"]), f"{where}.runner")
        max_runtime = self.max_runtime(spec.get("max_runtime", defaults["max_runtime"]), f"{where}.max_runtime")
        self.check_runtime_fits(runner, max_runtime, where)
        return Command(
            name=name,
            argv=tuple(argv) if argv else None,
            max_runtime=max_runtime,
            runner=runner,
            env=self.env(spec.get("env"), f"{where}.env"),
            **self.workload(spec, where, None),
        )

    def env(self, raw: Any, where: str) -> tuple[tuple[str, str | None], ...]:
        """`env:` as docker compose writes it: a list of `NAME=value` (set) and `NAME` (passed on from
        the runner's environment), or a mapping of NAME to a value, or to nothing to pass it on."""
        if raw is None:
            return ()
        if isinstance(raw, list):
            entries = []
            for item in raw:
                if not isinstance(item, str):
                    raise self.fail(where, f"{item!r}: expected NAME or NAME=value")
                name, equals, value = item.partition("=")
                entries.append((name, value if equals else None))
        elif isinstance(raw, dict):
            entries = list(raw.items())
        else:
            raise self.fail(where, "expected a list of NAME or NAME=value, or a mapping of NAME to a value")
        if len(entries) > MAX_ENV:
            raise self.fail(where, f"{MAX_ENV} variables at most")
        env: dict[str, str | None] = {}
        for name, value in entries:
            if not isinstance(name, str) or not _ENV_NAME.match(name):
                raise self.fail(where, f"{name!r} is not a variable name (letters, digits and '_', not first a digit)")
            if name in RUNNER_SETS:
                raise self.fail(f"{where}.{name}", "the runner sets it for every job")
            if name in env:
                raise self.fail(f"{where}.{name}", "named twice")
            if isinstance(value, bool) or not (value is None or isinstance(value, str | int | float)):
                raise self.fail(f"{where}.{name}", "expected a string, a number or nothing (to pass it on)")
            if value is not None and "\0" in str(value):
                raise self.fail(f"{where}.{name}", "a value cannot hold a NUL character")
            env[name] = None if value is None else str(value)
        return tuple(env.items())

    def collect_commands(
        self,
        raw_jobs: dict[str, Any],
        where: str,
        commands: dict[str, Command],
        defaults: dict[str, Any],
        seen: set[int],
        errors: list[str],
    ) -> None:
        for key, raw in raw_jobs.items():
            if not isinstance(raw, dict) or id(raw) in seen:
                continue  # references and malformed entries are reported by parse_definition
            seen.add(id(raw))
            command = raw.get("command")
            if isinstance(command, str) and command and command not in commands:
                try:
                    commands[command] = self.parse_command(command, None, defaults, where=f"{where}.{key}")
                except ConfigError as error:
                    errors.append(str(error))
            children = raw.get("depending_jobs")
            if isinstance(children, dict):
                self.collect_commands(children, f"{where}.{key}.depending_jobs", commands, defaults, seen, errors)

    def parse_definition(
        self,
        key: str,
        raw: Any,
        where: str,
        top_level: dict[str, Any],
        commands: dict[str, Command],
        defaults: dict[str, Any],
        ancestors: tuple[int, ...],
    ) -> JobDefinition:
        if raw is None:  # `index_solr: ~` under depending_jobs refers to the top-level job of that key
            if key not in top_level or top_level[key] is None:
                raise self.fail(where, f"refers to job '{key}', which is not defined under jobs")
            raw = top_level[key]
        if id(raw) in ancestors:
            raise self.fail(where, "dependency cycle: this job depends on itself")
        raw = self.mapping(raw, where)
        unknown = set(raw) - {
            "label", "desc", "command", "params", "depending_jobs", "runner", "max_runtime",
            "queue", "priority", "retries", "schedule", "overlap",
        }  # fmt: skip
        if unknown:
            raise self.fail(where, f"unknown field(s) {', '.join(sorted(unknown))}")
        for required in ("label", "command"):
            if not isinstance(raw.get(required), str) or not raw[required].strip():
                raise self.fail(where, f"missing field '{required}'")
        desc = raw.get("desc", "")
        if not isinstance(desc, str):
            raise self.fail(f"{where}.desc", "expected a string")
        params = raw.get("params") or []
        if isinstance(params, list):
            params = [str(p) if isinstance(p, int | float) and not isinstance(p, bool) else p for p in params]
        try:
            check_params(params, "params")
        except InvalidRequest as exc:
            raise self.fail(f"{where}.params", str(exc)) from None
        command = commands.get(raw["command"])
        if command is None:  # its own error is reported already, where the command was checked
            raise _ReportedAlready(where)
        runner = self.runner(raw.get("runner", command.runner), f"{where}.runner")
        max_runtime = self.max_runtime(raw.get("max_runtime", command.max_runtime), f"{where}.max_runtime")
        self.check_runtime_fits(runner, max_runtime, where)
        children_raw = raw.get("depending_jobs")
        if isinstance(children_raw, list):  # a list of keys of top-level jobs
            if not all(isinstance(k, str) for k in children_raw):
                raise self.fail(f"{where}.depending_jobs", "a list must hold job keys")
            children_raw = {k: None for k in children_raw}
        children = self.mapping(children_raw, f"{where}.depending_jobs")
        inner = (*ancestors, id(raw))
        schedule = None
        if raw.get("schedule") is not None:
            if ancestors:
                raise self.fail(f"{where}.schedule", "only a top-level job has a schedule; its dependents follow it")
            try:
                schedule_name(key)
                schedule = parse_schedule(raw["schedule"])
            except InvalidRequest as exc:
                raise self.fail(f"{where}.schedule", str(exc)) from None
        overlap = raw.get("overlap", "skip")
        if overlap not in OVERLAPS:
            raise self.fail(f"{where}.overlap", f"must be one of {', '.join(OVERLAPS)}, not {overlap!r}")
        return JobDefinition(
            schedule=schedule,
            overlap=overlap,
            **self.workload(raw, where, command),
            key=key,
            label=raw["label"].strip(),
            desc=desc,
            command=raw["command"],
            params=tuple(params),
            runner=runner,
            max_runtime=max_runtime,
            depending_jobs=tuple(
                self.parse_definition(
                    child_key, child, f"{where}.depending_jobs.{child_key}", top_level, commands, defaults, inner
                )
                for child_key, child in children.items()
            ),
        )
