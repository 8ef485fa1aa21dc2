"""The lifecycle table is the one description of a job's states and transitions: the store writes
none that it lacks, and docs/architecture.md shows it as it is."""

from pathlib import Path

import pytest

from jobsys.lifecycle import ABSENT, ENDED, TRANSITIONS, job_transition, markdown
from jobsys.models import JobState

ROOT = Path(__file__).resolve().parents[2]
JOBSYS = ROOT / "layers" / "jobsys" / "jobsys"


def test_the_architecture_doc_shows_the_table_as_it_is():
    doc = (ROOT / "docs" / "architecture.md").read_text()
    start = doc.index("<!-- lifecycle table:")
    shown = doc[doc.index("\n", start) + 1 : doc.index("<!-- end of the lifecycle table -->")]
    assert shown == markdown(), "docs/architecture.md: paste `python -m jobsys.lifecycle` between the markers"


def test_a_write_that_no_row_allows_is_refused_before_it_is_written():
    assert job_transition([JobState.PENDING], JobState.RUNNING).name == "start_run"
    assert job_transition([JobState.RUNNING], JobState.FINISHED).name == "finish"
    for before, after in (
        ([JobState.FINISHED], JobState.RUNNING),  # a closed job never changes again
        ([JobState.CANCELED], JobState.PENDING),
        ([JobState.PENDING], JobState.FINISHED),  # only a run finishes
        ([ABSENT], JobState.RUNNING),  # a job is recorded pending
        ([JobState.RUNNING], ENDED),  # a run ends after its job closed
    ):
        with pytest.raises(ValueError, match="no transition of the lifecycle table"):
            job_transition(before, after)


def test_every_job_state_has_a_way_in_and_every_open_state_a_way_out():
    into = {row.to_state for row in TRANSITIONS if row.subject == "job"}
    out_of = {state for row in TRANSITIONS if row.subject == "job" for state in row.from_states}
    assert set(JobState) <= into
    assert {JobState.PENDING, JobState.RUNNING} <= out_of


def test_only_the_store_s_transition_writes_a_job_s_state():
    """A job's state is written in one place, which asks the table; the others only read it in a
    condition."""
    writers = sorted(
        str(path.relative_to(JOBSYS)) for path in JOBSYS.rglob("*.py") if '"#state = :to"' in path.read_text()
    )
    assert writers == ["store/transitions.py"]
    for path in JOBSYS.rglob("*.py"):
        text = path.read_text()
        assert "SET #state" not in text and "#state = :to" not in text.replace('"#state = :to"', ""), path
