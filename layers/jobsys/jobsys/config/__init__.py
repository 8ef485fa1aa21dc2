"""Loads `jobs.yaml`: the allow-list of commands and the back-office job definitions.

Everything is checked at load time, so a bad file fails when it is deployed or the stack starts,
naming the file, the key and the reason, and never later when a user clicks Start. The shape of
the file is `jobsys.spec.JobsFile`'s; `resolve.py` adds what no schema says.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from jobsys.config.model import Command, JobDefinition, JobsConfig, Queue
from jobsys.config.resolve import ConfigResolver
from jobsys.errors import ConfigError
from jobsys.spec.jobs_file import SEED_PARAMETER, JobsFile
from jobsys.spec.messages import messages

__all__ = ["Command", "JobDefinition", "JobsConfig", "Queue", "load_config", "parse_config"]


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
    """Checks a loaded jobs.yaml: its shape, then what no schema says. Every error is reported at
    once: the entries whose shape is wrong are set aside, and the rest is still resolved."""
    document = {} if document is None else document
    try:
        return ConfigResolver(JobsFile.model_validate(document), source).resolve()
    except ValidationError as error:
        found = [f"{source}: {line}" for line in messages(error.errors())]
        rest = _entries_set_aside(document, error)
    if rest is not None:
        checkable, broken = rest
        try:
            ConfigResolver(JobsFile.model_validate(checkable), source, broken).resolve()
        except ConfigError as more:
            found.extend(str(more).splitlines())
    raise ConfigError("\n".join(sorted(dict.fromkeys(found), key=_in_file_order(document, source))))


def _in_file_order(document: Any, source: str) -> Any:
    """Errors in the order of the entries they name, as a user reads the file."""
    order: dict[tuple[str, ...], int] = {}
    if isinstance(document, dict):
        for section, entries in document.items():
            order.setdefault((str(section),), len(order))
            for key in entries if isinstance(entries, dict) else ():
                order.setdefault((str(section), str(key)), len(order))

    def position(line: str) -> tuple[int, int]:
        path = line.removeprefix(f"{source}: ").split(": ", 1)[0].split(".")
        return order.get(tuple(path[:1]), len(order)), order.get(tuple(path[:2]), len(order))

    return position


_SECTIONS = ("commands", "jobs", "queues")


def _entries_set_aside(document: Any, error: ValidationError) -> tuple[dict[str, Any], dict[str, set[str]]] | None:
    """The document without the entries that broke its shape, and their names by section; None if
    the file's own frame is broken (then nothing more can be checked)."""
    if not isinstance(document, dict):
        return None
    broken: dict[str, set[str]] = {section: set() for section in _SECTIONS}
    for problem in error.errors():
        loc = problem["loc"]
        if len(loc) >= 2 and loc[0] in _SECTIONS and isinstance(document.get(loc[0]), dict):
            broken[str(loc[0])].add(str(loc[1]))
        elif len(loc) >= 3 and loc[:2] == ("parameters", SEED_PARAMETER):
            broken["jobs"].add(str(loc[2]))
        else:
            return None
    rest = {key: value for key, value in document.items() if key != "parameters"}
    for section in _SECTIONS:
        if broken[section]:
            rest[section] = {k: v for k, v in document[section].items() if k not in broken[section]}
    seed = (
        (document.get("parameters") or {}).get(SEED_PARAMETER) if isinstance(document.get("parameters"), dict) else None
    )
    if isinstance(seed, dict):
        rest["parameters"] = {SEED_PARAMETER: {k: v for k, v in seed.items() if k not in broken["jobs"]}}
    return rest, broken
