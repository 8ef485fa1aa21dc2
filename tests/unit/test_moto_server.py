"""The moto server's shortcuts give the answers moto's own code gives (jobs_local.moto_server)."""

import importlib

import pytest
from moto.core.utils import method_names_from_class

from jobs_local.moto_server import _FunctionNames

SERVICES = [
    ("moto.dynamodb.responses", "DynamoHandler"),
    ("moto.dynamodbstreams.responses", "DynamoDBStreamsHandler"),
    ("moto.stepfunctions.responses", "StepFunctionResponse"),
    ("moto.awslambda.responses", "LambdaResponse"),
    ("moto.logs.responses", "LogsResponse"),
    ("moto.s3.responses", "S3Response"),
    ("moto.events.responses", "EventsHandler"),
    ("moto.iam.responses", "IamResponse"),
    ("moto.ecs.responses", "EC2ContainerServiceResponse"),
]


@pytest.mark.parametrize(("module", "name"), SERVICES)
def test_an_action_is_found_as_motos_list_of_the_response_class_would_find_it(module, name):
    owner = getattr(importlib.import_module(module), name)
    listed = set(method_names_from_class(owner))
    asked = _FunctionNames(owner)
    for candidate in {*dir(owner), "no_such_action", "", "__init__", "setup_class"}:
        assert (candidate in asked) == (candidate in listed), candidate
