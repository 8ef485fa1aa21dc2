"""What a call of the stack to its own AWS costs over the socket and in process, side by side in one run.

Starts the local stack in this process (LocalStack, as the integration tests do), then makes rounds
of GetItem and PutItem calls on its jobs table with the administrator's client, alternating a client
that goes over HTTP to the moto server and one answered in process (`jobs_local.in_process`): the
process's CPU time per call (client, server and the kernel's work for the socket) and its wall time.

    .venv/bin/python bench/in_process_calls.py [--rounds 6] [--per-round 200]
"""

from __future__ import annotations

import logging
import statistics
import time
from pathlib import Path

from report import rounds_arguments

from jobs_local import in_process
from jobs_local.stack import LocalStack

CONFIG = Path(__file__).resolve().parents[1] / "config" / "jobs.yaml"


def measure(rounds: int, per_round: int) -> dict[bool, list[tuple[float, float]]]:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    spent: dict[bool, list[tuple[float, float]]] = {True: [], False: []}
    with LocalStack(config_path=CONFIG, stack_name="jobs-bench") as stack:
        table = stack.physical_id("JobsTable")
        over_http = stack.session().client("dynamodb")
        over_http.meta.events.unregister("before-send", in_process.before_send)
        clients = {True: stack.session().client("dynamodb"), False: over_http}
        for round_number in range(rounds * 2):
            inside = round_number % 2 == 0
            dynamodb = clients[inside]
            cpu, wall = time.process_time(), time.monotonic()
            for n in range(per_round):
                key = {"pk": {"S": f"BENCH#{n}"}, "sk": {"S": "BENCH"}}
                dynamodb.put_item(TableName=table, Item={**key, "state": {"S": "pending"}})
                dynamodb.get_item(TableName=table, Key=key)
            calls = per_round * 2
            spent[inside].append(((time.process_time() - cpu) / calls * 1000, (time.monotonic() - wall) / calls * 1000))
    return spent


def main() -> None:
    args = rounds_arguments(__doc__, rounds=6, per_round=200)
    spent = measure(args.rounds, args.per_round)
    inside = [statistics.median(values) for values in zip(*spent[True], strict=True)]
    socket = [statistics.median(values) for values in zip(*spent[False], strict=True)]
    print(f"a GetItem or PutItem of the stack's own, median of {args.rounds} rounds of {args.per_round * 2} calls:")
    print(f"  over HTTP:  {socket[0]:.2f} CPU ms, {socket[1]:.2f} ms")
    print(f"  in process: {inside[0]:.2f} CPU ms, {inside[1]:.2f} ms   CPU ratio {inside[0] / socket[0]:.2f}")


if __name__ == "__main__":
    main()
