"""`python -m jobs_local.iam.role NAME`: shell exports that act as one of the running local stack's roles.

AWS lets only the service that a role trusts assume it (Lambda for a function's role, ECS for a
task's, ...), not the account's users, and so does the local stack: `sts assume-role` with the
administrator's keys is refused. The stack takes each role's credentials as its service would and
keeps them for this command, so that a developer can try by hand what a role may do:

    eval "$(.venv/bin/python -m jobs_local.iam.role RunnerTaskRole)"
    aws --endpoint-url "$AWS_ENDPOINT_URL" dynamodb delete-table --table-name …   # AccessDenied

`--credential-process` prints them as the AWS CLI's and boto3's `credential_process` reads them,
for a profile that acts as the role (`~/.aws/config`):

    [profile jobs-runner]
    credential_process = /path/to/.venv/bin/python -m jobs_local.iam.role --credential-process RunnerTaskRole
"""

from __future__ import annotations

import json
import shlex
import sys

from jobs_cli.connection import local_stack


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    as_process = "--credential-process" in args
    args = [arg for arg in args if arg != "--credential-process"]
    found = local_stack()
    if not found or "roles" not in found:
        print("no local stack is running: start one with make run", file=sys.stderr)
        return 1
    roles = found["roles"]
    if len(args) != 1 or args[0] not in roles:
        print(
            f"usage: python -m jobs_local.iam.role [--credential-process] NAME, one of: {', '.join(sorted(roles))}",
            file=sys.stderr,
        )
        return 2
    if as_process:
        keys = roles[args[0]]
        print(
            json.dumps(
                {
                    "Version": 1,
                    "AccessKeyId": keys["AWS_ACCESS_KEY_ID"],
                    "SecretAccessKey": keys["AWS_SECRET_ACCESS_KEY"],
                    "SessionToken": keys["AWS_SESSION_TOKEN"],
                }
            )
        )
        return 0
    variables = {
        **roles[args[0]],
        "AWS_ENDPOINT_URL": found["aws_endpoint"],
        "AWS_DEFAULT_REGION": found["aws_region"],
    }
    for name, value in variables.items():
        print(f"export {name}={shlex.quote(value)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
