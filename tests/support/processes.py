"""For tests that run the installed ``launchdeck`` command as a process of its own."""

import sys
from pathlib import Path

LAUNCHDECK = str(Path(sys.executable).parent / "launchdeck")  # the entry point in this venv
