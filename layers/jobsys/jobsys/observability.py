"""Powertools Logger and Metrics, shared by every function (service name from the environment), and
the tracing of AWS calls, on request.

The job metrics are published one by one (EMF lines in the function's log), each with its
command as a dimension, so a handler never flushes an empty set.
"""

import os
from collections.abc import Callable
from typing import Any, cast

from aws_lambda_powertools import Logger, Metrics, single_metric
from aws_lambda_powertools.metrics import MetricUnit

logger = Logger()
metrics = Metrics()

# Lambda's active tracing (template.yaml: `Tracing: Active`) traces every invocation, and the
# request across API Gateway, Step Functions and the functions, at no cost to a cold start.
# Powertools' Tracer adds a subsegment per AWS call, but importing it and the X-Ray SDK, and patching
# botocore, adds about 40 ms (a fifth of boto3's own import) before the first request of every cold
# function: it is on only when the stack's TraceAwsCalls parameter says so (docs/performance.md,
# "Cold starts").
TRACE_AWS_CALLS = os.environ.get("JOBS_TRACE_AWS_CALLS", "false").lower() == "true"


def traced[Handler: Callable[..., Any]](handler: Handler) -> Handler:
    """A Lambda handler, with Powertools' Tracer around it if the AWS calls are traced."""
    if not TRACE_AWS_CALLS:
        return handler
    from aws_lambda_powertools import Tracer

    return cast(Handler, Tracer().capture_lambda_handler(handler))


NAMESPACE = os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "JobSystem")


def record_started(command: str) -> None:
    """A job's execution started (a start, a dependent, a retry)."""
    with single_metric(name="JobsStarted", unit=MetricUnit.Count, value=1, namespace=NAMESPACE) as metric:
        metric.add_dimension(name="command", value=command)


def record_closed(command: str, state: str, runtime: float | None, peak_memory_mb: float | None = None) -> None:
    """A job closed: JobsClosed by command and state; JobRuntime and JobPeakMemory by command for one that ran."""
    with single_metric(name="JobsClosed", unit=MetricUnit.Count, value=1, namespace=NAMESPACE) as metric:
        metric.add_dimension(name="command", value=command)
        metric.add_dimension(name="state", value=state)
    if runtime is not None:
        with single_metric(name="JobRuntime", unit=MetricUnit.Seconds, value=runtime, namespace=NAMESPACE) as metric:
            metric.add_dimension(name="command", value=command)
    if peak_memory_mb is not None:
        with single_metric(
            name="JobPeakMemory", unit=MetricUnit.Megabytes, value=peak_memory_mb, namespace=NAMESPACE
        ) as metric:
            metric.add_dimension(name="command", value=command)
