"""The order tests are collected in, so that ``pytest -n N --dist worksteal`` spreads the slow ones.

Why: worksteal hands each worker one contiguous share of the collection up front and, when a
worker runs dry, moves the *end* of the longest queue to it. With the slow tests simply sorted
first, all 28 of them (about 330 s: worker kills, chaos, browsers, schemathesis) landed in the
first worker's share and stayed there, one after another, while the other worker ran everything
else: the run could not end before their sum, and the machine idled while they waited on their
processes. Here each worker's share starts with every N-th slow test, then the fast tests fill
it; the fast tests at the ends of the queues are what stealing moves, which evens out the rest.
"""

import pytest


def _is_slow(item: pytest.Item) -> bool:
    return item.get_closest_marker("slow") is not None


def share_sizes(total: int, workers: int) -> list[int]:
    """How many tests worksteal gives each worker at the start (xdist/scheduler/worksteal.py)."""
    sizes = []
    for index in range(workers):
        size = total // (workers - index)
        sizes.append(size)
        total -= size
    return sizes


def spread_slow_tests(items: list[pytest.Item], workers: int) -> None:
    """Reorder ``items`` in place: each of the ``workers`` shares begins with its slow tests."""
    slow = [item for item in items if _is_slow(item)]
    fast = [item for item in items if not _is_slow(item)]
    if workers <= 1:
        items[:] = slow + fast
        return
    ordered: list[pytest.Item] = []
    taken = 0
    for index, size in enumerate(share_sizes(len(items), workers)):
        own_slow = slow[index::workers]
        fill = max(0, size - len(own_slow))
        ordered += own_slow + fast[taken : taken + fill]
        taken += fill
    items[:] = ordered + fast[taken:]


def worker_count(config: pytest.Config) -> int:
    """The number of xdist workers, as each of them is told (1 without xdist)."""
    workerinput = getattr(config, "workerinput", None)
    return int(workerinput["workercount"]) if workerinput else 1
