"""A finished xdist worker skips Python's teardown; anything else exits as usual
(tests/support/quick_exit.py)."""

import os
import subprocess
import sys
import textwrap

import pytest

PROGRAM = textwrap.dedent(
    """
    import atexit, sys
    atexit.register(lambda: print("teardown ran", flush=True))  # registered first: runs last
    from tests.support import quick_exit
    quick_exit.install()
    print("output buffered without a newline", end="")
    if sys.argv[1] == "finished":
        quick_exit.session_finished()
    """
)


def run(state: str, *, worker: str | None) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if key != "PYTEST_XDIST_WORKER"}
    if worker:
        env["PYTEST_XDIST_WORKER"] = worker
    return subprocess.run(
        [sys.executable, "-c", PROGRAM, state], env=env, capture_output=True, text=True, timeout=60, check=False
    )


def test_a_finished_worker_flushes_its_output_and_leaves_before_the_other_exit_handlers() -> None:
    done = run("finished", worker="gw0")
    assert (done.returncode, done.stdout) == (0, "output buffered without a newline")


@pytest.mark.parametrize(("state", "worker"), [("unfinished", "gw0"), ("finished", None)])
def test_an_unfinished_worker_or_a_process_that_is_no_worker_exits_as_usual(state: str, worker: str | None) -> None:
    done = run(state, worker=worker)
    assert (done.returncode, done.stdout) == (0, "output buffered without a newlineteardown ran\n")
