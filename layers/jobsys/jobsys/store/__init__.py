"""JobStore: the jobs table. Every state change is a conditional write; every read path is a Query.

It is made of one part per concern (the table's layout is in items.py):
- items.py: a job as an item, the keys, the indexes and the page cursors;
- creation.py: new jobs, a start's tree at once;
- transitions.py: a job's states, each change a conditional write;
- queues.py: the limited queues' lines and slots;
- fires.py: the schedules' fires;
- reads.py: every read (transitions read a job back when a condition fails);
- unique.py: the locks of unique definitions;
- joins.py: the jobs that a join still waits for;
- clean_up.py: the clean-up's cursors and lock;
- usage.py: each day's usage of a definition's and a command's runs;
- search.py: the jobs of a tag or a param's value, and the index items that find them;
- audit.py: the audit log's records;
- bulk.py and selection.py: bulk actions' records, and the jobs of their filters.
"""

from jobsys.store.audit import AuditRecords
from jobsys.store.bulk import BulkRecords
from jobsys.store.clean_up import CleanUpNotes
from jobsys.store.creation import JobCreation
from jobsys.store.fires import ScheduleFires
from jobsys.store.items import (
    ITEM_TOO_LARGE,
    PRIORITY_OFFSET,
    decode_cursor,
    encode_cursor,
    wait_order,
)
from jobsys.store.joins import JoinArrivals
from jobsys.store.queues import QueueSlots
from jobsys.store.search import JobSearch
from jobsys.store.selection import JobSelection
from jobsys.store.transitions import JobTransitions
from jobsys.store.unique import UniqueLock, UniqueLocks
from jobsys.store.usage import UsageDays


class JobStore(
    JobCreation,
    JobTransitions,
    QueueSlots,
    ScheduleFires,
    CleanUpNotes,
    UniqueLocks,
    JoinArrivals,
    UsageDays,
    JobSearch,
    JobSelection,
    AuditRecords,
    BulkRecords,
):
    """The whole store: what JobSystem, the handlers and the runner use."""


__all__ = [
    "ITEM_TOO_LARGE",
    "PRIORITY_OFFSET",
    "JobStore",
    "UniqueLock",
    "decode_cursor",
    "encode_cursor",
    "wait_order",
]
