"""Where launchdeck's own log lines go in the long-running commands.

Nothing configured the ``launchdeck`` loggers, and Prefect's logging setup (applied when the worker
imports it) leaves the root at WARNING: the console transport's messages, the only place Slack
messages appear without Slack, were dropped. The worker now prints its INFO lines to its stdout
(``.launchdeck/worker.log`` under `launchdeck up`), plainly: one timestamped line, then the message
as its indented lines, never wrapped or coloured, so a file reads like the terminal.
"""

import logging
import sys
from collections.abc import Callable
from typing import TextIO

FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"


def show_launchdeck_logs(stream: TextIO | None = None, *, level: int = logging.INFO) -> Callable[[], None]:
    """Send ``launchdeck.*`` records at ``level`` and above to ``stream`` (stdout by default), and
    only there: they no longer reach the root logger, whose Prefect handler would print each twice.
    Returns the undo (tests call it; the worker keeps the setting for its life)."""
    logger = logging.getLogger("launchdeck")
    handler = logging.StreamHandler(stream if stream is not None else sys.stdout)
    handler.setFormatter(logging.Formatter(FORMAT, datefmt="%Y-%m-%d %H:%M:%S"))
    before = (logger.level, logger.propagate)
    logger.addHandler(handler)
    logger.setLevel(level)
    logger.propagate = False

    def undo() -> None:
        logger.removeHandler(handler)
        logger.setLevel(before[0])
        logger.propagate = before[1]

    return undo
