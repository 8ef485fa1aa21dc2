"""`python -m jobs_local.role NAME`: shell exports that act as one of the running local stack's roles.

AWS lets only the service that a role trusts assume it (Lambda for a function's role, ECS for a
task's, ...), not the account's users, and so does the local stack: `sts assume-role` with the
administrator's keys is refused. The stack takes each role's credentials as its service would and
keeps them for this command, so that a developer can try by hand what a role may do:

    eval "$(.venv/bin/python -m jobs_local.role RunnerTaskRole)"
    aws --endpoint-url "$AWS_ENDPOINT_URL" dynamodb delete-table --table-name …   # AccessDenied
"""

from __future__ import annotations

import shlex
import sys

from jobs_local.connection import local_stack


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    found = local_stack()
    if not found or "roles" not in found:
        print("no local stack is running: start one with make run", file=sys.stderr)
        return 1
    roles = found["roles"]
    if len(args) != 1 or args[0] not in roles:
        print(f"usage: python -m jobs_local.role NAME, one of: {', '.join(sorted(roles))}", file=sys.stderr)
        return 2
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
