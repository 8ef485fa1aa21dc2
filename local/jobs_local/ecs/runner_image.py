"""The Fargate runner's image and network, as the local stack deploys them.

Replaces: an image built from functions/runner/Dockerfile and pushed to ECR, which moto neither
builds nor pulls. The image here is what the Dockerfile puts in it, from this checkout (the layer
and jobs.yaml) with this environment's python; `LocalTasks` runs its command as a process. The
runner goes into the account's default VPC, as a user deploying the template would put it.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from jobs_local.ecs.tasks import LocalImage

# RunnerImageUri here: the image that functions/runner/Dockerfile builds, as runner_image() holds it.
RUNNER_IMAGE = "jobs-local/runner:latest"


def fargate_parameters(ec2: Any) -> dict[str, str]:
    """The template's Fargate parameters: the image above, the default VPC's subnets and group."""
    subnets = ec2.describe_subnets(Filters=[{"Name": "default-for-az", "Values": ["true"]}])["Subnets"]
    group = ec2.describe_security_groups(GroupNames=["default"])["SecurityGroups"][0]
    return {
        "RunnerImageUri": RUNNER_IMAGE,
        "RunnerSubnets": ",".join(sorted(subnet["SubnetId"] for subnet in subnets)[:2]),
        "RunnerSecurityGroups": group["GroupId"],
    }


def runner_image(layer: Path, config_layer: Path) -> LocalImage:
    """What functions/runner/Dockerfile puts into the runner's image, from the deployed layers."""
    return LocalImage(
        files={"/opt/python": layer, "/opt/jobs.yaml": config_layer / "jobs.yaml"},
        # The image's python, with the layer's requirements installed: this environment's.
        environment={
            "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", os.defpath)]),
            "PYTHONPATH": "/opt/python",
            "JOBS_CONFIG": "/opt/jobs.yaml",
            "PYTHONUNBUFFERED": "1",
        },
        command=("python", "-m", "jobsys.runner"),
    )
