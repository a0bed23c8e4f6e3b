"""The portfolio's pages, each computed once per recorded change: leadership reads them far more
often than anything changes. Since #21 a page computes only its own launches (the order of every
active launch comes from one statement, ``orchestrator.reporting.rag_rank``), so what is kept is
the pages people opened, not the whole portfolio.

A page is reused only while (a) no audit event was written since (every domain change writes one
in its own transaction, see ``change_marker``, which looks at the newest ten thousand ids), (b) it
is younger than ``LAUNCHDECK_DASHBOARD_CACHE_SECONDS`` (60 by default: time alone turns items
overdue, so a reused page is at most that far behind the clock, and behind a recorded change only
if that change committed after ten thousand newer ones), and (c) the RAG rules are the same.
0 turns it off. One cache per app (per database), kept in app.state; at most ``MAX_PAGES`` pages.
"""

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import Session

from orchestrator.core.settings import get_settings
from orchestrator.reporting.portfolio import change_marker
from orchestrator.reporting.portfolio_search import PortfolioView, page_size
from orchestrator.reporting.rag import RagRules

MAX_PAGES = 20  # pages kept per change: the first few are what people open; a crawler cannot fill memory


@dataclass
class _Entry:
    marker: tuple[int, int]
    rules: RagRules
    made_at: float
    pages: dict[tuple[int, int], PortfolioView] = field(default_factory=dict)  # by page and page size


class PortfolioCache:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entry: _Entry | None = None

    def get(self, *, session: Session, now: datetime, page: int, compute: Callable[[], PortfolioView]) -> PortfolioView:
        """Page ``page`` of the default view (active launches, no search), reused or ``compute``d."""
        max_age = get_settings().dashboard_cache_seconds
        if max_age <= 0:
            return compute()
        rules = RagRules.from_settings()
        # The marker is read before the data: a change landing in between makes the marker look
        # older than the page, which only costs a recomputation next time, never a stale page.
        marker = change_marker(session=session)
        entry = self._entry
        stale = entry is None or time.monotonic() - entry.made_at >= max_age
        if entry is None or stale or entry.marker != marker or entry.rules != rules:
            entry = _Entry(marker=marker, rules=rules, made_at=time.monotonic())
        key = (page, page_size())
        found = entry.pages.get(key)
        if found is not None:
            return found
        view = compute()
        with self._lock:
            if len(entry.pages) < MAX_PAGES:
                entry.pages[key] = view
            self._entry = entry
        return view
