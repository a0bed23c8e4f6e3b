"""The portfolio, computed once per recorded change: its numbers come from every active launch,
which costs a few hundred milliseconds at two hundred launches on SQLite, while leadership reads
it far more often than anything changes.

An entry is reused only while (a) no audit event was written since (every domain change writes
one in its own transaction, see ``change_marker``, which looks at the newest ten thousand ids),
(b) it is younger than ``LAUNCHDECK_DASHBOARD_CACHE_SECONDS`` (60 by default: time alone turns
items overdue, so a reused page is at most that far behind the clock, and behind a recorded change
only if that change committed after ten thousand newer ones), and (c) the RAG rules are the same.
0 turns it off. One cache per app (per database), kept in app.state.
"""

import threading
import time
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from orchestrator.core.settings import get_settings
from orchestrator.reporting.portfolio import Portfolio, change_marker, portfolio
from orchestrator.reporting.rag import RagRules


@dataclass(frozen=True)
class _Entry:
    marker: tuple[int, int]
    rules: RagRules
    made_at: float
    value: Portfolio


class PortfolioCache:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entry: _Entry | None = None

    def get(self, *, session: Session, now: datetime) -> Portfolio:
        max_age = get_settings().dashboard_cache_seconds
        rules = RagRules.from_settings()
        if max_age <= 0:
            return portfolio(session=session, now=now, rules=rules)
        # The marker is read before the data: a change landing in between makes the marker look
        # older than the page, which only costs a recomputation next time, never a stale page.
        marker = change_marker(session=session)
        entry = self._entry
        if (
            entry is not None
            and entry.marker == marker
            and entry.rules == rules
            and time.monotonic() - entry.made_at < max_age
        ):
            return entry.value
        value = portfolio(session=session, now=now, rules=rules)
        with self._lock:
            self._entry = _Entry(marker=marker, rules=rules, made_at=time.monotonic(), value=value)
        return value
