"""Jobs planted in the table as they would stand later in their lives, behind the system's back.

The lifecycle table records a new job only as pending (or skipped), so the store refuses to create
one running or closed; a test that needs one there writes its item itself."""

from jobsys.models import Job
from jobsys.store import JobStore
from jobsys.store.items import _to_item


def plant(store: JobStore, jobs: list[Job]) -> None:
    for job in jobs:
        store.table.put_item(Item=_to_item(job))
