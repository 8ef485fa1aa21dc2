"""The whole system on one machine: template.yaml deployed into one moto server, and a component
per AWS service that moto does not run as AWS does (each names, at its top, the moto behaviour it
replaces). LocalStack only wires them together from the template:

- local_aws.py: the moto server, every patch, IAM enforced (iam/), Step Functions' executions;
- cloudformation/: the deployment (deploy.py), another jobs.yaml as the config layer;
- lambda_/service.py: functions as processes, provisioned environments, the streams' mappings;
- ecs/: Fargate tasks as processes (tasks.py), the runner's image (runner_image.py);
- scheduler/: EventBridge Scheduler's schedules and EventBridge's rules, fired;
- apigateway/: the back-office API's routes and access log (the gateway serves them: running_stack.py);
- page_secrets.py: the page's token (Secrets Manager) and URL (SSM);
- persistence.py: DynamoDB, S3, Logs and the rest saved and loaded; stepfunctions/interrupted_runs.py
  ends the runs that a stop cut short;
- clients.py: the sessions and clients of all of them, in one place.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from moto.dynamodb.models import dynamodb_backends

from jobs_local import heap
from jobs_local.apigateway.access_logs import AccessLog
from jobs_local.apigateway.events import Route
from jobs_local.apigateway.local_api import ACCESS_LOG_FILE, access_log, local_routes
from jobs_local.clients import REGION, EndpointSession, StackClients
from jobs_local.cloudformation.config_layer import CONFIG_LAYER, ConfigLayer
from jobs_local.cloudformation.deploy import DeployedStack, deploy, load_template
from jobs_local.dynamodb.streams import forget_what_is_there
from jobs_local.ecs.runner_image import RUNNER_IMAGE, fargate_parameters, runner_image
from jobs_local.ecs.tasks import LocalTasks
from jobs_local.host import ROOT, free_port
from jobs_local.iam.credentials import Keys
from jobs_local.iam.trust import trusted_services
from jobs_local.lambda_.service import LambdaService
from jobs_local.local_aws import LocalAws
from jobs_local.page_secrets import PageSecrets
from jobs_local.persistence import SavedState
from jobs_local.scheduler.schedules import Scheduler
from jobs_local.stepfunctions.interrupted_runs import InterruptedRuns

TOKEN_SECRET = "BackOfficeToken"
__all__ = ["ACCESS_LOG_FILE", "REGION", "ROOT", "RUNNER_IMAGE", "LocalStack", "free_port"]


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
        self.template = template or root / "template.yaml"
        self.parameters = parameters or {}
        self.stack_name = stack_name
        self.warm_api = warm_api
        self.log = log
        self.state_dir = state_dir
        self.reset = reset
        self.schedule_speedup = schedule_speedup
        self.aws = LocalAws(moto_port or free_port(), same_names=state_dir is not None)
        self.endpoint_url = self.aws.endpoint_url
        self.roles = self.aws.roles
        self.config_layer = ConfigLayer(config_path) if config_path is not None else None
        self.lambdas = LambdaService(self.endpoint_url, self.roles, concurrency, log)
        self.runtime = self.lambdas.runtime
        self.tasks = LocalTasks(self.endpoint_url, REGION, self.roles, log=log)
        self.clients: StackClients | None = None
        self.stack: DeployedStack | None = None
        self.routes: list[Route] = []
        self.access_log: AccessLog | None = None
        self.saved: SavedState | None = None
        self.scheduler: Scheduler | None = None

    @property
    def administrator(self) -> Keys:
        return self._clients.administrator

    # --- lifecycle ----------------------------------------------------------------------------

    def start(self) -> LocalStack:
        heap.for_a_long_lived_heap()
        overrides = {CONFIG_LAYER: self.config_layer.start()} if self.config_layer is not None else {}
        self.clients = self.aws.start()
        self.lambdas.start()
        self.tasks.serve()
        parameters = {**fargate_parameters(self.client("ec2")), **self.parameters}
        runtime = self.runtime
        self.stack = deploy(
            self.session(),
            self.template,
            self.stack_name,
            parameters,
            overrides,
            on_functions=lambda functions: [runtime.register(name, code) for name, code in functions.items()],
        )
        self.tasks.register_image(
            RUNNER_IMAGE, runner_image(self.stack.folders["JobsLayer"], self.stack.folders[CONFIG_LAYER])
        )
        self.lambdas.deployed(self.stack.account)
        sam, physical = load_template(self.template), self.stack.physical_ids
        self.routes = local_routes(sam, physical)
        behind_api = {route.target for route in self.routes}
        authorizers = {route.authorizer for route in self.routes if route.authorizer}
        self.runtime.answer_people_first(behind_api | authorizers)
        # The authorizer too: a burst of new connections asks it once each before its cache holds the token.
        warming = self.lambdas.provision(behind_api | authorizers, self.warm_api) if self.warm_api else []
        self.access_log = access_log(sam, physical, self._clients, self.state_dir)
        if self.state_dir is not None:
            self._restore(self.state_dir)
        self._start_schedules()
        self.lambdas.start_pollers(self._clients)
        # Ready once the API's provisioned environments are: as an alias takes traffic only then.
        for thread in warming:
            thread.join()
        heap.freeze_what_the_boot_made()
        return self

    def _restore(self, state_dir: Path) -> None:
        assert self.stack is not None
        resources = {lid: (self.stack.types.get(lid, ""), pid) for lid, pid in self.stack.physical_ids.items()}
        saved = SavedState(state_dir, self.session(), resources)
        if self.reset:
            saved.reset()
        saved.load()
        forget_what_is_there(dynamodb_backends[self.stack.account][REGION], self.physical_id("JobsTable"))
        self.close_interrupted_jobs()
        self.saved = saved  # saved from now on: never a stack that failed to load what was there
        saved.save_every()

    def _start_schedules(self) -> None:
        clients, log = self._clients, self.log
        self.scheduler = Scheduler(
            clients.client("events"),
            clients.client("scheduler"),
            clients.client("lambda"),
            lambda role, schedule: clients.client_as(role, "scheduler.amazonaws.com", schedule, "lambda"),
            self.schedule_speedup,
            log=(lambda line: log("scheduler", line)) if log else None,
        ).start()

    def stop(self) -> None:
        try:
            if self.scheduler is not None:
                self.scheduler.stop()
            # Before the functions stop: the changes made so far still become events.
            self.lambdas.stop_pollers()
            # Lambda first: a job cut short by the stop is left open, for the next start to close
            # with its reason, rather than closed on the way down by whatever noticed first.
            self.lambdas.stop()
            self.tasks.close()
            if self.saved is not None:  # after the runners, so that their last output is in
                self.saved.stopped.set()
                self.saved.save()
        finally:
            self.aws.stop()
            if self.config_layer is not None:
                self.config_layer.stop()

    def __enter__(self) -> LocalStack:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    def close_interrupted_jobs(self) -> list[str]:
        return InterruptedRuns(
            self._clients,
            self.physical_id("JobsTable"),
            self.physical_id("JobStateMachine"),
            self.physical_id("JobStateFunction"),
        ).end()

    # --- access: what the tests, the CLI and the gateway reach the stack by -------------------

    @property
    def _clients(self) -> StackClients:
        assert self.clients is not None, "the stack is not started"
        return self.clients

    def session(self) -> EndpointSession:
        return self._clients.session()

    def session_as(self, logical_id: str, service: str) -> EndpointSession:
        role = self.client("iam").get_role(RoleName=self.physical_id(logical_id))["Role"]["Arn"]
        return self._clients.session_as(role, service, f"local-{logical_id}")

    def client(self, service: str) -> Any:
        return self._clients.client(service)

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

    def page_secrets(self) -> PageSecrets:
        return PageSecrets(self._clients, self.physical_id(TOKEN_SECRET), self.physical_id("JobEventsFunction"))

    def back_office_token(self, value: str | None = None) -> str:
        return self.page_secrets().token(value)

    def serve_page_at(self, url: str) -> None:
        self.page_secrets().serve_page_at(url)

    def physical_id(self, logical_id: str) -> str:
        assert self.stack is not None
        return self.stack.physical_ids[logical_id]

    def invoke(self, logical_id: str, event: dict[str, Any], asynchronous: bool = False) -> dict[str, Any] | None:
        return self._clients.invoke_function(self.physical_id(logical_id), event, asynchronous)

    def invoke_function(self, name: str, event: dict[str, Any], asynchronous: bool = False) -> dict[str, Any] | None:
        return self._clients.invoke_function(name, event, asynchronous)

    def call_function(self, name: str, event: dict[str, Any]) -> dict[str, Any]:
        return self.lambdas.call_function(name, event)
