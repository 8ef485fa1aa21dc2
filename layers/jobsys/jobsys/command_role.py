"""What a command may do with AWS: the command role's, never the runner's.

The runner's own role writes jobs, locks and slots; a command holding its credentials could delete
or forge any of them. A command that asks for AWS credentials (a catalogue command, or a jobs.yaml
`env:` that passes AWS_ACCESS_KEY_ID on) gets a session of CommandRole (template.yaml), named after
its job, and none of the runner's: only what the shipped catalogue needs. A session is one hour at
most: a runner's role assuming another is role chaining, which AWS caps so."""

from __future__ import annotations

from typing import Any

# The runner's own credentials, in every form a process can find them.
CREDENTIAL_NAMES = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_ROLE_ARN",
)
SESSION_SECONDS = (900, 3600)  # STS's least, and role chaining's most


class CommandRole:
    """Sessions of the command role, one a job."""

    def __init__(self, sts: Any, role_arn: str):
        self.sts = sts
        self.role_arn = role_arn

    def credentials(self, job_id: str, max_runtime: int) -> dict[str, str]:
        """The environment of a command's own credentials; empty where no command role is set (a
        command then has no AWS credentials at all)."""
        if not self.role_arn:
            return {}
        least, most = SESSION_SECONDS
        session = self.sts.assume_role(
            RoleArn=self.role_arn,
            RoleSessionName=f"job-{job_id}",
            DurationSeconds=max(least, min(max_runtime + 300, most)),
        )["Credentials"]
        return {
            "AWS_ACCESS_KEY_ID": session["AccessKeyId"],
            "AWS_SECRET_ACCESS_KEY": session["SecretAccessKey"],
            "AWS_SESSION_TOKEN": session["SessionToken"],
        }


def with_command_credentials(env: dict[str, str], credentials: dict[str, str]) -> dict[str, str]:
    """`env` without any of the runner's credentials, and with `credentials` (the command role's,
    for a command that asked for them)."""
    return {name: value for name, value in env.items() if name not in CREDENTIAL_NAMES} | credentials
