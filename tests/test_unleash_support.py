"""The run's Unleash is found stopped as soon as it has exited, in any test process
(tests/support/unleash.py)."""

import subprocess
import sys

from tests.support.flows import wait_for
from tests.support.unleash import process_alive, process_state


def test_an_exited_process_nobody_has_reaped_yet_counts_as_gone() -> None:
    """Not reaped here on purpose: a zombie, as the controller sees the server a worker started."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    try:
        wait_for(lambda: process_state(child.pid) == "Z", timeout=30, interval=0.01)
        assert not process_alive(child.pid)
    finally:
        child.wait(timeout=30)


def test_a_running_process_counts_as_alive() -> None:
    child = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE)
    try:
        assert process_alive(child.pid)
    finally:
        child.communicate(timeout=30)
    assert not process_alive(child.pid)
