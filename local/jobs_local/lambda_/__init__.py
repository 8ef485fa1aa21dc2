"""Lambda: functions run their handler code in warm local processes (moto starts Docker).

- `runtime`: the functions' workers, their concurrency, first come first served, and waits.
- `worker`: one warm process that runs a handler (`python -m jobs_local.lambda_.worker`).
- `limits`: payload sizes and reserved concurrency (moto has none).
"""
