"""CloudFormation: the SAM template deployed into moto.

- `deploy`: `DefinitionSubstitutions`, secrets and state machines, which moto's CloudFormation
  does not handle.
- `custom_resources`: custom resources answer and fail as in AWS (moto's ResponseURL points at
  Docker, and it drops FAILED answers).
- `stack_resources`: a stack's resources listed without the ones moto skipped.
- `template_json`: a JSON template read as JSON, not by PyYAML's pure-Python loader.
"""
