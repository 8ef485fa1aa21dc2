"""CloudWatch Logs.

- `limits`: batch and page sizes, and throttles (moto has none).
- `group_arn`: a log group's CloudFormation `Arn` ends in `:*` (moto's leaves it out).
"""
