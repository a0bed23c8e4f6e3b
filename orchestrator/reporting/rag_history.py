"""A launch's RAG, kept once per UTC day, so leadership sees whether it improved or worsened since
last week (research/domain.md §6: "show whether it improved or worsened since last time").

The daily digest flow writes the snapshot from the same digest it posts; the dashboard only reads
it (a GET never writes). One row per launch and day: a second run that day inserts nothing.
"""

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func
from sqlalchemy import select as select_columns
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from orchestrator.core.actors import Actor
from orchestrator.core.clock import as_utc
from orchestrator.core.errors import InvalidInput
from orchestrator.core.ledger import record
from orchestrator.core.models import RagSnapshot
from orchestrator.core.unit import transaction
from orchestrator.reporting.digest import Digest
from orchestrator.reporting.rag import Rag

TREND_LOOKBACK = timedelta(days=7)


@dataclass(frozen=True)
class Trend:
    """Current RAG against the snapshot from a week ago; ``previous`` None means no history yet."""

    previous: Rag | None
    previous_day: date | None
    current: Rag

    @property
    def direction(self) -> str:
        """improved / worsened / unchanged / no history yet: words, not only an arrow."""
        if self.previous is None:
            return "no history yet"
        if self.current.severity > self.previous.severity:
            return "improved"
        if self.current.severity < self.previous.severity:
            return "worsened"
        return "unchanged"

    @property
    def arrow(self) -> str:
        return {"improved": "↑", "worsened": "↓", "unchanged": "→"}.get(self.direction, "·")


def record_rag_snapshots(*, session: Session, digest: Digest, actor: Actor) -> int:
    """Keep each launch's RAG for the digest's UTC day; returns how many rows were new.

    Idempotent and race-safe: rows are inserted with ON CONFLICT DO NOTHING on (launch, day), so
    a retried or concurrent flow run adds nothing, and the first snapshot of a day stands.
    """
    if digest.generated_at.tzinfo is None:
        raise InvalidInput("digest.generated_at", "needs a timezone (launchdeck works in aware UTC)")
    taken_at = as_utc(digest.generated_at)
    day = taken_at.date()
    rows = [
        {
            "launch_id": launch.id,
            "day": day,
            "rag": launch.rag.value,
            "reason": launch.reason[:2000],
            "taken_at": taken_at,
        }
        for launch in digest.launches
    ]
    if not rows:
        return 0
    with transaction(session):
        # Settings admit only SQLite and PostgreSQL; both speak ON CONFLICT DO NOTHING.
        dialect_insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
        statement = dialect_insert(RagSnapshot).values(rows).on_conflict_do_nothing(index_elements=["launch_id", "day"])
        # RETURNING counts the rows really inserted (rowcount is -1 for this on some drivers).
        added = len(session.execute(statement.returning(col(RagSnapshot.id))).all())
        if added:
            record(
                session,
                actor=actor,
                entity="rag_snapshot",
                entity_id=None,
                action="rag.snapshotted",
                launch_id=None,
                after={"day": day.isoformat(), "launches": added},
            )
    return added


def rag_trends(*, session: Session, current: dict[int, Rag], today: date) -> dict[int, Trend]:
    """Each launch's trend against its latest snapshot on or before ``today`` minus a week, in one
    statement whatever the number of launches."""
    cutoff = today - TREND_LOOKBACK
    latest = (
        select(RagSnapshot.launch_id, func.max(RagSnapshot.day).label("day"))
        .where(col(RagSnapshot.launch_id).in_(list(current)), col(RagSnapshot.day) <= cutoff)
        .group_by(col(RagSnapshot.launch_id))
        .subquery()
    )
    previous: dict[int, tuple[Rag, date]] = {}
    for launch_id, day, rag in session.execute(
        select_columns(col(RagSnapshot.launch_id), col(RagSnapshot.day), col(RagSnapshot.rag)).join(
            latest, (col(RagSnapshot.launch_id) == latest.c.launch_id) & (col(RagSnapshot.day) == latest.c.day)
        )
    ):
        previous[launch_id] = (Rag(rag), day)
    trends = {}
    for launch_id, rag in current.items():
        before = previous.get(launch_id)
        trends[launch_id] = Trend(
            previous=before[0] if before else None, previous_day=before[1] if before else None, current=rag
        )
    return trends
