"""What a request asks of the database, counted with SQLAlchemy events on every engine and pool
of the process: the check-off runs on the app's async twin of the engine (orchestrator/db.py),
made in the app's lifespan, so hooks on one engine object would miss it. Shared by
`checkoff_throughput.py` (which prints it) and `tests/api/test_checkoff_cost.py` (which holds it)."""

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, Pool, event

# The async twin's pre-ping is one empty query (orchestrator/db.py, ``_ping_in_one_round_trip``).
ASYNCPG_PING_ROUND_TRIPS = 1

# Threads that poll the database on their own clock in an API process (the Slack processors of
# api/slack_work.py): a poll that lands while a request is counted is not the request's cost.
BACKGROUND_THREADS = ("slack-work-",)


def _in_background_thread() -> bool:
    return threading.current_thread().name.startswith(BACKGROUND_THREADS)


@dataclass(frozen=True)
class SqlCost:
    """Round trips on PostgreSQL = statements + BEGIN and COMMIT per transaction (the driver sends
    BEGIN on its own) + the ping of each pool checkout."""

    statements: int
    transactions: int  # COMMITs and ROLLBACKs
    checkouts: int

    @property
    def round_trips(self) -> int:
        return self.statements + ASYNCPG_PING_ROUND_TRIPS * self.checkouts + 2 * self.transactions


class SqlCounter:
    """Filled while ``counting()`` is open; read ``cost`` after."""

    def __init__(self) -> None:
        self.statements = 0
        self.transactions = 0
        self.checkouts = 0

    @property
    def cost(self) -> SqlCost:
        return SqlCost(statements=self.statements, transactions=self.transactions, checkouts=self.checkouts)


@contextmanager
def counting() -> Iterator[SqlCounter]:
    """Every statement, COMMIT/ROLLBACK and pool checkout in this process while open (sign-in
    included), except those of the background threads named in ``BACKGROUND_THREADS``; nothing
    else may talk to the database meanwhile."""
    counter = SqlCounter()

    def statement(*_args: Any) -> None:
        if not _in_background_thread():
            counter.statements += 1

    def transaction(*_args: Any) -> None:
        if not _in_background_thread():
            counter.transactions += 1

    def checkout(*_args: Any) -> None:
        if not _in_background_thread():
            counter.checkouts += 1

    hooks: list[tuple[Any, str, Callable[..., None]]] = [
        (Engine, "before_cursor_execute", statement),
        (Engine, "commit", transaction),
        (Engine, "rollback", transaction),
        (Pool, "checkout", checkout),
    ]
    for target, name, hook in hooks:
        event.listen(target, name, hook)
    try:
        yield counter
    finally:
        for target, name, hook in hooks:
            event.remove(target, name, hook)
