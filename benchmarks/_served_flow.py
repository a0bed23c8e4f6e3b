"""A one-task Prefect flow served as a deployment, for the `run_deployment` start baseline of
benchmarks/gate_propagation.py (run as `python -m benchmarks._served_flow`)."""

from prefect import flow, task

DEPLOYMENT = "bench-minimal/bench-start"


@task
def step(value: int) -> int:
    return value + 1


@flow(name="bench-minimal")
def minimal(value: int = 0) -> int:
    return step(value)


@flow(name="bench-minimal-async")
async def minimal_async(value: int = 0) -> int:
    """The same one-task flow, async like `advance-region`, for the in-process baseline."""
    return step(value)


if __name__ == "__main__":
    minimal.serve(name="bench-start")
