"""The local stack: template.yaml deployed into an embedded moto server, with what moto leaves out
filled in, one module per gap, each naming the moto behaviour it replaces:

- `atomic_dynamodb`: each DynamoDB request is one atomic step (moto checks a condition, then
  writes, while other requests run on other threads).
- `lambda_runtime`, `worker`: Lambda functions run their handler code in warm local processes
  (moto starts Docker containers).
- `ecs_integration`: Step Functions' `ecs:runTask.sync` maps ASL's parameters onto ECS's API and
  fails on a failed task (moto's interpreter passes them through and accepts any stopped task).
- `ecs_tasks`: ECS tasks run their container's command as local processes, and `StopTask` stops
  them (moto's ECS runs nothing and stops tasks after a few describes).
- `gateway`, `api_events`: API Gateway sends each request to its function as a proxy event, after
  the token authorizer (moto routes nothing to Lambda).
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
"""
