"""API Gateway's integration timeout, kept by the local gateway: a function that has not answered
after 29 s (here, a fake that sleeps past a shorter timeout) gets the client API Gateway's 504."""

import threading
import time

import requests

from jobs_local.apigateway.events import Route
from jobs_local.apigateway.gateway import INTEGRATION_TIMEOUT, Gateway


def test_an_integration_past_its_timeout_is_a_504_and_the_function_runs_on():
    finished = threading.Event()

    def slow_function(target: str, event: dict) -> dict:
        time.sleep(1.0)
        finished.set()
        return {"statusCode": 200, "body": "late"}

    gateway = Gateway([Route("GET", "/slow", "slow-function")], slow_function, port=0, integration_timeout=0.3)
    gateway.start()
    try:
        response = requests.get(f"http://127.0.0.1:{gateway.port}/slow", timeout=10)
        assert response.status_code == 504
        assert response.json() == {"message": "Endpoint request timed out"}
        assert finished.wait(5)  # Lambda does not stop a function because its caller gave up
    finally:
        gateway.stop()


def test_a_quick_integration_answers_as_the_function_says():
    gateway = Gateway(
        [Route("GET", "/quick", "f")], lambda target, event: {"statusCode": 201, "body": "made"}, port=0
    ).start()
    try:
        response = requests.get(f"http://127.0.0.1:{gateway.port}/quick", timeout=10)
        assert (response.status_code, response.text) == (201, "made")
    finally:
        gateway.stop()


def test_the_gateway_waits_as_long_as_api_gateway():
    assert INTEGRATION_TIMEOUT == 29.0
