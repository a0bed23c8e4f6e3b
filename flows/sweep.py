"""The sweep as a Prefect deployment: one pass of the worker on a schedule.

For companies that run Prefect workers on a work pool instead of (or besides) `launchdeck
worker`: the scheduled sweep finds due regions and runs their flows, so launches keep moving even
when no launchdeck worker is up. Running both is safe; leases and compare-and-set keep every step
single. It does not listen for commits (a `launchdeck worker` does, `flows/worker.py`): it is the
safety net, one pass each time the schedule comes round.
"""

from prefect import flow

from flows.worker import Worker


@flow(name="launchdeck-sweep", log_prints=False)
def sweep() -> int:
    """Start the flows of every region with due work; returns how many were started."""
    return Worker(name="sweep").run_once()
