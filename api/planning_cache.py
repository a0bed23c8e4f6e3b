"""The planning snapshot (every planned launch's phase dates, the regions' calendars, the
collisions among them) computed once per recorded change and day, as ``portfolio_cache`` keeps
the portfolio: the portfolio timeline, the collisions page and a launch's timeline are views of it,
and leadership opens them far more often than anything changes.

An entry is reused only while no audit event was written since (``change_marker``: every change
to a launch, its dates, a region's freezes or countries writes one), on the same UTC day (what is
"ahead" moves with it), with the same collision window, and for at most
``LAUNCHDECK_DASHBOARD_CACHE_SECONDS`` (0 turns reuse off). One per app, kept in app.state.
"""

import threading
import time
from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel import Session

from orchestrator.core.clock import as_utc
from orchestrator.core.settings import get_settings
from orchestrator.planning.snapshot import PlanningSnapshot, planning_snapshot
from orchestrator.reporting.portfolio import change_marker


@dataclass(frozen=True)
class _Entry:
    key: tuple[tuple[int, int], date, int]
    made_at: float
    value: PlanningSnapshot


class PlanningCache:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entry: _Entry | None = None

    def get(self, *, session: Session, now: datetime) -> PlanningSnapshot:
        settings = get_settings()
        if settings.dashboard_cache_seconds <= 0:
            return planning_snapshot(session=session, now=now)
        # The marker is read before the data, so a change landing in between costs a recomputation
        # next time, never a stale page.
        key = (change_marker(session=session), as_utc(now).date(), settings.collision_window_days)
        entry = self._entry
        if (
            entry is not None
            and entry.key == key
            and time.monotonic() - entry.made_at < settings.dashboard_cache_seconds
        ):
            return entry.value
        value = planning_snapshot(session=session, now=now)
        with self._lock:
            self._entry = _Entry(key=key, made_at=time.monotonic(), value=value)
        return value
