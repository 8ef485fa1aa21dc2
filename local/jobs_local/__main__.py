"""`make run`: the whole job system on this machine, in the foreground, until Ctrl-C."""

from __future__ import annotations

import argparse
import logging
import os
import secrets
import signal
import sys
import threading
import time
from pathlib import Path

from jobs_cli.connection import forget_local_stack, remember_local_stack, save_token, saved_token
from jobs_local.apigateway.gateway import Gateway
from jobs_local.stack import ACCESS_LOG_FILE, REGION, ROOT, LocalStack
from jobsys.tokens import parse_tokens

SIGNAL_ROUND = 0.5  # seconds: how soon a stop asked by a signal begins


def _parameters(text: str) -> dict[str, str]:
    """JOBS_PARAMETERS="CleanUpSchedule=rate(1 minute);CleanUpMaxRetention=1 min" overrides template parameters."""
    pairs = [item.split("=", 1) for item in text.split(";") if item.strip()]
    return {key.strip(): value.strip() for key, value in pairs}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make run", description="The whole job system on this machine.")
    parser.add_argument("--reset", action="store_true", help="start with no jobs and no output (RESET=1 with make run)")
    args = parser.parse_args(argv)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    logging.getLogger("moto").setLevel(logging.ERROR)
    port = int(os.environ.get("PORT", "3000"))
    config = Path(os.environ["JOBS_CONFIG"]).resolve() if os.environ.get("JOBS_CONFIG") else None
    log_dir = ROOT / ".local-stack"
    log_dir.mkdir(exist_ok=True)
    state_dir = Path(os.environ.get("JOBS_STATE_DIR") or log_dir / "state").resolve()
    function_log = (log_dir / "functions.log").open("a", buffering=1, encoding="utf-8")
    lock = threading.Lock()

    def say(line: str) -> None:
        with lock:
            print(f"{time.strftime('%H:%M:%S')} {line}", flush=True)

    def function_said(function: str, line: str) -> None:
        if function == "scheduler":  # schedules firing: worth seeing on the console
            say(line)
            return
        function_log.write(f"{time.strftime('%H:%M:%S')} [{function}] {line}\n")

    stopping = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopping.set())

    stack = LocalStack(
        config_path=config,
        parameters=_parameters(os.environ.get("JOBS_PARAMETERS", "")),
        concurrency=int(os.environ.get("LOCAL_LAMBDA_CONCURRENCY", "8")),
        # The API's environments start while the stack boots, as provisioned concurrency keeps them.
        warm_api=int(os.environ.get("LOCAL_API_WARM", os.environ.get("LOCAL_LAMBDA_CONCURRENCY", "8"))),
        log=function_said,
        state_dir=state_dir,
        reset=args.reset,
        schedule_speedup=float(os.environ.get("LOCAL_SCHEDULE_SPEEDUP", "1")),
        # Another template, e.g. a copy with a permission taken out, to see what AWS would refuse.
        template=Path(os.environ["JOBS_TEMPLATE"]).resolve() if os.environ.get("JOBS_TEMPLATE") else None,
    )
    try:
        stack.start()
    except Exception as exc:  # noqa: BLE001 - a bad config or a busy port ends the start with its reason
        stack.stop()
        print(f"make run: could not start: {exc}", file=sys.stderr)
        return 1
    # The page's token lives in the stack's secret, as deployed; JOBS_TOKEN chooses it, else it stays
    # what it was, so that an open page and the CLI keep working. Hex, so that it never starts with
    # "-" and can follow --token on a command line.
    # JOBS_TOKEN may also hold operators' tokens (`alice:<token>,bob:<token>`): the first one is shown.
    secret = os.environ.get("JOBS_TOKEN") or saved_token(state_dir) or secrets.token_hex(20)
    save_token(state_dir, stack.back_office_token(secret))
    operators = parse_tokens(secret)
    if not operators:
        stack.stop()
        print("make run: JOBS_TOKEN holds no usable token (see docs/security.md)", file=sys.stderr)
        return 1
    operator, token = next(iter(operators.items()))
    try:
        gateway = Gateway(stack.routes, stack.call_function, port, log=say, access_log=stack.access_log).start()
    except OSError as exc:
        stack.stop()
        print(
            f"make run: cannot listen on 127.0.0.1:{port}: {exc.strerror} (set PORT to use another port)",
            file=sys.stderr,
        )
        return 1
    url = f"http://127.0.0.1:{gateway.port}"
    stack.serve_page_at(f"{url}/")
    admin = stack.administrator
    assert admin is not None
    aws = {
        "aws_endpoint": stack.endpoint_url,
        "aws_access_key_id": admin.access_key_id,
        "aws_secret_access_key": admin.secret_access_key,
        "aws_region": REGION,
        "stack_name": stack.stack_name,
        "config": str(config or ROOT / "config" / "jobs.yaml"),
        # Each role's credentials, as its service takes them, for `python -m jobs_local.iam.role NAME`.
        "roles": {name: keys.environment() for name, keys in stack.roles_by_hand().items()},
    }
    remember_local_stack(url, state_dir, aws)
    shown_config = config or ROOT / "config" / "jobs.yaml"
    print(
        f"\nJob system running locally: template.yaml deployed into moto, config {shown_config}\n"
        f"  Back office:   {url}/#token={token}   (as {operator})\n"
        f"  API:           {url}  (send Authorization: Bearer {token})\n"
        f"  CLI:           .venv/bin/jobs definitions   (finds this stack by itself)\n"
        f"  AWS:           {stack.endpoint_url}  (AWS_ACCESS_KEY_ID={admin.access_key_id} "
        f"AWS_SECRET_ACCESS_KEY={admin.secret_access_key}, the stack's administrator; region {REGION})\n"
        '                 eval "$(.venv/bin/jobs-local env)" sets them in a shell, for aws and sam '
        "(sam … --config-env local)\n"
        "  Function logs: /aws/lambda/<function> (sam logs -n RunnerFunction --config-env local --tail), "
        f"all in {log_dir / 'functions.log'}\n"
        f"  Access log:    {state_dir / ACCESS_LOG_FILE}  (who called what; never a token)\n"
        f"  State:         {state_dir}  (kept across restarts; make run RESET=1 starts empty)\n"
        "Press Ctrl-C to stop.\n",
        flush=True,
    )
    # In rounds, not one wait: Python runs a signal's handler in the main thread only. In 2 of
    # about 60 stops in a loop here, the main thread was still in this wait 8 s after SIGINT, the
    # signal most likely taken by another thread (waitress's, moto's), and the stack stayed up.
    while not stopping.wait(SIGNAL_ROUND):
        pass
    say("stopping...")
    forget_local_stack(url)
    gateway.stop()
    stack.stop()
    function_log.close()
    say("stopped")
    sys.stdout.flush()
    # Interpreter threads of executions that were cut short may linger; nothing of ours is left to wait for.
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main())
