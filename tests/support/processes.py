"""For tests that run the installed ``launchdeck`` command as a process of its own."""

import subprocess
import sys
from pathlib import Path

LAUNCHDECK = str(Path(sys.executable).parent / "launchdeck")  # the entry point in this venv


def stop(process: subprocess.Popen[bytes]) -> None:
    """Stop ``process`` as an operator would (SIGTERM, so it can give its claims back), killing it
    only if it has not exited within 30 s."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
