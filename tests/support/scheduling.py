"""The order tests are collected in, so that ``pytest -n N --dist worksteal`` spreads the slow ones.

Why: worksteal hands each worker one contiguous share of the collection up front and, when a
worker runs dry, moves the *end* of the longest queue to it. With the slow tests simply sorted
first, all 28 of them (about 330 s: worker kills, chaos, browsers, schemathesis) landed in the
first worker's share and stayed there, one after another, while the other worker ran everything
else: the run could not end before their sum, and the machine idled while they waited on their
processes. Here each worker's share starts with every N-th slow test, then every N-th test that
runs flows on the shared Prefect server (2 s on average, up to 14 s), then the fast tests fill it; the fast tests
at the ends of the queues are what stealing moves, which evens out the rest. Before the Prefect
tests moved up, they sat at the ends of the queues (tests/flows) and a run's processes finished
up to 10 s apart, the last one on a 9 or 13 s flow test while the others had stopped.
"""

import pytest

SLOW, PREFECT, FAST = range(3)


def rank(item: pytest.Item) -> int:
    """SLOW for the tests marked so, PREFECT for the others that run flows on the shared Prefect
    server, FAST for the rest (a tenth of a second on average)."""
    if item.get_closest_marker("slow") is not None:
        return SLOW
    if "prefect_server" in getattr(item, "fixturenames", ()):
        return PREFECT
    return FAST


def share_sizes(total: int, workers: int) -> list[int]:
    """How many tests worksteal gives each worker at the start (xdist/scheduler/worksteal.py)."""
    sizes = []
    for index in range(workers):
        size = total // (workers - index)
        sizes.append(size)
        total -= size
    return sizes


def spread_slow_tests(items: list[pytest.Item], workers: int) -> None:
    """Reorder ``items`` in place: each of the ``workers`` shares begins with its slow tests, then
    its Prefect tests, each class dealt out in turn."""
    slow, prefect, fast = ([item for item in items if rank(item) == wanted] for wanted in (SLOW, PREFECT, FAST))
    if workers <= 1:
        items[:] = slow + prefect + fast
        return
    ordered: list[pytest.Item] = []
    taken = 0
    for index, size in enumerate(share_sizes(len(items), workers)):
        head = slow[index::workers] + prefect[index::workers]
        fill = max(0, size - len(head))
        ordered += head + fast[taken : taken + fill]
        taken += fill
    items[:] = ordered + fast[taken:]


def worker_count(config: pytest.Config) -> int:
    """The number of xdist workers, as each of them is told (1 without xdist)."""
    workerinput = getattr(config, "workerinput", None)
    return int(workerinput["workercount"]) if workerinput else 1
