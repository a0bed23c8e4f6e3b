"""`launchdeck serve` serves through cli/serving.py, which keeps Nagle's algorithm off on every
connection also with several worker processes (plain uvicorn --workers N leaves it on: ~40 ms per
kept-alive request, uvicorn issue #3149)."""

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from flows.server import free_port
from tests.support.flows import wait_for

ROOT = Path(__file__).resolve().parents[2]  # the repository: this file is tests/<folder>/<name>.py


@pytest.fixture
def two_workers(tmp_path: Path) -> Iterator[str]:
    port = free_port()
    log = (tmp_path / "serving.log").open("wb")
    command = [sys.executable, "-m", "cli.serving", "tests.support.nodelay_app:create_app", "--port", str(port)]
    process = subprocess.Popen([*command, "--workers", "2"], cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"

    def answering() -> bool:
        assert process.poll() is None, (tmp_path / "serving.log").read_text()
        try:
            return httpx.get(f"{base}/nodelay", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        wait_for(answering, timeout=60, interval=0.1)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def test_every_worker_process_turns_nagle_off_on_its_connections(two_workers: str) -> None:
    seen: dict[int, int] = {}

    def both_workers_answered() -> bool:
        with httpx.Client(base_url=two_workers, timeout=5) as client:  # a new connection each time
            answer = client.get("/nodelay").json()
        seen[answer["pid"]] = answer["nodelay"]
        return len(seen) == 2

    wait_for(both_workers_answered, timeout=30, interval=0)
    assert all(nodelay == 1 for nodelay in seen.values()), seen
