"""The local stack: template.yaml deployed into an embedded moto server, with what moto leaves out
filled in, one module per gap, each naming the moto behaviour it replaces:

- `iam_enforcement`, `iam_resources`, `iam_policies`, `iam_trust`, `iam_errors`, `sigv4`: every
  call is authenticated (SigV4, a known key and session token) and authorized on the resource ARN
  that IAM checks, trust policies included, and a refusal is the service's own error (moto
  authorizes nothing by default, and then only against `*`, with IAM's XML error).
- `credentials`: each emulated service signs with its role's credentials, as AWS's services take
  them; the deployment and the operator sign as the account's administrator (moto accepts any keys).
- `managed_policies`, `ecs_task_definitions`, `log_group_arn`: CloudFormation attaches a role's
  managed policies, keeps a task definition's roles, and gives a log group's ARN with its `:*`
  (moto's CloudFormation drops the first two and leaves out the `:*`).
- `lambda_limits`, `logs_limits`, `stepfunctions_limits`: Lambda's payload sizes and reserved
  concurrency, CloudWatch Logs' batch and page sizes, Step Functions' input size (moto has none).
- `atomic_dynamodb`: each DynamoDB request is one atomic step (moto checks a condition, then
  writes, while other requests run on other threads).
- `lambda_runtime`, `worker`: Lambda functions run their handler code in warm local processes
  (moto starts Docker containers).
- `ecs_integration`: Step Functions' `ecs:runTask.sync` maps ASL's parameters onto ECS's API and
  fails on a failed task (moto's interpreter passes them through and accepts any stopped task).
- `ecs_tasks`: ECS tasks run their container's command as local processes, and `StopTask` stops
  them (moto's ECS runs nothing and stops tasks after a few describes).
- `gateway`, `api_events`: API Gateway sends each request to its function as a proxy event, after
  the token authorizer, and answers 504 after its 29 s integration timeout (moto routes nothing to
  Lambda).
- `scheduler`: EventBridge schedule rules and EventBridge Scheduler schedules fire (moto stores
  them only).
- `wait_state`: a `Wait` until a timestamp waits until that moment (moto's uses the local clock
  and whole seconds).
- `custom_resources`: CloudFormation custom resources answer and fail as in AWS (moto's
  ResponseURL points at Docker, it drops FAILED answers and cannot pass a layer's `Ref`).
- `persistence`: the stack's tables, buckets and log streams outlive a restart (moto keeps them in
  memory).
- `deploy`: the SAM template goes into moto's CloudFormation (with `DefinitionSubstitutions`
  folded into an `Fn::Join`, secrets created through their API, state machines handed to the executing
  backend: moto's CloudFormation does none of these).
- `access_logs`: API Gateway writes the stage's access log lines (moto writes none).

And where moto keeps the promise but slowly, so that the stack is fast enough to use and test:
- `asl_programs`, `asl_paths`: a state machine's definition and its JSONPaths are parsed once
  (moto parses them again for every execution and every evaluation).
- `asl_clients`: the state machine's tasks share one client per service (moto makes one per task).
- `dynamodb_responses`: DynamoDB items are written out directly (moto's generic serializer walks
  every attribute value, member by member).
- `transaction_rollback`: a failed transaction puts back the items it wrote (moto copies every
  table it names before it starts).
- `moto_server`: responses leave without Nagle's delay, and each request's service is found once
  per host (moto walks hundreds of URL patterns per request).
- `lambda_runtime` also serves waiting invocations first come, first served, and runs the workers
  that no person waits on at a lower CPU priority (on AWS each has its own CPU).
"""
