"""make fuzz runs every schemathesis check, but those that schemathesis.toml turns off for an
operation, where each turned-off check gives its reason."""

import schemathesis
from schemathesis.checks import CHECKS, load_all_checks
from schemathesis.config import SchemathesisConfig
from tools.fuzz import ROOT, st_arguments

EXEMPT = ("POST /bulk-actions", "GET /bulk-actions/{bulk_id}")


def _enabled(config: SchemathesisConfig, label: str) -> set[str]:
    load_all_checks()
    schema = schemathesis.openapi.from_path(ROOT / "docs" / "openapi.json", config=config)
    method, path = label.split(" ")
    operation = schema[path][method]
    checks = schema.config.checks_config_for(operation=operation, phase="stateful")
    return {name for name in CHECKS.get_all_names() if checks.get_by_name(name=name).enabled}


def test_the_fuzz_names_no_checks_so_that_the_configs_exemptions_hold():
    """`--checks=all` ran ST302 on a dry run's sample (a job's id taken for a bulk action's) in a
    fresh clone's make test, though schemathesis.toml turns it off there."""
    arguments = st_arguments("http://127.0.0.1:1", "token", 1, 1)
    assert not [argument for argument in arguments if argument.startswith(("--checks", "-c"))]
    config = SchemathesisConfig.from_path(ROOT / "schemathesis.toml")
    every = _enabled(config, "POST /jobs")
    assert "ensure_resource_availability" in every and len(every) >= 14
    for label in EXEMPT:
        assert _enabled(config, label) == every - {"ensure_resource_availability"}, label
    # What `--checks=all` did: every check, the exemptions overridden.
    named = SchemathesisConfig.from_path(ROOT / "schemathesis.toml")
    named.projects.default.checks.update(included_check_names=["all"])
    assert "ensure_resource_availability" in _enabled(named, EXEMPT[1])
