"""IAM on every AWS call: who signed it, and whether that principal's policies allow it.

Replaces: moto's `ActionAuthenticatorMixin._authenticate_and_authorize_normal_action` and
`_authenticate_and_authorize_s3_action`. moto authenticates only after `INITIAL_NO_AUTH_ACTION_COUNT`
calls (never, by default), then checks every service but S3, SQS, IAM and STS against the resource
`*`, parses the principal's policies again at every call, and answers a refusal with IAM's XML error
whatever the service. Here, from the first call:
- a request must be signed (SigV4) by a known access key: an IAM user's, or one that STS gave for a
  role (`sts:AssumeRole`); an unknown key, a wrong secret or a wrong session token is refused;
- each check that `iam_resources` finds for it must be allowed by the principal's policies
  (`iam_policies`, each document parsed once), and by its session policy if it has one;
- `sts:AssumeRole` also needs the role's trust policy to trust the caller, as in AWS;
- a GET or HEAD of a missing S3 key also needs `s3:ListBucket` (moto answers 404 to anyone), as in S3;
- a refusal is the service's own error, worded as AWS words it, naming the principal, the action
  and the resource.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from moto.core.authorization import ActionAuthenticatorMixin
from moto.ecs.models import ecs_backends
from moto.iam.models import iam_backends
from moto.s3.models import s3_backends
from moto.secretsmanager.models import secretsmanager_backends
from moto.sts.models import sts_backends

from jobs_local.iam import sigv4
from jobs_local.iam.errors import Refusal, service_error
from jobs_local.iam.policies import Decision, PolicyDocument, decide, parsed
from jobs_local.iam.resources import RequestView, ResourceTable
from jobs_local.iam.trust import role_by_arn, trusts
from jobs_local.patching import Patch

# What AWS lets through without a signature: CloudFormation's ResponseURL is a presigned S3 URL in AWS.
UNSIGNED_PATHS = ("/cloudformation_",)


@dataclass
class Principal:
    arn: str
    secret: str
    token: str | None
    owner: Any  # moto's IAM user or role
    session_policy: PolicyDocument | None = None

    def documents(self) -> list[PolicyDocument]:
        inline = [parsed(text) for text in self.owner.policies.values()]
        managed = [
            parsed(next(v.document for v in policy.versions if v.is_default))
            for policy in self.owner.managed_policies.values()
        ]
        return inline + managed


def _between(text: str, first: str, second: str) -> str:
    return text.partition(first)[2].partition(second)[0]


class Enforcer:
    """Authenticates and authorizes one request at a time; the principals are looked up once."""

    def __init__(self, account: str, resources: ResourceTable):
        self.account = account
        self.resources = resources
        self.principals: dict[str, Principal] = {}
        self.allowed: set[tuple[Any, ...]] = set()
        self.lock = threading.Lock()

    # --- who ----------------------------------------------------------------------------------

    def principal(self, access_key_id: str) -> Principal:
        known = self.principals.get(access_key_id)  # a dict read needs no lock; a miss takes it
        if known is not None:
            return known
        with self.lock:
            known = self.principals.get(access_key_id)
            if known is None:
                known = self._find(access_key_id)
                if known is not None:
                    self.principals[access_key_id] = known
        if known is None:
            raise Refusal("InvalidClientTokenId", "The security token included in the request is invalid.")
        return known

    def _find(self, access_key_id: str) -> Principal | None:
        iam = iam_backends[self.account]["aws"]
        for user in iam.users.values():
            for key in user.access_keys:
                if key.access_key_id == access_key_id and key.status == "Active":
                    return Principal(user.arn, key.secret_access_key, None, user)
        for assumed in sts_backends[self.account]["aws"].assumed_roles:
            if assumed.access_key_id == access_key_id:
                role = role_by_arn(self.account, assumed.role_arn)
                if role is None:
                    return None
                session = parsed(assumed.policy) if assumed.policy else None
                return Principal(assumed.arn, assumed.secret_access_key, assumed.session_token, role, session)
        return None

    # --- the request --------------------------------------------------------------------------

    def authenticate(self, response: Any, header: str, scope: list[str]) -> Principal:
        """The principal who signed the request (its `Authorization` header, and the credential scope
        in it), if the signature is right."""
        if not header.startswith("AWS4-HMAC-SHA256"):
            raise Refusal("MissingAuthenticationToken", "Missing Authentication Token")
        if len(scope) != 5:
            raise Refusal("IncompleteSignature", "The request signature does not conform to AWS standards.")
        principal = self.principal(scope[0])
        if principal.token is not None and response.headers.get("X-Amz-Security-Token") != principal.token:
            raise Refusal("InvalidClientTokenId", "The security token included in the request is invalid.")
        signed = _between(header, "SignedHeaders=", ",").split(";")
        # Only the signed ones, looked up by name: moto's headers are built from the WSGI environ at each read.
        headers = {name.lower(): response.headers.get(name, "") for name in signed}
        expected = sigv4.expected_signature(response, headers, principal.secret, principal.token, scope)
        if expected != _between(header, "Signature=", ","):
            raise Refusal(
                "SignatureDoesNotMatch",
                "The request signature we calculated does not match the signature you provided. "
                "Check your AWS Secret Access Key and signing method.",
            )
        return principal

    def authorize(self, principal: Principal, checks: list[tuple[str, str]]) -> None:
        documents = principal.documents()
        for action, resource in checks:
            # An allowed (principal, policies, action, resource) stays allowed while the policies are
            # the same objects; a changed policy is a new object, and so a new key.
            allowed = (principal.arn, principal.session_policy, *documents, action, resource)
            if allowed in self.allowed:
                continue
            decision = decide(documents, action, resource)
            if decision is Decision.ALLOW and principal.session_policy is not None:
                decision = decide([principal.session_policy], action, resource)
                if decision is not Decision.ALLOW:
                    raise Refusal("AccessDenied", _denied(principal, action, resource, decision, "session policy"))
            if (
                decision is Decision.ALLOW
                and action == "sts:AssumeRole"
                and not trusts(self.account, resource, principal.arn)
            ):
                raise Refusal(
                    "AccessDenied",
                    f"User: {principal.arn} is not authorized to perform: {action} on resource: {resource}",
                )
            if decision is not Decision.ALLOW:
                raise Refusal("AccessDenied", _denied(principal, action, resource, decision, "identity-based policy"))
            if len(self.allowed) > 100_000:
                self.allowed.clear()
            if action != "sts:AssumeRole":  # a trust policy is not in the key: checked every time
                self.allowed.add(allowed)


def _denied(principal: Principal, action: str, resource: str, decision: Decision, kind: str) -> str:
    why = (
        f"with an explicit deny in an {kind}"
        if decision is Decision.DENY
        else f"because no {kind} allows the {action} action"
    )
    return f"User: {principal.arn} is not authorized to perform: {action} on resource: {resource} {why}"


_enforcer: Enforcer | None = None


def _enforce(response: Any, checks_of: Any) -> None:
    if _enforcer is None or response.raw_path.startswith(UNSIGNED_PATHS):
        return
    if response.__dict__.get("_iam_checked"):  # atomic_dynamodb checked it before its lock
        return
    header = response.headers.get("Authorization") or ""
    scope = _between(header, "Credential=", ",").split("/")  # key/date/region/service/aws4_request
    service = scope[3] if len(scope) == 5 else "?"
    try:
        principal = _enforcer.authenticate(response, header, scope)
        _enforcer.authorize(principal, checks_of(service))
    except Refusal as refusal:
        raise service_error(service, refusal) from None


def _normal_action(self: Any, resource: str = "*") -> None:
    def checks(service: str) -> list[tuple[str, str]]:
        view = RequestView(
            service, self._get_action(), self.region, self.current_account, self.path, self.querystring, self.body
        )
        return _enforcer.resources.checks(view) if _enforcer else []

    _enforce(self, checks)


def _s3_action(self: Any, bucket_name: str | None = None, key_name: str | None = None) -> None:
    arn = f"{bucket_name or '*'}/{key_name}" if key_name else (bucket_name or "*")
    action = f"s3:{self.data['Action']}"

    def checks(_: str) -> list[tuple[str, str]]:
        found = [(action, f"arn:aws:s3:::{arn}")]
        # S3 tells a missing key (404) only to who may list the bucket; to others it is 403, so that
        # keys cannot be probed. A GET or HEAD of it also needs s3:ListBucket.
        if action == "s3:GetObject" and bucket_name and key_name and not _s3_key_exists(bucket_name, key_name):
            found.append(("s3:ListBucket", f"arn:aws:s3:::{bucket_name}"))
        return found

    _enforce(self, checks)


def _s3_key_exists(bucket_name: str, key_name: str) -> bool:
    assert _enforcer is not None
    bucket = s3_backends[_enforcer.account]["aws"].buckets.get(bucket_name)
    return bucket is None or bucket.keys.get(key_name) is not None  # no bucket: S3 says NoSuchBucket


def _lookups(account: str, region: str) -> ResourceTable:
    """What a request names by a short name, as the ARN that IAM checks."""

    def roles_of_task_definition(name: str) -> tuple[str, list[str]]:
        try:
            definition = ecs_backends[account][region].describe_task_definition(name)
        except Exception:  # noqa: BLE001 - an unknown definition is checked by its name; ECS then says it is unknown
            return f"arn:aws:ecs:{region}:{account}:task-definition/{name.rsplit('/', 1)[-1]}", []
        roles = [getattr(definition, a, None) for a in ("task_role_arn", "execution_role_arn")]
        return definition.arn, [role for role in roles if role]

    def secret_arn(secret_id: str) -> str:
        try:
            return secretsmanager_backends[account][region].secrets[secret_id].arn
        except KeyError:
            return (
                secret_id
                if secret_id.startswith("arn:")
                else f"arn:aws:secretsmanager:{region}:{account}:secret:{secret_id}"
            )

    return ResourceTable(roles_of_task_definition, secret_arn)


def enforce_in(account: str, region: str) -> None:
    """The account whose policies decide, once PATCH is installed: every call to the moto server of
    this process is then authenticated and authorized."""
    global _enforcer
    _enforcer = Enforcer(account, _lookups(account, region))


PATCH = Patch(
    "moto's ActionAuthenticatorMixin checks, which authorize nothing by default, and then against '*'",
    [
        (ActionAuthenticatorMixin, "_authenticate_and_authorize_normal_action", _normal_action),
        (ActionAuthenticatorMixin, "_authenticate_and_authorize_s3_action", _s3_action),
    ],
)
