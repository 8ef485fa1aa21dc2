"""Every limit of the job system, once, by name. The template and the state machine repeat a few of
them where AWS needs them; tests/unit/test_limits.py fails when one of those moves alone."""

from __future__ import annotations

from datetime import timedelta

# --- the Lambda runner ---------------------------------------------------------------------------
# RunnerFunction's Timeout in template.yaml, and RunOnLambda's TimeoutSeconds in the state machine.
LAMBDA_TIMEOUT = 900
# The runner stops the command this long before the function's own end, to save and report.
RUNNER_SAFETY_MARGIN = 15
# The longest max_runtime on Lambda: the function's timeout less a minute for the runner's own
# start, its last writes and the margin above.
LAMBDA_MAX_RUNTIME = LAMBDA_TIMEOUT - 60

# --- Fargate -------------------------------------------------------------------------------------
# What a task needs beyond its command's max_runtime: placement, image pull, start, the output's
# save. RunOnFargate waits max_runtime plus this.
FARGATE_MARGIN = 900

# --- a job ---------------------------------------------------------------------------------------
DEFAULT_MAX_RUNTIME = 600
MAX_RUNTIME = 30 * 86400  # a job that runs longer than a month is a service, not a job
TRANSACTION_ITEMS = 100  # AWS: the items of one DynamoDB transaction
MAX_JOBS_PER_START = TRANSACTION_ITEMS  # one DynamoDB transaction writes the whole tree
MAX_PARAMS = 64
MAX_PARAM_LENGTH = 4096
MAX_PRIORITY = 1000
MAX_CONCURRENCY = 1000
MAX_ENV = 64
# Tags of a job: a definition's, its command's and a start's together. Each tag and each distinct
# param is one item of the search index (store/search.py), written from the table's stream.
MAX_TAGS = 20
MAX_ATTEMPTS = 20
DEFAULT_MAX_RETRY_WAIT = 86400.0  # a day between two attempts at most, unless `max_wait` says otherwise
MAX_RETRY_WAIT = 30 * 86400.0  # well inside a Standard execution's year
MAX_DELAY = timedelta(days=364)  # a Standard workflow's execution lasts a year at most
RUN_AT_SKEW = timedelta(minutes=5)  # a run_at this far in the past still means "now"

# --- a job's item: DynamoDB's 400 KB, with room kept for its whole life ----------------------------
ITEM_LIMIT = 400 * 1024  # AWS's, for an item with its attribute names
# What a job's later writes add at most (times, output location, progress, usage, a reason within
# REASON_LIMIT, ended_at, retried_by), with room to spare: a job is recorded only with this left.
LIFE_HEADROOM = 8 * 1024
REASON_LIMIT = 2000  # characters of a reason or an output error written on a job

# --- back-office tokens: a revoked or rotated token stops working within five minutes ----------
TOKEN_TAKES_EFFECT = 300  # what README and docs/security.md promise
AUTHORIZER_CACHE = 150  # API Gateway's ReauthorizeEvery (template.yaml): it keeps an answer this long
TOKEN_CACHE = 150  # the authorizer keeps the tokens' secret this long

# --- an execution's history: at most 25,000 events (AWS's) -----------------------------------------
# Each wait in a queue's line adds about 6 (WaitForSlot asks again every 300 s), each throttled
# start of the Lambda runner about 3. A job that has waited a week goes on waiting in a new
# execution, pending and in its place (admission.py), before its history could run out.
CONTINUE_AFTER = timedelta(days=7)
# Throttled starts of the Lambda runner tried in a row (about 2 hours at 30 s at most, ~1,500
# events); then the job asks for its turn again (WaitForSlot), and tries anew.
RUNNER_THROTTLE_TRIES = 500

# --- heartbeats: a runner that hangs is found within two minutes --------------------------------
HEARTBEAT_EVERY = 20.0  # seconds between two heartbeats of a running job's runner
HEARTBEAT_TIMEOUT = timedelta(seconds=60)  # a running job without one for this long is closed incomplete

# --- queues --------------------------------------------------------------------------------------
# Seconds that one call serves a queue's line (a resume, a freed slot): API Gateway gives up at 29 s,
# and a line of 200 took longer on a loaded machine. The jobs left ask again when their wait times
# out (WaitForSlot's 300 s), as after a wake-up lost to the index.
SERVE_AT_MOST = 10
# Then a pause or a resume tells the jobs in line why they wait, for at most this long: with the
# serving before it, an answer within API Gateway's 29 s however long the line. The rest say why
# when their wait times out and they ask again.
SAY_WHY_AT_MOST = 10

# --- reading -------------------------------------------------------------------------------------
MAX_PAGE = 100  # jobs in one page of a list, and in one read of the store (the page's state.js too)
DEFAULT_PAGE = 50
BATCH_GET_KEYS = 100  # AWS: the keys of one BatchGetItem call

# --- bulk actions ----------------------------------------------------------------------------------
MAX_BULK_JOBS = 10_000  # jobs in one bulk action, as AWS Batch's array jobs: narrow the filter for more
BULK_SAMPLE = 20  # the newest jobs that a dry run shows
BULK_PAGE = 100  # jobs read, and acted on, per page (one Query and one BatchGetItem)
# Seconds of counting in one API call: the rest of API Gateway's 29 s is for the start and the writes.
BULK_COUNT_BUDGET = 15.0
# Seconds that one invocation of BulkActionFunction acts, page after page; its execution invokes it
# again while more is left, so its history stays short (a page a few events) and its timeout far.
BULK_INVOCATION_BUDGET = 60.0

# --- API Gateway ---------------------------------------------------------------------------------
API_GATEWAY_TIMEOUT = 29.0  # AWS: seconds a REST API waits for its Lambda integration, then a 504

# --- the clean-up (template.yaml's CleanUpPerCall and CleanUpMaxRetention defaults) --------------
CLEAN_UP_PER_CALL = 10
MAX_CLEAN_UP_PER_CALL = 1000
CLEAN_UP_MAX_RETENTION = "7 days"
AUDIT_RETENTION = "90 days"  # template.yaml's AuditRetention default
# A clean-up by call (POST /clean-up) stops after this long and answers with what it did, well
# within API Gateway's wait; the next call goes on from there.
API_CLEAN_UP_BUDGET = 15.0
# The scheduled clean-up stops this long before its function's timeout (CleanUpFunction's 300 s):
# the deletes under way, the report and its metric still fit. The next run goes on from there.
CLEAN_UP_STOPS_BEFORE_TIMEOUT = 30
