"""A command's `env:` may name a secret: read when the command starts, kept five minutes, and a
reference that cannot be read fails the job with a reason that names it, never a value."""

import pytest
from botocore.exceptions import ClientError

from jobsys.config import parse_config
from jobsys.errors import ConfigError
from jobsys.secret_refs import SecretRef, SecretUnavailable, SecretValues


def test_env_takes_references_to_a_secret_a_secrets_field_and_a_parameter():
    config = parse_config({
        "commands": {"export": {"argv": ["/bin/true"], "env": {
            "SHOP_DSN": {"secret": "jobs/shop"}, "SHOP_PASSWORD": {"secret": "jobs/shop-json", "key": "password"},
            "API_KEY": {"parameter": "/jobs/api-key"}, "FORMAT": "csv",
        }}},
    })  # fmt: skip
    env = dict(config.commands["export"].env)
    assert env["SHOP_DSN"] == SecretRef(secret="jobs/shop")
    assert env["SHOP_PASSWORD"] == SecretRef(secret="jobs/shop-json", key="password")
    assert env["API_KEY"] == SecretRef(parameter="/jobs/api-key") and env["FORMAT"] == "csv"


@pytest.mark.parametrize(
    ("ref", "reason"),
    [
        ({"secret": "a", "parameter": "/b"}, "give one of secret and parameter"),
        ({"parameter": "/b", "key": "x"}, "key: only a secret has fields"),
        ({"vault": "x"}, "commands.export.env.X: a reference is"),
    ],
)
def test_a_bad_reference_is_refused_at_load_time(ref, reason):
    with pytest.raises(ConfigError) as error:
        parse_config({"commands": {"export": {"argv": ["/bin/true"], "env": {"X": ref}}}})
    assert reason in str(error.value)


class _Secrets:
    def __init__(self, values: dict[str, str]):
        self.values = values
        self.reads = 0

    def get_secret_value(self, SecretId: str) -> dict:
        self.reads += 1
        if SecretId not in self.values:
            raise ClientError({"Error": {"Code": "AccessDeniedException", "Message": "no"}}, "GetSecretValue")
        return {"SecretString": self.values[SecretId]}


def test_a_secret_is_read_once_in_five_minutes_and_a_field_taken_from_json():
    now = [0.0]
    secrets = _Secrets({"jobs/shop": "dsn://s3cret", "jobs/json": '{"password": "hunter2"}'})
    values = SecretValues(secrets, None, clock=lambda: now[0])
    ref = SecretRef(secret="jobs/shop")
    assert [values.value("SHOP_DSN", ref) for _ in range(3)] == ["dsn://s3cret"] * 3
    assert secrets.reads == 1
    now[0] = 301.0
    values.value("SHOP_DSN", ref)
    assert secrets.reads == 2
    assert values.value("PW", SecretRef(secret="jobs/json", key="password")) == "hunter2"


def test_a_reference_that_cannot_be_read_names_itself_and_no_value():
    values = SecretValues(_Secrets({"jobs/plain": "s3cret-value"}), None)
    with pytest.raises(SecretUnavailable) as denied:
        values.value("SHOP_DSN", SecretRef(secret="other/shop"))
    assert str(denied.value) == "env SHOP_DSN: secret 'other/shop' could not be read (AccessDeniedException)"
    with pytest.raises(SecretUnavailable) as no_key:
        values.value("PW", SecretRef(secret="jobs/plain", key="password"))
    assert "s3cret-value" not in str(no_key.value) and "secret 'jobs/plain' (key 'password')" in str(no_key.value)


class _Ssm:
    def __init__(self):
        self.asked: list[tuple[str, bool]] = []

    def get_parameter(self, Name: str, WithDecryption: bool) -> dict:
        self.asked.append((Name, WithDecryption))
        return {"Parameter": {"Value": "api-key-value"}}


def test_a_parameter_is_read_decrypted():
    ssm = _Ssm()
    assert SecretValues(None, ssm).value("API_KEY", SecretRef(parameter="/jobs/api-key")) == "api-key-value"
    assert ssm.asked == [("/jobs/api-key", True)]
