"""Step Functions: the executing interpreter of moto, made to behave as AWS's.

- `ecs_integration`: `ecs:runTask.sync` maps ASL's parameters onto ECS's API, fails on a failed
  task and stops it on a timeout (moto's interpreter passes them through and accepts any task).
- `execution_stop`: StopExecution ends an execution at once (moto's waits for the state to return).
- `wait_state`: a `Wait` until a timestamp waits until that moment (moto's uses the local clock).
- `limits`: an execution's input is at most 256 KiB (moto takes any size).
- `asl_programs`, `asl_paths`, `asl_clients`: definitions and JSONPaths parsed once, one client
  per service (moto parses again for each execution and makes a client per task).
"""
