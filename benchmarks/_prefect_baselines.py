"""The Prefect baselines of benchmarks/gate_propagation.py, measured against the same local server in
the same run: one minimal async flow run in process (the figure issue #21's goal is a ratio to),
and a `run_deployment` start of a served one-task flow at Prefect's default runner poll."""

import asyncio
import subprocess
import sys
import time
from pathlib import Path
from uuid import UUID

DEADLINE = 60.0  # seconds a deployment run may take to start before the run is called broken


def minimal_flow_runs(runs: int) -> list[float]:
    from benchmarks._served_flow import minimal_async

    asyncio.run(minimal_async(0))  # registers the flow; not measured
    times = []
    for index in range(runs):
        started = time.perf_counter()
        asyncio.run(minimal_async(index))
        times.append(time.perf_counter() - started)
    return times


def deployment_starts(runs: int, log: Path) -> list[float]:
    """`run_deployment` of a served flow, timed until Prefect reports its run RUNNING (or done)."""
    from prefect.client.orchestration import get_client
    from prefect.deployments import run_deployment
    from prefect.exceptions import ObjectNotFound

    from benchmarks._served_flow import DEPLOYMENT

    with log.open("ab") as sink:
        serving = subprocess.Popen([sys.executable, "-m", "benchmarks._served_flow"], stdout=sink, stderr=sink)

    async def started_after(flow_run_id: UUID, began: float) -> float:
        async with get_client() as client:
            while True:
                state = (await client.read_flow_run(flow_run_id)).state
                if state is not None and state.type.value in ("RUNNING", "COMPLETED"):
                    return time.perf_counter() - began
                if time.perf_counter() - began > DEADLINE:
                    raise SystemExit(f"deployment run not started within {DEADLINE:.0f} s; see {log}")
                await asyncio.sleep(0.02)

    async def wait_for_deployment() -> None:
        async with get_client() as client:
            deadline = time.perf_counter() + DEADLINE
            while True:
                try:
                    await client.read_deployment_by_name(DEPLOYMENT)
                    return
                except ObjectNotFound:  # until the runner has registered it
                    if time.perf_counter() > deadline or serving.poll() is not None:
                        raise SystemExit(f"the served flow never registered; see {log}") from None
                    await asyncio.sleep(0.2)

    try:
        asyncio.run(wait_for_deployment())
        times = []
        for _ in range(runs + 1):  # the first start warms the runner up; not measured
            began = time.perf_counter()
            flow_run = run_deployment(DEPLOYMENT, timeout=0)
            times.append(asyncio.run(started_after(flow_run.id, began)))  # type: ignore[union-attr]
        return times[1:]
    finally:
        serving.terminate()
        serving.wait(timeout=30)
