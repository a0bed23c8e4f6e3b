"""How the collection is ordered for xdist's worksteal (tests/support/scheduling.py)."""

from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any, cast

import pytest

from tests.support.scheduling import share_sizes, spread_slow_tests


@dataclass
class FakeItem:
    name: str

    def get_closest_marker(self, name: str) -> Any:
        return object() if name == "slow" and self.name.startswith("slow") else None

    @property
    def fixturenames(self) -> list[str]:
        return ["engine", "prefect_server"] if self.name.startswith("flow") else ["engine"]


def names(items: list[pytest.Item]) -> list[str]:
    return [cast(FakeItem, item).name for item in items]


def collection(slow: int, fast: int, flows: int = 0) -> list[pytest.Item]:
    """Fast tests, then tests on the Prefect server, then slow ones: the flow tests last, where
    tests/flows puts them in a real collection."""
    made = (
        [FakeItem(f"fast{n}") for n in range(fast)]
        + [FakeItem(f"flow{n}") for n in range(flows)]
        + [FakeItem(f"slow{n}") for n in range(slow)]
    )
    return cast(list[pytest.Item], made)


def test_share_sizes_add_up_as_worksteal_splits_them() -> None:
    assert share_sizes(10, 3) == [3, 3, 4]
    assert share_sizes(1563, 2) == [781, 782]
    assert sum(share_sizes(1563, 3)) == 1563


def test_each_workers_share_starts_with_its_turn_of_the_slow_tests() -> None:
    items = collection(slow=5, fast=9)
    spread_slow_tests(items, 2)
    shares = [names(items)[:7], names(items)[7:]]
    assert shares[0][:3] == ["slow0", "slow2", "slow4"]
    assert shares[1][:2] == ["slow1", "slow3"]
    assert all(name.startswith("fast") for name in shares[0][3:] + shares[1][2:])
    assert sorted(names(items)) == sorted(names(collection(slow=5, fast=9)))


def test_after_the_slow_tests_each_share_has_its_turn_of_the_prefect_tests() -> None:
    items = collection(slow=3, fast=8, flows=4)
    spread_slow_tests(items, 2)
    shares = [names(items)[:7], names(items)[7:]]
    assert shares[0][:4] == ["slow0", "slow2", "flow0", "flow2"]
    assert shares[1][:3] == ["slow1", "flow1", "flow3"]
    assert all(name.startswith("fast") for name in shares[0][4:] + shares[1][3:])


def test_without_workers_the_slow_tests_then_the_prefect_tests_simply_come_first() -> None:
    items = collection(slow=2, fast=3, flows=1)
    spread_slow_tests(items, 1)
    assert names(items) == ["slow0", "slow1", "flow0", "fast0", "fast1", "fast2"]


class FakeWorker:
    """What xdist's scheduler calls on a worker it hands tests to."""

    shutting_down = False

    def __init__(self, number: int) -> None:
        self.sent: list[int] = []
        self.gateway = SimpleNamespace(id=f"gw{number}")

    def send_runtest_some(self, indices: list[int]) -> None:
        self.sent += indices


class FakeConfig:
    def __init__(self, workers: int) -> None:
        self.workers = workers

    def getvalue(self, name: str) -> Any:
        return [f"{self.workers}*popen"] if name == "tx" else None


@pytest.mark.parametrize("workers", [2, 3])
def test_xdists_own_worksteal_scheduler_gives_each_worker_its_slow_tests_first(workers: int) -> None:
    from xdist.scheduler.worksteal import WorkStealingScheduling  # type: ignore[import-untyped]

    items = collection(slow=28, fast=1505, flows=30)
    spread_slow_tests(items, workers)
    scheduler = WorkStealingScheduling(cast(pytest.Config, FakeConfig(workers)))
    nodes = [FakeWorker(number) for number in range(workers)]
    for node in nodes:
        scheduler.add_node(cast(Any, node))
        scheduler.add_node_collection(cast(Any, node), names(items))
    scheduler.schedule()
    for index, node in enumerate(nodes):
        slow, flows = len(range(index, 28, workers)), len(range(index, 30, workers))
        first = [names(items)[sent] for sent in node.sent[: slow + flows]]
        expected = [f"slow{n}" for n in range(index, 28, workers)] + [f"flow{n}" for n in range(index, 30, workers)]
        assert first == expected
