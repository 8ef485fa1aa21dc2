"""IAM: every call is authenticated and authorized as AWS does it (moto authorizes nothing by
default, and then only against `*`).

- `enforcement`, `sigv4`: SigV4 with a known key and session token, then the policies.
- `resources`: the ARN each request acts on, per service and action.
- `policies`, `trust`: identity policies with their conditions, and roles' trust policies.
- `errors`: a refusal is the service's own error (moto's is IAM's XML).
- `credentials`: each service signs with its role's credentials, as AWS's services take them.
- `managed_policies`: CloudFormation attaches a role's managed policies (moto's drops them).
- `policy_documents`: AWS's managed policies' documents written out when read, not all at start.
- `role`: `python -m jobs_local.iam.role NAME` prints a role's credentials, to act as it by hand.
"""
