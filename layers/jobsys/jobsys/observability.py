"""Powertools Logger, Tracer and Metrics, shared by every function (service name from the environment).

The job metrics are published one by one (EMF lines in the function's log), each with its
command as a dimension, so a handler never flushes an empty set.
"""

import os

from aws_lambda_powertools import Logger, Metrics, Tracer, single_metric
from aws_lambda_powertools.metrics import MetricUnit

logger = Logger()
tracer = Tracer()
metrics = Metrics()
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
