"""The credentials that each caller of the local stack signs with.

Replaces: the fixed keys (`local`, `ak`/`sk`) that the local stack and moto's Step Functions
interpreter signed every call with, which moto accepts from anyone while it enforces nothing.
- The deployment and the operator's own tools sign as the account's administrator, an IAM user with
  every permission, made here before the first call (moto has no user until one is created).
- Each emulated service that acts as a role (Lambda for a function, ECS for a task, Step Functions
  for a state machine, Scheduler for a schedule's target, API Gateway for its logs) takes that role's
  credentials from STS as the service does in AWS: only if the role's trust policy trusts the
  service, and once per role and session, as a service keeps its credentials for a while.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.config import Config
from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.iam.models import iam_backends
from moto.sts.models import sts_backends

from jobs_local import in_process
from jobs_local.iam.trust import trusts

ACCOUNT = DEFAULT_ACCOUNT_ID  # the account that moto gives keys it did not make
ADMINISTRATOR = "jobs-local-admin"
SESSION_SECONDS = 43_200  # what a service's role session lasts at most


@dataclass(frozen=True)
class Keys:
    access_key_id: str
    secret_access_key: str
    session_token: str | None = None

    def environment(self) -> dict[str, str]:
        """As a Lambda function or a container gets them."""
        env = {"AWS_ACCESS_KEY_ID": self.access_key_id, "AWS_SECRET_ACCESS_KEY": self.secret_access_key}
        if self.session_token:
            env["AWS_SESSION_TOKEN"] = self.session_token
        return env

    def session(self, region: str) -> boto3.Session:
        session = boto3.Session(
            aws_access_key_id=self.access_key_id,
            aws_secret_access_key=self.secret_access_key,
            aws_session_token=self.session_token,
            region_name=region,
        )
        # A call to a moto server of this process is answered without a socket (jobs_local.in_process).
        session.events.register("before-send", in_process.before_send)
        return session

    def client(self, service: str, region: str, endpoint_url: str, config: Config | None = None) -> Any:
        return self.session(region).client(service, endpoint_url=endpoint_url, config=config)


def create_administrator(account: str = ACCOUNT) -> Keys:
    """The account's administrator: every action on every resource, as the deployer of the stack."""
    iam = iam_backends[account]["aws"]
    if ADMINISTRATOR not in iam.users:
        iam.create_user(region_name="us-east-1", user_name=ADMINISTRATOR)
        everything = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
        iam.put_user_policy(ADMINISTRATOR, "AdministratorAccess", json.dumps(everything))
    user = iam.users[ADMINISTRATOR]
    for key in list(user.access_keys):  # a new key at every start: the printed one is the only valid one
        iam.delete_access_key(key.access_key_id, ADMINISTRATOR)
    key = iam.create_access_key(ADMINISTRATOR)
    return Keys(key.access_key_id, key.secret_access_key)


class RoleNotTrusted(Exception):
    """The service may not assume the role: AWS refuses to create or run what names it."""


class RoleSessions:
    """What the emulated services get from STS for the roles they act as."""

    def __init__(self, account: str = ACCOUNT, region: str = "us-east-1"):
        self.account = account
        self.region = region
        self.sessions: dict[tuple[str, str], Keys] = {}
        self.lock = threading.Lock()

    def keys(self, role_arn: str, service: str, session_name: str, source_arn: str | None = None) -> Keys:
        """`service` is the principal the role must trust, e.g. `lambda.amazonaws.com`."""
        with self.lock:
            known = self.sessions.get((role_arn, session_name))
            if known is not None:
                return known
            context = {"aws:SourceAccount": self.account}
            if source_arn:  # what the service acts for, e.g. the function or the schedule
                context["aws:SourceArn"] = source_arn
            if not trusts(self.account, role_arn, service=service, context=context):
                raise RoleNotTrusted(f"{service} cannot assume {role_arn}: its trust policy does not trust {service}")
            assumed = sts_backends[self.account]["aws"].assume_role(
                region_name=self.region,
                role_session_name=session_name[:64],
                role_arn=role_arn,
                policy="",
                duration=SESSION_SECONDS,
                external_id="",
            )
            keys = Keys(assumed.access_key_id, assumed.secret_access_key, assumed.session_token)
            self.sessions[(role_arn, session_name)] = keys
            return keys
