"""The local stack: template.yaml deployed into an embedded moto server, with what moto leaves out
filled in. One folder per AWS service holds the gaps of moto's that this project depends on, and the
patches that make moto fast enough to use; each package's docstring lists its modules:

- `iam/`: every call authenticated and authorized on the ARN that IAM checks; roles' credentials.
- `dynamodb/`: atomic requests and transactions; items written out directly.
- `stepfunctions/`: the `ecs:runTask.sync` integration, StopExecution, `Wait` until a timestamp,
  the input limit; definitions, paths and clients made once.
- `lambda_/`: functions run as warm local processes; payload limits and reserved concurrency.
- `ecs/`: tasks run their container's command as local processes.
- `apigateway/`: requests reach their functions through the authorizer, with access logs.
- `scheduler/`: EventBridge rules and Scheduler's schedules fire.
- `logs/`: CloudWatch Logs' limits, and a log group's CloudFormation ARN.
- `cloudformation/`: the SAM template deployed; custom resources answered.

Every change to moto's own code is a `Patch` (`patching.py`) that names the moto behaviour it
replaces; `patches.PATCHES` lists them, in the order the stack installs them
(`python -m jobs_local.patches` prints them). The rest is the stack itself: `stack.py` starts and
stops it, `moto_server.py` serves moto, `persistence.py` keeps its state across restarts,
`process.py` runs it as a child process (`host.py`: the checkout and a free port, without moto),
`heap.py` tunes the garbage collector of a process that holds it, and `__main__.py` is `make run`.
"""

from jobs_local import botocore_models

# Before anything imports moto: its EC2 models (which ECS's import) make three boto3 sessions as they
# are imported, each of which parsed EC2's API model anew (0.45 CPU-s of every stack's boot).
botocore_models.PATCH.install()
