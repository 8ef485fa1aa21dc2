"""CloudFormation: the SAM template deployed into moto.

- `deploy`: `DefinitionSubstitutions`, secrets and state machines, which moto's CloudFormation
  does not handle.
- `custom_resources`: custom resources answer and fail as in AWS (moto's ResponseURL points at
  Docker, and it drops FAILED answers).
"""
