"""The whole system on one machine: an embedded moto server with template.yaml deployed into it."""

from __future__ import annotations

import functools
import json
import os
import shutil
import socket
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests
from botocore.config import Config
from moto.awslambda.models import lambda_backends
from moto.dynamodb.models import dynamodb_backends
from moto.moto_server.threaded_moto_server import ThreadedMotoServer

from jobs_local.apigateway.access_logs import AccessLog
from jobs_local.apigateway.events import Route
from jobs_local.cloudformation.deploy import DeployedStack, api_routes, deploy, load_template
from jobs_local.dynamodb.streams import forget_what_is_there
from jobs_local.ecs.tasks import LocalImage, LocalTasks
from jobs_local.iam import enforcement
from jobs_local.iam.credentials import ACCOUNT, Keys, RoleSessions, create_administrator
from jobs_local.iam.trust import trusted_services
from jobs_local.lambda_.runtime import LambdaRuntime
from jobs_local.lambda_.stream_pollers import StreamPollers
from jobs_local.patches import install_all
from jobs_local.people_first import PEOPLE_FIRST
from jobs_local.persistence import SavedState
from jobs_local.scheduler.schedules import Scheduler
from jobs_local.stepfunctions import asl_clients
from jobsys.cleanup import interrupted_runs
from jobsys.config import load_config
from jobsys.store import JobStore

