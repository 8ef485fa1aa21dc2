"""Lambda: functions run their handler code in warm local processes (moto starts Docker).

- `runtime`: the functions' workers, their concurrency, first come first served, and waits.
- `worker`: one warm process that runs a handler (`python -m jobs_local.lambda_.worker`).
- `preloaded`, `forks`: workers forked from one process that has the SDK imported (0.16 CPU-s to
  start the runner's against 0.46 for a new interpreter).
- `limits`: payload sizes and reserved concurrency (moto has none).
"""
