"""Lambda ends an invocation at its function's `Timeout`, and so does the local runtime: the caller
gets `Sandbox.Timedout`, and the worker that ran it is gone (its next invocation starts afresh)."""

import json
import re
import time
from pathlib import Path
from types import SimpleNamespace

from jobs_local.iam.credentials import Keys
from jobs_local.lambda_.environment import FunctionCode
from jobs_local.lambda_.runtime import LambdaRuntime


class _Roles:
    """A stand-in for STS: the runtime only needs some keys for the function's role."""

    def keys(self, role_arn: str, service: str, session: str, source_arn: str | None = None) -> Keys:
        return Keys("ASIAEXAMPLE", "secret", "token")


def test_an_invocation_past_its_functions_timeout_is_ended(tmp_path: Path):
    (tmp_path / "slow.py").write_text("import time\n\ndef handler(event, context):\n    time.sleep(30)\n")
    function = SimpleNamespace(
        function_name="slow", function_arn="arn:aws:lambda:us-east-1:123456789012:function:slow",
        role="arn:aws:iam::123456789012:role/slow", handler="slow.handler", timeout=1, memory_size=128,
        environment_vars={}, account_id="123456789012",
    )  # fmt: skip
    runtime = LambdaRuntime("http://127.0.0.1:9", "us-east-1", _Roles(), concurrency=1)
    runtime.register("slow", FunctionCode(code_dir=tmp_path, layer_dirs=()))
    try:
        started = time.monotonic()
        payload, failed, logs = runtime.invoke(function, {}, tail=True)
        took = time.monotonic() - started
        assert failed and json.loads(payload)["errorType"] == "Sandbox.Timedout"
        assert 1 <= took < 10
        # Lambda's own lines for it, as the worker could not write its END and REPORT.
        assert "Task timed out after 1.00 seconds" in logs
        assert re.search(r"^REPORT RequestId: \S+\tDuration: 1000.00 ms\t.*\tStatus: timeout$", logs, re.M)
        assert not any(worker.poll() is None for worker in runtime.processes.workers)
    finally:
        runtime.close()
