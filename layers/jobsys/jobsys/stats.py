"""Statistics of a definition's (or a command's) last runs: how often it fails, how long it takes,
how much memory it needs. Pure: the runs come from one Query (JobStore.recent_runs)."""

from __future__ import annotations

import math
from typing import Any

from pydantic import BaseModel, Field

from jobsys.costs import CostEstimate
from jobsys.models import JobState

DEFAULT_RUNS = 50
MAX_RUNS = 500
# A success rate counts the runs that ended on their own; a cancel or a skip says nothing of the command.
_JUDGED = (JobState.FINISHED, JobState.FAILED, JobState.TERMINATED, JobState.INCOMPLETE)
_FAILURES = (JobState.FAILED, JobState.TERMINATED, JobState.INCOMPLETE)


class Run(BaseModel):
    """What statistics need of a job, and all that the by_definition index holds."""

    id: str
    state: JobState
    created_at: str
    closed_at: str | None = None
    runtime: float | None = None
    peak_memory_mb: float | None = None


class Spread(BaseModel):
    p50: float | None
    p95: float | None
    max: float | None


class PeakSpread(BaseModel):
    p50: float | None
    max: float | None


class RunPoint(BaseModel):
    id: str
    created_at: str
    state: JobState
    runtime: float | None


class RunStats(BaseModel):
    definition: str | None = None
    command: str | None = None
    runs: int = Field(description="How many runs these numbers cover, the newest first")
    states: dict[str, int] = Field(description="How many of them are in each state")
    success_rate: float | None = Field(
        description="finished / (finished + failed + terminated + incomplete); canceled and skipped runs do not count"
    )
    runtime: Spread = Field(description="Seconds, over the runs that ran")
    peak_memory_mb: PeakSpread = Field(description="MiB, over the runs that ran")
    last_success_at: str | None
    last_failure_at: str | None
    series: list[RunPoint] = Field(description="The runs, oldest first, for a chart")
    cost: CostEstimate | None = Field(
        default=None, description="What its runs of the last 30 days cost on AWS, at jobsys/spec/prices.py's prices"
    )


def percentile(values: list[float], share: float) -> float | None:
    """The nearest-rank percentile: the smallest value with at least `share` of them at or below it."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def run_stats(runs: list[Run], **subject: Any) -> RunStats:
    """`runs`: newest first."""
    states: dict[str, int] = {}
    for run in runs:
        states[run.state.value] = states.get(run.state.value, 0) + 1
    judged = [run for run in runs if run.state in _JUDGED]
    runtimes = [run.runtime for run in runs if run.runtime is not None]
    memory = [run.peak_memory_mb for run in runs if run.peak_memory_mb is not None]
    success = next((run for run in runs if run.state == JobState.FINISHED), None)
    failure = next((run for run in runs if run.state in _FAILURES), None)
    return RunStats(
        **subject,
        runs=len(runs),
        states=states,
        success_rate=(
            round(sum(run.state == JobState.FINISHED for run in judged) / len(judged), 4) if judged else None
        ),
        runtime=Spread(p50=percentile(runtimes, 0.5), p95=percentile(runtimes, 0.95), max=max(runtimes, default=None)),
        peak_memory_mb=PeakSpread(p50=percentile(memory, 0.5), max=max(memory, default=None)),
        last_success_at=success.closed_at if success else None,
        last_failure_at=failure.closed_at if failure else None,
        series=[
            RunPoint(id=run.id, created_at=run.created_at, state=run.state, runtime=run.runtime)
            for run in reversed(runs)
        ],
    )
