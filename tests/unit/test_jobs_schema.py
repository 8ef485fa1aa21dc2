"""config/jobs.schema.json is generated from jobs.yaml's model, and editors check jobs.yaml with it."""

import json
import re
from pathlib import Path

import jsonschema
import pytest
import yaml
from pydantic import ValidationError

from jobsys.config import parse_config
from jobsys.errors import ConfigError
from jobsys.spec.requests import CommandStart
from jobsys.spec.schema import jobs_file_schema
from jobsys.spec.types import PATTERN_MEANS

ROOT = Path(__file__).resolve().parents[2]
COMMITTED = ROOT / "config" / "jobs.schema.json"
VALIDATOR = jsonschema.Draft202012Validator(json.loads(COMMITTED.read_text()))


def test_the_committed_schema_is_the_model_s():
    assert json.loads(jobs_file_schema()) == json.loads(COMMITTED.read_text()), (
        "config/jobs.schema.json is out of date: run `make schema` and commit it"
    )


def test_the_shipped_jobs_yaml_names_the_schema_and_fits_it():
    text = (ROOT / "config" / "jobs.yaml").read_text()
    assert text.splitlines()[0] == "# yaml-language-server: $schema=jobs.schema.json"
    jsonschema.Draft202012Validator.check_schema(VALIDATOR.schema)
    for path in [ROOT / "config" / "jobs.yaml", *sorted((ROOT / "tests" / "fixtures").glob("*.yaml"))]:
        assert not list(VALIDATOR.iter_errors(yaml.safe_load(path.read_text()))), path


@pytest.mark.parametrize(
    "document",
    [
        {"jobz": {}},
        {"queues": {"two words": {}}},
        {"queues": {"q": {"concurrency": 0}}},
        {"commands": {"x": {"argv": []}}},
        {"commands": {"x": {"env": ["1X=a"]}}},
        {"commands": {"x": {"env": {"JOB_ID": "1"}}}},
        {"jobs": {"a": {"label": "A"}}},
        {"jobs": {"a": {"label": "A", "command": "demo:echo", "colour": "red"}}},
        {"jobs": {"a": {"label": "A", "command": "demo:echo", "runner": "k8s"}}},
        {"jobs": {"a": {"label": "A", "command": "demo:echo", "retries": {"max_attempts": 0}}}},
        {"jobs": {"a": {"label": "A", "command": "demo:echo", "schedule": {"cron": "0 2 * * *", "every": 1}}}},
        {"jobs": {"a": {"label": "A", "command": "demo:echo", "priority": 5000}}},
    ],
)
def test_what_the_schema_refuses_the_loader_refuses_too(document):
    """An editor's red line and the deploy's error agree: neither lets a wrong shape through."""
    assert list(VALIDATOR.iter_errors(document))
    with pytest.raises(ConfigError):
        parse_config(document)


# What some engine counts as a blank character: Unicode's White_Space (pydantic's Rust regex),
# ECMAScript's WhiteSpace and LineTerminator (editors, schemathesis), and Python's str.isspace.
BLANK_SOMEWHERE = sorted({chr(c) for c in range(0x3001) if chr(c).isspace()} | {"\u0085", "\u2028", "\u2029", "\ufeff"})


@pytest.mark.parametrize("blank", BLANK_SOMEWHERE, ids=lambda char: f"U+{ord(char):04X}")
def test_a_label_of_blanks_is_refused_by_the_api_the_loader_and_the_schema_alike(blank):
    """CI once sent the command "\\x85": blank to pydantic, not to the schema's ECMAScript `\\S`."""
    with pytest.raises(ValidationError, match="should match pattern"):
        CommandStart.model_validate({"command": f"{blank}{blank}"})
    document = {"jobs": {"a": {"label": blank, "command": "demo:echo"}}}
    assert list(VALIDATOR.iter_errors(document))
    with pytest.raises(ConfigError, match="must not be blank"):
        parse_config(document)


def test_the_patterns_mean_the_same_in_every_regex_engine():
    """`\\s`, `\\w`, `\\d` and `\\b` differ between Rust, ECMAScript and Python; spell classes out."""
    for pattern in PATTERN_MEANS:
        assert not re.search(r"\\[sSwWdDbB]", pattern), pattern
