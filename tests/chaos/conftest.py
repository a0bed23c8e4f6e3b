"""Shared by the chaos tests: a Prefect server of a test's own."""

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from flows.server import LocalPrefectServer, default_cache_dir, free_port


@pytest.fixture
def own_prefect(tmp_path: Path) -> Iterator[LocalPrefectServer]:
    """A Prefect server of this test's own, started in the background (about 5-8 s) while the test
    builds its launch; ``start_thread`` is joined before the worker needs it. Why not the suite's:
    a test may kill it, or time its rollout steps, and the suite's server keeps its data in SQLite
    shared with every other test's flows (a write there can wait seconds for the lock)."""
    server = LocalPrefectServer(
        home=tmp_path / "prefect", port=free_port(), log_path=tmp_path / "prefect.log", cache_dir=default_cache_dir()
    )

    def start() -> None:
        began = time.monotonic()
        server.start(deadline_seconds=120)
        server.start_seconds = time.monotonic() - began  # type: ignore[attr-defined]

    starter = threading.Thread(target=start, daemon=True)
    starter.start()
    server.start_thread = starter  # type: ignore[attr-defined]
    try:
        yield server
    finally:
        starter.join(timeout=120)
        if server.process is not None and server.process.poll() is None:
            server.process.kill()  # its data goes with tmp_path: no graceful stop needed
            server.process.wait(timeout=30)
