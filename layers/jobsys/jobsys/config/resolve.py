"""What no schema of jobs.yaml can say: `~` references to top-level jobs, the commands that jobs name,
the seed's `parameters:` block, inheritance from the command, and queues that must be declared."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from jobsys.config.model import Command, JobDefinition, JobsConfig, Queue
from jobsys.console.registry import CONSOLE_COMMANDS
from jobsys.errors import ConfigError, InvalidRequest
from jobsys.joins import joins_problem
from jobsys.models import DEFAULT_QUEUE
from jobsys.schedules import schedule_name
from jobsys.spec.jobs_file import CommandEntry, JobEntry, JobsFile
from jobsys.spec.limits import MAX_JOBS_PER_START
from jobsys.spec.settings import JobSettings, SettingsChoice, SettingsProblem, resolve_settings


class _Refused(ConfigError):
    """One command or job is wrong; the others are still checked, so that one run reports all."""


class _ReportedAlready(ConfigError):
    """A job whose command failed its own check: that error says it all."""


class ConfigResolver:
    """Turns a valid `JobsFile` into the `JobsConfig` the job system runs on, or every error it has."""

    def __init__(self, file: JobsFile, source: str, set_aside: dict[str, set[str]] | None = None):
        self.file = file
        self.source = source
        # Entries whose shape was wrong, reported already: what names them is not reported again.
        self.set_aside = set_aside or {"commands": set(), "jobs": set(), "queues": set()}
        self.errors: list[str] = []
        self.queues = {DEFAULT_QUEUE: Queue(DEFAULT_QUEUE, None)} | {
            name: Queue(name, entry.concurrency if entry else None) for name, entry in file.queues.items()
        }
        self.queues |= {name: Queue(name, None) for name in self.set_aside["queues"]}
        self.commands: dict[str, Command] = {}
        self.top_level: dict[str, JobEntry | None] = {}
        self.defaults = JobSettings()  # the file's `defaults:` over the job system's, once resolve() checked them

    def refuse(self, where: str, reason: str) -> _Refused:
        return _Refused(f"{self.source}: {where}: {reason}")

    def resolve(self) -> JobsConfig:
        self.top_level = self._top_level_jobs()
        try:
            self.defaults = self._settings(JobSettings(), self.file.defaults, "defaults")
        except _Refused as error:
            self.errors.append(str(error))
        for name, command in self.file.commands.items():
            self._record(partial(self._add_command, name, command, f"commands.{name}"))
        # Every command that a definition names is allowed as well, so the seed's block alone is
        # a complete configuration.
        self._commands_named_by(self.top_level, "jobs", set())
        definitions = {}
        for key, entry in self.top_level.items():
            try:
                definition = self._definition(key, entry, f"jobs.{key}", ())
            except _ReportedAlready as error:
                if not self.errors:  # never a job dropped in silence
                    self.errors.append(f"{self.source}: {error}: its command is not allowed")
                continue
            except _Refused as error:
                self.errors.append(str(error))
                continue
            count = definition.to_spec().count()
            if count > MAX_JOBS_PER_START:
                self.errors.append(f"{self.source}: jobs.{key}: creates more than {MAX_JOBS_PER_START} jobs per start")
            elif definition.unique and count > MAX_JOBS_PER_START - 1:  # its lock is one more item of the transaction
                self.errors.append(
                    f"{self.source}: jobs.{key}: creates {count} jobs per start; a unique definition at most"
                    f" {MAX_JOBS_PER_START - 1}, as its lock is written in the same transaction"
                )
            if problem := joins_problem(definition.to_spec()):
                self.errors.append(f"{self.source}: jobs.{key}: {problem}")
            definitions[key] = definition
        if self.errors:
            raise ConfigError("\n".join(dict.fromkeys(self.errors)))
        return JobsConfig(commands=self.commands, definitions=definitions, queues=self.queues)

    def _record(self, check: Callable[[], None]) -> None:
        try:
            check()
        except _Refused as error:
            self.errors.append(str(error))

    def _top_level_jobs(self) -> dict[str, JobEntry | None]:
        jobs = dict(self.file.jobs)
        seed = self.file.parameters.add_jobs if self.file.parameters else {}
        for key, entry in seed.items():
            if key in jobs:
                self.errors.append(f"{self.source}: jobs.{key}: defined twice (in 'jobs' and in 'parameters')")
            jobs[key] = entry
        return jobs

    def _queue(self, name: str, where: str) -> str:
        if name not in self.queues:
            known = ", ".join(sorted(self.queues))
            raise self.refuse(where, f"no queue {name!r}; declare it under 'queues' (the queues are: {known})")
        return name

    def _settings(self, base: JobSettings, entry: SettingsChoice, where: str) -> JobSettings:
        """An entry's settings over the level above's, its queue declared."""
        if entry.queue is not None:
            self._queue(entry.queue, f"{where}.queue")
        try:
            return resolve_settings(base, entry)
        except SettingsProblem as problem:
            raise self.refuse(where, str(problem)) from None

    def _add_command(self, name: str, entry: CommandEntry | None, where: str) -> None:
        entry = entry or CommandEntry()
        if entry.argv is None and name not in CONSOLE_COMMANDS:
            raise self.refuse(
                where,
                f"unknown command '{name}': not a jobs-console command (see `jobs-console list`),"
                " and no 'argv' names an executable",
            )
        self.commands[name] = Command(
            name=name,
            argv=tuple(entry.argv) if entry.argv else None,
            env=entry.env,
            **self._settings(self.defaults, entry, where).setting_values(),
        )

    def _commands_named_by(self, jobs: dict[str, JobEntry | None], where: str, seen: set[int]) -> None:
        for key, entry in jobs.items():
            if entry is None or id(entry) in seen:
                continue  # references are followed where they are defined
            seen.add(id(entry))
            if entry.command not in self.commands and entry.command not in self.set_aside["commands"]:
                self._record(partial(self._add_command, entry.command, None, f"{where}.{key}"))
            self._commands_named_by(entry.depending_jobs, f"{where}.{key}.depending_jobs", seen)

    def _definition(self, key: str, entry: JobEntry | None, where: str, ancestors: tuple[int, ...]) -> JobDefinition:
        if entry is None:  # `index_solr: ~` under depending_jobs refers to the top-level job of that key
            entry = self.top_level.get(key)
            if entry is None and key in self.set_aside["jobs"]:
                raise _ReportedAlready(where)
            if entry is None:
                raise self.refuse(where, f"refers to job '{key}', which is not defined under jobs")
        if id(entry) in ancestors:
            raise self.refuse(where, "dependency cycle: this job depends on itself")
        command = self.commands.get(entry.command)
        if command is None:  # its own error is reported already, where the command was checked
            raise _ReportedAlready(where)
        settings = self._settings(command, entry, where)
        if entry.schedule is not None:
            if ancestors:
                raise self.refuse(f"{where}.schedule", "only a top-level job has a schedule; its dependents follow it")
            try:
                schedule_name(key)
            except InvalidRequest as exc:
                raise self.refuse(f"{where}.schedule", str(exc)) from None
        if entry.unique and ancestors:
            raise self.refuse(f"{where}.unique", "only a top-level job is unique; its dependents follow it")
        inner = (*ancestors, id(entry))
        return JobDefinition(
            key=key,
            label=entry.label.strip(),
            desc=entry.desc,
            command=entry.command,
            params=tuple(entry.params),
            schedule=entry.schedule,
            overlap=entry.overlap,
            unique=entry.unique,
            after=tuple(dict.fromkeys(entry.after)),
            depending_jobs=tuple(
                self._definition(child_key, child, f"{where}.depending_jobs.{child_key}", inner)
                for child_key, child in entry.depending_jobs.items()
            ),
            **settings.setting_values(),
        )
