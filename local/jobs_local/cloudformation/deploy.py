"""Deploys template.yaml into moto: aws-sam-translator turns it into CloudFormation, moto's
CloudFormation creates the resources. The same template, state machine and handler code as in
AWS; only local paths are swapped for uploaded zips, as `sam deploy` does.
"""

from __future__ import annotations

import copy
import io
import json
import os
import re
import time
import warnings
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from samcli.yamlhelper import yaml_parse
from samtranslator.translator.transform import transform

from jobs_local.apigateway.events import Route
from jobs_local.lambda_.environment import FunctionCode

ARTIFACT_BUCKET = "local-deploy-artifacts"


@dataclass(frozen=True)
class DeployedStack:
    name: str
    physical_ids: dict[str, str]  # logical id -> physical id
    functions: dict[str, FunctionCode]  # physical function name -> local code
    folders: dict[str, Path]  # logical id of a function or layer -> its local folder
    types: dict[str, str]  # logical id -> resource type
    account: str  # the account it is deployed in


def load_template(path: Path) -> dict[str, Any]:
    return yaml_parse(path.read_text(encoding="utf-8"))


def _zip_dir(folder: Path) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for file in sorted(folder.rglob("*")):
            if file.is_file() and "__pycache__" not in file.parts:
                archive.write(file, file.relative_to(folder))
    return buffer.getvalue()


def deploy(
    session: Any,
    template_path: Path,
    stack_name: str,
    parameters: dict[str, str] | None = None,
    content_overrides: dict[str, Path] | None = None,
    on_functions: Callable[[dict[str, FunctionCode]], None] = lambda functions: None,
    timeout: float = 120,
) -> DeployedStack:
    """content_overrides swaps a layer's or function's folder (by logical id), e.g. another config.

    `on_functions` gets the functions' code as soon as they exist: a custom resource may call one
    before the stack is complete.
    """
    root = template_path.parent
    sam = load_template(template_path)
    overrides = content_overrides or {}
    s3 = session.client("s3")
    if session.region_name == "us-east-1":
        s3.create_bucket(Bucket=ARTIFACT_BUCKET)
    else:
        s3.create_bucket(Bucket=ARTIFACT_BUCKET, CreateBucketConfiguration={"LocationConstraint": session.region_name})

    local_dirs: dict[str, Path] = {}
    for logical_id, resource in sam["Resources"].items():
        props = resource.get("Properties", {})
        kind = resource["Type"]
        if kind == "AWS::Serverless::StateMachine" and "DefinitionUri" in props:
            props["Definition"] = json.loads((root / props.pop("DefinitionUri")).read_text(encoding="utf-8"))
        uri_key = {"AWS::Serverless::Function": "CodeUri", "AWS::Serverless::LayerVersion": "ContentUri"}.get(kind)
        if uri_key and isinstance(props.get(uri_key), str):
            folder = Path(overrides.get(logical_id) or root / props[uri_key]).resolve()
            key = f"{stack_name}/{logical_id}.zip"
            s3.put_object(Bucket=ARTIFACT_BUCKET, Key=key, Body=_zip_dir(folder))
            props[uri_key] = {"Bucket": ARTIFACT_BUCKET, "Key": key}
            local_dirs[logical_id] = folder

    os.environ.setdefault("AWS_DEFAULT_REGION", session.region_name)
    cfn_template = transform(copy.deepcopy(sam), parameters or {}, None)
    for resource in cfn_template["Resources"].values():
        if resource["Type"] == "AWS::StepFunctions::StateMachine":
            _fold_substitutions(resource["Properties"])
    _leave_out_what_runs_elsewhere(cfn_template)
    created_apart = _create_secrets(session, stack_name, cfn_template)

    cfn = session.client("cloudformation")
    # moto skips the resources it does not model (the bucket policy); they only matter in AWS.
    warnings.filterwarnings("ignore", message="Tried to parse AWS::", category=UserWarning)
    cfn.create_stack(
        StackName=stack_name,
        TemplateBody=json.dumps(cfn_template),
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in (parameters or {}).items()],
        Capabilities=["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"],
    )
    account = session.client("sts").get_caller_identity()["Account"]
    _hand_state_machines_to_interpreter(session, account)
    resources = cfn.list_stack_resources(StackName=stack_name)["StackResourceSummaries"]
    physical = {r["LogicalResourceId"]: r["PhysicalResourceId"] for r in resources} | created_apart
    types = {r["LogicalResourceId"]: r["ResourceType"] for r in resources}

    functions: dict[str, FunctionCode] = {}
    for logical_id, resource in sam["Resources"].items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        layers = resource["Properties"].get("Layers") or sam.get("Globals", {}).get("Function", {}).get("Layers", [])
        layer_dirs = tuple(local_dirs[layer["Ref"]] for layer in layers if isinstance(layer, dict) and "Ref" in layer)
        functions[physical[logical_id]] = FunctionCode(code_dir=local_dirs[logical_id], layer_dirs=layer_dirs)
    on_functions(functions)
    _wait_until_created(cfn, stack_name, timeout)
    return DeployedStack(stack_name, physical, functions, local_dirs, types, account)


def _wait_until_created(cfn: Any, stack_name: str, timeout: float) -> None:
    """Custom resources answer after create_stack has returned, as in AWS."""
    deadline = time.monotonic() + timeout
    while True:
        stack = cfn.describe_stacks(StackName=stack_name)["Stacks"][0]
        if stack["StackStatus"] == "CREATE_COMPLETE":
            return
        if stack["StackStatus"] != "CREATE_IN_PROGRESS" or time.monotonic() > deadline:
            events = cfn.describe_stack_events(StackName=stack_name)["StackEvents"]
            reasons = [e["ResourceStatusReason"] for e in events if e.get("ResourceStatusReason")]
            raise RuntimeError(f"stack {stack_name} is {stack['StackStatus']}: {'; '.join(reasons) or 'no reason'}")
        time.sleep(0.1)


