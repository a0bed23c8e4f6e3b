"""The leadership portfolio: every active launch, red first, in a fixed number of queries however
many launches exist, and the change marker that says when a computed portfolio may be reused."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func
from sqlalchemy import select as select_columns
from sqlmodel import Session, col

from orchestrator.core.enums import Phase
from orchestrator.core.models import (
    AuditEvent,
)
from orchestrator.gates.beta_exit import CriterionStatus
from orchestrator.reporting.digest import LaunchDigest, build_leadership_digest
from orchestrator.reporting.rag import Rag, RagRules
from orchestrator.reporting.rag_history import Trend, rag_trends

# Audit ids the change marker looks back over (see ``change_marker``).
MARKER_WINDOW = 10_000


@dataclass(frozen=True)
class PortfolioRow:
    launch: LaunchDigest
    trend: Trend
    next_gate_region: str | None
    next_gate_phase: Phase | None
    next_gate_at: datetime | None
    next_gate_timezone: str  # that region's, so the date reads as its local day
    next_gate_criteria: tuple[CriterionStatus, ...]  # that gate's beta exit criteria, if it has any
    slip_days: int  # the worst region's slip of its current or a later phase


@dataclass(frozen=True)
class Portfolio:
    generated_at: datetime
    rows: tuple[PortfolioRow, ...]
    rules: RagRules

    def count(self, rag: Rag) -> int:
        return sum(1 for row in self.rows if row.launch.rag == rag)


def portfolio(
    *, session: Session, now: datetime, rules: RagRules | None = None, launch_ids: Sequence[int] | None = None
) -> Portfolio:
    """Every active launch, red first: seven queries (the digest's six and the RAG history), and
    three more when any launch has beta exit criteria. ``launch_ids`` narrows it to those
    launches, whatever their status (a search, a page of completed launches)."""
    rules = rules or RagRules.from_settings()
    digest = build_leadership_digest(session=session, now=now, rules=rules, launch_ids=launch_ids)
    trends = rag_trends(
        session=session, current={launch.id: launch.rag for launch in digest.launches}, today=now.date()
    )
    rows = []
    for launch in digest.launches:
        gated = [region for region in launch.regions if region.next_gate_at is not None]
        first = min(gated, key=lambda region: region.next_gate_at or now, default=None)
        rows.append(
            PortfolioRow(
                launch=launch,
                trend=trends[launch.id],
                next_gate_region=first.region if first else None,
                next_gate_phase=first.next_gate_phase if first else None,
                next_gate_at=first.next_gate_at if first else None,
                next_gate_timezone=first.timezone if first else "UTC",
                next_gate_criteria=first.next_gate_criteria if first else (),
                slip_days=max((region.slip_days for region in launch.regions), default=0),
            )
        )
    return Portfolio(generated_at=digest.generated_at, rows=tuple(rows), rules=rules)


def change_marker(*, session: Session) -> tuple[int, int]:
    """The newest audit event's id, and how many events lie within ``MARKER_WINDOW`` ids of it:
    every domain change writes one in its own transaction, so an unchanged marker means nothing
    the dashboard shows was changed. The count catches a transaction that committed late with a
    lower id (PostgreSQL hands out ids at insert, not at commit).

    Why a window and not every event: counting the whole table grows with it (43-48 ms at a
    million events on PostgreSQL, 76-77 ms on SQLite, on every portfolio request); the window is
    two index reads (the newest id, then a range of ids), the same cost at any size. A change it
    could miss would have to take its id, then wait for ``MARKER_WINDOW`` newer events to be
    written before it commits; the cache's age limit (``LAUNCHDECK_DASHBOARD_CACHE_SECONDS``)
    still bounds how long such a page is reused."""
    # Two statements, so that PostgreSQL plans the count with the bound's value and reads the
    # index range (as one statement, with the bound a subquery, it scanned the table).
    newest = session.execute(select_columns(func.max(col(AuditEvent.id)))).scalar_one_or_none() or 0
    count, top = session.execute(
        select_columns(func.count(col(AuditEvent.id)), func.max(col(AuditEvent.id))).where(
            col(AuditEvent.id) > newest - MARKER_WINDOW
        )
    ).one()
    return int(top or 0), int(count)
