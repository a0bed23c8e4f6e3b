"""Prefect orchestration cost of one region flow run: sync vs async flows, same tasks, same run.

Why it matters: the worker starts one flow run per region each time work is due, so this cost sits
between a check-off and the first exposure step. Prints medians and the async/sync ratio.

    .venv/bin/python benchmarks/flow_overhead.py [--runs 15]

Uses PREFECT_API_URL if set; otherwise starts a throwaway local Prefect server (about 15 s).
"""

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()

    server = None
    if not os.environ.get("PREFECT_API_URL"):
        from flows.server import LocalPrefectServer, free_port

        home = Path(tempfile.mkdtemp(prefix="bench-prefect-"))
        server = LocalPrefectServer(home=home, port=free_port(), log_path=home / "server.log")
        server.start()
        os.environ["PREFECT_API_URL"] = server.api_url
        os.environ["PREFECT_HOME"] = str(home)
        os.environ["PREFECT_LOGGING_LEVEL"] = "WARNING"
    try:
        run(args.runs)
    finally:
        if server is not None:
            server.stop()


def run(runs: int) -> None:
    from prefect import flow, task

    @task
    def step(value: int) -> int:
        return value + 1

    @flow(name="bench-sync")
    def sync_flow(value: int) -> int:
        return step(step(step(value)))

    @flow(name="bench-async")
    async def async_flow(value: int) -> int:
        return step(step(step(value)))

    sync_flow(0)  # first runs register the flows; not measured
    asyncio.run(async_flow(0))
    sync_times = []
    for index in range(runs):
        started = time.perf_counter()
        sync_flow(index)
        sync_times.append(time.perf_counter() - started)
    async_times = []
    for index in range(runs):
        started = time.perf_counter()
        asyncio.run(async_flow(index))
        async_times.append(time.perf_counter() - started)
    sync_median, async_median = statistics.median(sync_times), statistics.median(async_times)
    print(f"runs per kind: {runs} (three-task flows, one process, local Prefect server)")
    print(f"sync flow run  (baseline): median {sync_median * 1000:.0f} ms")
    print(f"async flow run           : median {async_median * 1000:.0f} ms")
    print(f"async / sync             : {async_median / sync_median:.2f}")


if __name__ == "__main__":
    main()