# moto cannot create a REST API from an OpenAPI body, nor route requests to Lambda: the local
# gateway (jobs_local.apigateway.gateway) serves the template's Api events instead.
LOCAL_GATEWAY_TYPES = {"AWS::ApiGateway::RestApi", "AWS::ApiGateway::Deployment", "AWS::ApiGateway::Stage"}
# moto's CloudFormation does not model alarms (a GetAtt to one fails the stack), and nothing local
# reads CloudWatch metrics: the failed-jobs alarm, and the dashboard that shows it, are AWS's only.
AWS_ONLY_TYPES = {"AWS::CloudWatch::Alarm"}


def _mentions(value: Any, names: set[str]) -> bool:
    text = json.dumps(value)
    return any(f'"{name}"' in text or f"${{{name}" in text for name in names)


def _leave_out_what_runs_elsewhere(template: dict[str, Any]) -> None:
    resources = template["Resources"]
    removed = {name for name, r in resources.items() if r["Type"] in LOCAL_GATEWAY_TYPES | AWS_ONLY_TYPES}
    while True:  # and whatever refers to them, such as Lambda permissions for the API
        dependent = {name for name, r in resources.items() if name not in removed and _mentions(r, removed)}
        if not dependent:
            break
        removed |= dependent
    for name in removed:
        del resources[name]
    outputs = template.get("Outputs", {})
    for name in [n for n, o in outputs.items() if _mentions(o, removed)]:
        del outputs[name]


def api_routes(sam: dict[str, Any], api: str) -> list[Route]:
    """The routes of one API of the SAM template (by logical id), from its functions' Api events.

    A route's authorizer is the function of the API's Lambda authorizer, or None where the event
    turns it off (`Authorizer: NONE`).
    """
    auth = sam["Resources"][api]["Properties"].get("Auth") or {}
    routes = []
    for logical_id, resource in sam["Resources"].items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        for event in (resource["Properties"].get("Events") or {}).values():
            props = event["Properties"]
            if event["Type"] != "Api" or props.get("RestApiId") != {"Ref": api}:
                continue
            name = (props.get("Auth") or {}).get("Authorizer", auth.get("DefaultAuthorizer"))
            authorizer = None
            if name and name != "NONE":
                function_arn = auth["Authorizers"][name]["FunctionArn"]
                authorizer = function_arn["Fn::GetAtt"][0] if isinstance(function_arn, dict) else function_arn
            routes.append(Route(props["Method"].upper(), props["Path"], logical_id, authorizer))
    return routes


def _create_secrets(session: Any, stack_name: str, template: dict[str, Any]) -> dict[str, str]:
    """moto's CloudFormation has no AWS::SecretsManager::Secret: each is created through the Secrets
    Manager API (a generated value as GenerateSecretString asks), and Refs to it become its ARN."""
    secrets = session.client("secretsmanager")
    created: dict[str, str] = {}
    for logical_id, resource in list(template["Resources"].items()):
        if resource["Type"] != "AWS::SecretsManager::Secret":
            continue
        props = resource.get("Properties", {})
        value = props.get("SecretString")
        if value is None:
            spec = props.get("GenerateSecretString", {})
            value = secrets.get_random_password(
                PasswordLength=int(spec.get("PasswordLength", 32)),
                ExcludePunctuation=bool(spec.get("ExcludePunctuation", False)),
            )["RandomPassword"]
        arn = secrets.create_secret(Name=f"{stack_name}-{logical_id}", SecretString=value)["ARN"]
        created[logical_id] = arn
        del template["Resources"][logical_id]
    if created:
        text = json.dumps(template)
        for logical_id, arn in created.items():
            text = text.replace(json.dumps({"Ref": logical_id}), json.dumps(arn))
        template.clear()
        template.update(json.loads(text))
    return created


def _hand_state_machines_to_interpreter(session: Any, account: str) -> None:
    """moto's CloudFormation creates state machines in the backend that does not execute them;
    the same definitions go to the executing backend (this process hosts the moto server)."""
    from moto.stepfunctions.models import stepfunctions_backends
    from moto.stepfunctions.parser.models import stepfunctions_parser_backends

    created = stepfunctions_backends[account][session.region_name]
    executing = stepfunctions_parser_backends[account][session.region_name]
    known = {machine.arn for machine in executing.state_machines}
    for machine in created.state_machines:
        if machine.arn not in known:
            executing.create_state_machine(name=machine.name, definition=machine.definition, roleArn=machine.roleArn)


def _fold_substitutions(props: dict[str, Any]) -> None:
    """moto's CloudFormation ignores DefinitionSubstitutions: an Fn::Join of the definition's text
    and the substitutions' values does the same job. (Not Fn::Sub: moto's runs string.Template
    over the text, which turns the ASL's `$$.Task.Token` into `$.Task.Token`.)"""
    substitutions = props.pop("DefinitionSubstitutions", None)
    if not substitutions:
        return
    definition = props.pop("DefinitionString", None)
    if definition is None:
        definition = json.dumps(props.pop("Definition"), indent=2)
    if isinstance(definition, dict) and "Fn::Join" in definition:
        separator, parts = definition["Fn::Join"]
        definition = separator.join(parts)
    pieces: list[Any] = []
    for i, part in enumerate(re.split(r"\$\{([A-Za-z0-9_]+)\}", definition)):
        if i % 2 == 0:
            pieces.append(part)
        else:
            pieces.append(substitutions.get(part, "${" + part + "}"))
    props["DefinitionString"] = {"Fn::Join": ["", pieces]}
