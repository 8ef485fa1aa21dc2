"""ECS: tasks run their container's command as local processes (moto's ECS runs nothing).

- `tasks`: RunTask starts the command, StopTask stops it, DescribeTasks tells how it ended.
- `task_definitions`: CloudFormation keeps a task definition's roles (moto's drops them).
"""
