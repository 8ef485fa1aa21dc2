"""The one moto server that stands in for AWS, with IAM enforced from its first call.

Replaces: moto as it comes. Every change the local stack makes to moto's code is installed first
(patches.py lists them, each naming the moto behaviour it replaces); then the account's
administrator is made (only the deployment and the operator's own tools sign as it), IAM is
enforced for every other caller (iam/enforcement.py), and the state machine's tasks sign with its
role (stepfunctions/asl_clients.py). moto's state machine interpreter runs the executions.
"""

from __future__ import annotations

import os

import requests
from moto.moto_server.threaded_moto_server import ThreadedMotoServer

from jobs_local import in_process
from jobs_local.clients import REGION, StackClients
from jobs_local.iam import enforcement
from jobs_local.iam.credentials import ACCOUNT, RoleSessions, create_administrator
from jobs_local.patches import install_all
from jobs_local.people_first import PEOPLE_FIRST
from jobs_local.stepfunctions import asl_clients

# Seconds for moto's server to answer its first requests, which build its services' routes: well
# under a second alone, but make test's fuzz boots its stack at a lower CPU priority beside five
# other stacks, and 10 s timed its boot out in 3 of 3 fresh clones.
SERVER_FIRST_ANSWER = 120


class LocalAws:
    def __init__(self, port: int, same_names: bool):
        """`same_names`: the same generated names at every start, as a deployed stack keeps its
        resources' names (a stack whose state is saved and loaded)."""
        self.port = port
        self.endpoint_url = f"http://127.0.0.1:{port}"
        self.same_names = same_names
        self.roles = RoleSessions(ACCOUNT, REGION)
        self.server: ThreadedMotoServer | None = None

    def start(self) -> StackClients:
        """The clients of the running server, the administrator's and the roles'."""
        os.environ["MOTO_PORT"] = str(self.port)  # moto's state machine interpreter reaches the services here
        install_all()  # before the first use of a backend: IAM's loads AWS's managed policies then
        administrator = create_administrator(ACCOUNT)
        PEOPLE_FIRST.people_keys.add(administrator.access_key_id)  # the operator's own tools
        enforcement.enforce_in(ACCOUNT, REGION)
        asl_clients.sign_as(self.roles)
        self.server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)
        self.server.start()
        in_process.serve(self.endpoint_url, self.server._server.app)  # type: ignore[union-attr]
        config = {"stepfunctions": {"execute_state_machine": True}}
        requests.post(
            f"{self.endpoint_url}/moto-api/config", json=config, timeout=SERVER_FIRST_ANSWER
        ).raise_for_status()
        if self.same_names:
            requests.post(f"{self.endpoint_url}/moto-api/seed?a=1", timeout=SERVER_FIRST_ANSWER).raise_for_status()
        return StackClients(self.endpoint_url, self.roles, administrator)

    def stop(self) -> None:
        if self.server is not None:
            in_process.stop_serving(self.endpoint_url)
            self.server.stop()
            self.server = None