ROOT = Path(__file__).resolve().parents[2]
REGION = "us-east-1"
CONFIG_LAYER = "ConfigLayer"
# The API served on 127.0.0.1: the back-office API, whose bearer token a local client can send
# (the other API checks SigV4 signatures, which only AWS can verify).
LOCAL_API = "BackOfficeApi"
TOKEN_SECRET = "BackOfficeToken"
API_LOGS_ROLE = "ApiGatewayCloudWatchRole"
ACCESS_LOG_FILE = "api-access.log"  # in the state folder: the API's access log, as its log group holds it
# RunnerImageUri here: the image that functions/runner/Dockerfile builds, as LocalImage below holds it.
RUNNER_IMAGE = "jobs-local/runner:latest"
INTERRUPTED = "the local stack stopped while it ran"
LAMBDA_RESPONSE_LIMIT = 6_291_556  # bytes: a synchronous invocation's largest response


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class LocalStack:
    def __init__(
        self,
        root: Path = ROOT,
        config_path: Path | None = None,
        parameters: dict[str, str] | None = None,
        stack_name: str = "jobs-local",
        moto_port: int | None = None,
        concurrency: int = 8,
        log: Callable[[str, str], None] | None = None,
        state_dir: Path | None = None,
        reset: bool = False,
        schedule_speedup: float = 1.0,
        template: Path | None = None,
        warm_api: int = 0,
    ):
        """With a `state_dir`, the stack's data is saved there and loaded at the next start (unless `reset`).
        `template` deploys another SAM template than the checkout's (its paths relative to its folder).
        `warm_api`: environments of each function behind the local API started while the stack
        boots, and as many of its authorizer, as provisioned concurrency keeps them."""
        self.root = root
        self.template = template or root / "template.yaml"
        self.config_path = config_path
        self.parameters = parameters or {}
        self.stack_name = stack_name
        self.moto_port = moto_port or free_port()
        self.endpoint_url = f"http://127.0.0.1:{self.moto_port}"
        self.concurrency = concurrency
        self.warm_api = warm_api
        self.log = log
        self.server: ThreadedMotoServer | None = None
        self.runtime: LambdaRuntime | None = None
        self.tasks: LocalTasks | None = None
        self.state_dir = state_dir
        self.reset = reset
        self.saved: SavedState | None = None
        self.schedule_speedup = schedule_speedup
        self.scheduler: Scheduler | None = None
        self.stream_pollers: StreamPollers | None = None
        self.stack: DeployedStack | None = None
        self.routes: list[Route] = []
        self.access_log: AccessLog | None = None
        self._config_dir: str | None = None
        self._clients: dict[str, Any] = {}
        self.roles = RoleSessions(ACCOUNT, REGION)
        self.administrator: Keys | None = None

    # --- lifecycle ----------------------------------------------------------------------------

    def start(self) -> LocalStack:
        overrides = {}
        if self.config_path is not None:
            overrides[CONFIG_LAYER] = self._config_layer(self.config_path)
        # moto's state machine interpreter reaches the other services on this port.
        os.environ["MOTO_PORT"] = str(self.moto_port)
        install_all()  # before the first use of a backend: IAM's loads AWS's managed policies then
        # IAM from the first call on: only the deployment and the operator sign as the administrator.
        self.administrator = create_administrator(ACCOUNT)
        PEOPLE_FIRST.people_keys.add(self.administrator.access_key_id)  # the operator's own tools
        enforcement.enforce_in(ACCOUNT, REGION)
        asl_clients.sign_as(self.roles)
        self.server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.moto_port, verbose=False)
        self.server.start()
        requests.post(
            f"{self.endpoint_url}/moto-api/config", json={"stepfunctions": {"execute_state_machine": True}}, timeout=10
        ).raise_for_status()
        if self.state_dir is not None:
            # The same generated names at every start, as a deployed stack keeps its resources' names.
            requests.post(f"{self.endpoint_url}/moto-api/seed?a=1", timeout=10).raise_for_status()
        self.runtime = LambdaRuntime(self.endpoint_url, REGION, self.roles, concurrency=self.concurrency, log=self.log)
        self.runtime.serve()
        self.tasks = LocalTasks(self.endpoint_url, REGION, self.roles, log=self.log)
        self.tasks.serve()
        template = self.template
        parameters = {**self._fargate_parameters(), **self.parameters}
        runtime = self.runtime
        self.stack = deploy(
            self.session(),
            template,
            self.stack_name,
            parameters,
            overrides,
            on_functions=lambda functions: [runtime.register(name, code) for name, code in functions.items()],
        )
        self.tasks.register_image(RUNNER_IMAGE, self._runner_image())
        physical = self.stack.physical_ids
        sam = load_template(template)
        self.routes = [
            route._replace(target=physical[route.target], authorizer=route.authorizer and physical[route.authorizer])
            for route in api_routes(sam, LOCAL_API)
        ]
        self.runtime.answer_people_first(
            {route.target for route in self.routes} | {route.authorizer for route in self.routes if route.authorizer}
        )
        provisioning = []
        if self.warm_api:
            functions = lambda_backends[self.stack.account][REGION]
            for name in {route.target for route in self.routes}:
                provisioning.append(
                    self.runtime.provision(functions.get_function(name, None), min(self.warm_api, self.concurrency))
                )
            # The authorizer too: a burst of new connections asks it once each before its cache holds the token.
            for name in {route.authorizer for route in self.routes if route.authorizer}:
                provisioning.append(
                    self.runtime.provision(functions.get_function(name, None), min(self.warm_api, self.concurrency))
                )
        mirror = self.state_dir / ACCESS_LOG_FILE if self.state_dir is not None else None
        # API Gateway writes access logs with the account's CloudWatch role (AWS::ApiGateway::Account).
        logs_role = self.session().client("iam").get_role(RoleName=physical[API_LOGS_ROLE])["Role"]["Arn"]
        logs = self._client_as(logs_role, "apigateway.amazonaws.com", "", "logs")
        self.access_log = AccessLog.from_template(sam, LOCAL_API, physical, logs, mirror)
        if self.state_dir is not None:
            resources = {lid: (self.stack.types.get(lid, ""), physical[lid]) for lid in physical}
            saved = SavedState(self.state_dir, self.session(), resources)
            if self.reset:
                saved.reset()
            saved.load()
            forget_what_is_there(dynamodb_backends[self.stack.account][REGION], physical["JobsTable"])
            self.close_interrupted_jobs()
            self.saved = saved  # saved from now on: never a stack that failed to load what was there
            saved.save_every()
        log = self.log
        self.scheduler = Scheduler(
            self.client("events"),
            self.client("scheduler"),
            self.client("lambda"),
            lambda role, schedule: self._client_as(role, "scheduler.amazonaws.com", schedule, "lambda"),
            self.schedule_speedup,
            log=(lambda line: log("scheduler", line)) if log else None,
        ).start()
        self.stream_pollers = StreamPollers(
            self.client("lambda"),
            lambda role, service: self._client_as(role, "lambda.amazonaws.com", "", service),
            self._invoke_from_lambda,
            REGION,
            log=(lambda line: log("streams", line)) if log else None,
        ).start()
        # Ready once the API's provisioned environments are: as an alias takes traffic only then.
        for thread in provisioning:
            thread.join()
        return self

    def _invoke_from_lambda(self, function_arn: str, event: dict[str, Any]) -> tuple[Any, bool]:
        """An invocation that Lambda makes itself (an event source mapping's): no caller to authorize."""
        payload, failed = self._invoke_inside(function_arn, event)
        return json.loads(payload or "null"), failed

    def _invoke_inside(self, function: str, event: dict[str, Any]) -> tuple[str, bool]:
        """An invocation from inside the services (API Gateway's, a mapping's): its reply, and whether it failed."""
        assert self.runtime is not None and self.stack is not None
        found = lambda_backends[self.stack.account][REGION].get_function(function, None)
        payload, failed, _ = self.runtime.invoke(found, event)
        return payload, failed

    def stop(self) -> None:
        try:
            if self.scheduler is not None:
                self.scheduler.stop()
            # Before the functions stop: the changes made so far still become events.
            if self.stream_pollers is not None:
                self.stream_pollers.stop()
            # Lambda first: a job cut short by the stop is left open, for the next start to close
            # with its reason, rather than closed on the way down by whatever noticed first.
            if self.runtime is not None:
                self.runtime.close()
            if self.tasks is not None:
                self.tasks.close()
            if self.saved is not None:  # after the runners, so that their last output is in
                self.saved.stopped.set()
                self.saved.save()
        finally:
            if self.server is not None:
                self.server.stop()
                self.server = None
            if self._config_dir:
                shutil.rmtree(self._config_dir, ignore_errors=True)

    def __enter__(self) -> LocalStack:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    def close_interrupted_jobs(self) -> list[str]:
        """Jobs left open by the last run have no execution to close them: each run is ended as the
        state machine ends one whose runner died (its slot given back, its dependents canceled or
        its next attempt planned)."""
        store = JobStore(self.session().resource("dynamodb").Table(self.physical_id("JobsTable")))
        closed: list[str] = []
        for job_id in interrupted_runs(store):
            event = {"action": "end_run", "job_id": job_id, "run": {"error": {"Error": INTERRUPTED}}}
            if (self._end_run_as_the_state_machine(event) or {}).get("state") == "incomplete":
                closed.append(job_id)
        return closed

    @functools.cached_property
    def _state_machine_lambdas(self) -> Any:
        """A Lambda client with the credentials that Step Functions takes for the state machine's role."""
        machine = self.client("stepfunctions").describe_state_machine(
            stateMachineArn=self.physical_id("JobStateMachine")
        )
        return self._client_as(machine["roleArn"], "states.amazonaws.com", machine["stateMachineArn"], "lambda")

    def _end_run_as_the_state_machine(self, event: dict[str, Any]) -> dict[str, Any] | None:
        """EndRun, invoked as the state machine's EndRun state invokes it: with its role."""
        response = self._state_machine_lambdas.invoke(
            FunctionName=self.physical_id("JobStateFunction"), Payload=json.dumps(event).encode()
        )
        payload = json.loads(response["Payload"].read() or b"null")
        if response.get("FunctionError"):
            raise RuntimeError(f"EndRun failed: {payload}")
        return payload

    def _fargate_parameters(self) -> dict[str, str]:
        """The Fargate runner is always deployed here, into the account's default VPC, as a user would."""
        ec2 = self.client("ec2")
        subnets = ec2.describe_subnets(Filters=[{"Name": "default-for-az", "Values": ["true"]}])["Subnets"]
        group = ec2.describe_security_groups(GroupNames=["default"])["SecurityGroups"][0]
        return {
            "RunnerImageUri": RUNNER_IMAGE,
            "RunnerSubnets": ",".join(sorted(subnet["SubnetId"] for subnet in subnets)[:2]),
            "RunnerSecurityGroups": group["GroupId"],
        }

    def _runner_image(self) -> LocalImage:
        """What functions/runner/Dockerfile puts into the runner's image, from this checkout."""
        assert self.stack is not None
        return LocalImage(
            files={
                "/opt/python": self.stack.folders["JobsLayer"],
                "/opt/jobs.yaml": self.stack.folders["ConfigLayer"] / "jobs.yaml",
            },
            # The image's python, with the layer's requirements installed: this environment's.
            environment={
                "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", os.defpath)]),
                "PYTHONPATH": "/opt/python",
                "JOBS_CONFIG": "/opt/jobs.yaml",
                "PYTHONUNBUFFERED": "1",
            },
            command=("python", "-m", "jobsys.runner"),
        )

    def _config_layer(self, config_path: Path) -> Path:
        """Another jobs.yaml goes in as the config layer's content, checked before anything starts."""
        load_config(config_path)  # a bad file stops here, naming the file, the key and the reason
        self._config_dir = tempfile.mkdtemp(prefix="jobs-config-")
        shutil.copy(config_path, Path(self._config_dir) / "jobs.yaml")
        return Path(self._config_dir)

    # --- access -------------------------------------------------------------------------------

    def session(self) -> _EndpointSession:
        """The administrator's: for the deployment and the operator's own tools."""
        assert self.administrator is not None
        return _EndpointSession(self.endpoint_url, self.administrator)

    def session_as(self, logical_id: str, service: str) -> _EndpointSession:
        """The credentials that `service` (e.g. `lambda.amazonaws.com`) gets for one of the stack's roles."""
        role = self.session().client("iam").get_role(RoleName=self.physical_id(logical_id))["Role"]["Arn"]
        return _EndpointSession(self.endpoint_url, self.roles.keys(role, service, f"local-{logical_id}"[:64]))

    def client(self, service: str) -> Any:
        """One client per service, shared: boto3 clients are thread-safe and costly to make."""
        if service not in self._clients:
            self._clients[service] = self.session().client(service)
        return self._clients[service]

    def roles_by_hand(self) -> dict[str, Keys]:
        """For each of the stack's IAM roles, credentials as its own service gets them: to try by hand
        what the role may do (AWS lets only the trusted service assume these roles, not a user)."""
        assert self.stack is not None
        iam = self.client("iam")
        found: dict[str, Keys] = {}
        for logical_id, kind in sorted(self.stack.types.items()):
            if kind != "AWS::IAM::Role":
                continue
            role = iam.get_role(RoleName=self.physical_id(logical_id))["Role"]
            services = trusted_services(role)
            if services:
                found[logical_id] = self.roles.keys(role["Arn"], services[0], f"by-hand-{logical_id}"[:64])
        return found

    def _client_as(self, role_arn: str, service: str, source_arn: str, client: str) -> Any:
        """A client of `client` signed with the credentials that `service` gets for a role."""
        key = f"{client} as {role_arn}"
        if key not in self._clients:
            keys = self.roles.keys(role_arn, service, service.split(".")[0], source_arn)
            self._clients[key] = _EndpointSession(self.endpoint_url, keys).client(client)
        return self._clients[key]

    def back_office_token(self, value: str | None = None) -> str:
        """The page's bearer token, from its secret; `value` replaces it first."""
        secrets = self.client("secretsmanager")
        secret_id = self.physical_id(TOKEN_SECRET)
        if value:
            secrets.put_secret_value(SecretId=secret_id, SecretString=value)
        return secrets.get_secret_value(SecretId=secret_id)["SecretString"]

    def serve_page_at(self, url: str) -> None:
        """The local gateway serves the back-office API at `url`. On AWS, the parameter that the
        functions read the page's URL from holds the API's execute-api URL; here the deploy leaves
        it out with the API (it names it), and it is put with the gateway's address instead."""
        api = self.client("lambda").get_function_configuration(FunctionName=self.physical_id("JobEventsFunction"))
        name = api["Environment"]["Variables"]["JOBS_PAGE_URL_PARAMETER"]
        self.client("ssm").put_parameter(Name=name, Value=url, Type="String", Overwrite=True)

    def physical_id(self, logical_id: str) -> str:
        assert self.stack is not None
        return self.stack.physical_ids[logical_id]

    def invoke(self, logical_id: str, event: dict[str, Any], asynchronous: bool = False) -> dict[str, Any] | None:
        return self.invoke_function(self.physical_id(logical_id), event, asynchronous)

    def call_function(self, name: str, event: dict[str, Any]) -> dict[str, Any]:
        """Invokes a function as API Gateway's integration does: from inside the service, not
        through Lambda's HTTP API (which would add a round trip through the moto server)."""
        payload, failed = self._invoke_inside(name, json.loads(json.dumps(event)))
        if failed:
            raise RuntimeError(f"{name} failed: {payload}")
        if len(payload.encode()) > LAMBDA_RESPONSE_LIMIT:  # Lambda refuses it: Function.ResponseSizeTooLarge
            raise RuntimeError(f"{name} failed: its response is larger than {LAMBDA_RESPONSE_LIMIT} bytes")
        return json.loads(payload or "null")

    def invoke_function(self, name: str, event: dict[str, Any], asynchronous: bool = False) -> dict[str, Any] | None:
        response = self.client("lambda").invoke(
            FunctionName=name,
            Payload=json.dumps(event).encode(),
            InvocationType="Event" if asynchronous else "RequestResponse",
        )
        if asynchronous:
            return None
        payload = json.loads(response["Payload"].read() or b"null")
        if response.get("FunctionError"):
            raise RuntimeError(f"{name} failed: {payload}")
        return payload


class _EndpointSession:
    """A boto3 session whose clients all talk to the local moto server, signed with `keys`."""

    def __init__(self, endpoint_url: str, keys: Keys):
        self.endpoint_url = endpoint_url
        self.region_name = REGION
        self.keys = keys
        self._session = keys.session(REGION)

    def client(self, service: str) -> Any:
        return self._session.client(
            service,
            endpoint_url=self.endpoint_url,
            config=Config(retries={"max_attempts": 2}, read_timeout=960, max_pool_connections=64),
        )

    def resource(self, service: str) -> Any:
        return self._session.resource(service, endpoint_url=self.endpoint_url)
