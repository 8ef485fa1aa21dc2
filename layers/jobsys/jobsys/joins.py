"""Fan-in: a job of a start's tree may wait, besides its parent, for other jobs of the same tree
(`after`, by their keys). It runs once all of them have finished; if one of them ends otherwise, it
is canceled. What the tree may say is checked here, for jobs.yaml and the API alike."""

from __future__ import annotations

from jobsys.models import JobSpec


def _name(job: JobSpec) -> str:
    return job.key or job.label


def joins_problem(root: JobSpec) -> str | None:
    """What is wrong with the `after` lists of a start's tree, naming the key; None if nothing."""
    jobs = root.walk()
    by_key: dict[str, list[JobSpec]] = {}
    for job in jobs:
        if job.key:
            by_key.setdefault(job.key, []).append(job)
    waits_for: dict[int, list[JobSpec]] = {id(job): [] for job in jobs}
    for job in jobs:
        for child in job.depending_jobs:
            waits_for[id(child)].append(job)
        for key in job.after:
            named = by_key.get(key, [])
            if not named:
                return f"{_name(job)}: after names '{key}', which is no job of this start"
            if len(named) > 1:
                return f"{_name(job)}: after names '{key}', the key of {len(named)} jobs of this start"
            waits_for[id(job)].append(named[0])
    return _cycle(jobs, waits_for)


def _cycle(jobs: list[JobSpec], waits_for: dict[int, list[JobSpec]]) -> str | None:
    """A job that waits, through its parent and its `after`, for itself."""
    done: set[int] = set()

    def visit(job: JobSpec, path: list[JobSpec]) -> str | None:
        if any(job is seen for seen in path):
            loop = [*path[next(i for i, seen in enumerate(path) if seen is job) :], job]
            return f"{_name(job)}: after makes a cycle: " + " waits for ".join(_name(j) for j in loop)
        if id(job) in done:
            return None
        for other in waits_for[id(job)]:
            if problem := visit(other, [*path, job]):
                return problem
        done.add(id(job))
        return None

    for job in jobs:
        if problem := visit(job, []):
            return problem
    return None
