"""Finding due work and handing it out: which regions a worker should move now, and short leases
so two workers do not start the same region.

Leases are scheduling data, not domain state: they bump no version and write no audit event.
Correctness never depends on them (every step is a compare-and-set); they only keep duplicate
flow runs rare.
"""

from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, or_, update
from sqlmodel import Session, col, select

from orchestrator.core.enums import LaunchStatus, RolloutState
from orchestrator.core.models import Launch, RegionRollout
from orchestrator.core.unit import transaction


def due_rollout_ids(session: Session, *, now: datetime, limit: int = 500) -> list[int]:
    """Regions of active launches with something to do now, unclaimed or with an expired lease."""
    clock_states = [RolloutState.GATED, RolloutState.ROLLING_OUT, RolloutState.LIVE]
    statement = (
        select(RegionRollout.id)
        .join(Launch, col(Launch.id) == col(RegionRollout.launch_id))
        .where(
            Launch.status == LaunchStatus.ACTIVE,
            or_(
                col(RegionRollout.state) == RolloutState.READY,
                (col(RegionRollout.state).in_(clock_states)) & (col(RegionRollout.next_check_at) <= now),
            ),
            or_(col(RegionRollout.lease_until).is_(None), col(RegionRollout.lease_until) < now),
        )
        .order_by(col(RegionRollout.next_check_at), col(RegionRollout.id))
        .limit(limit)
    )
    ids = [rollout_id for rollout_id in session.exec(statement) if rollout_id is not None]
    session.commit()  # end the read transaction: SQLite holds its write lock for the whole transaction
    return ids


def claim_rollout(session: Session, *, rollout_id: int, owner: str, now: datetime, seconds: int) -> bool:
    """Take a region for ``seconds``; True if this worker holds it now."""
    with transaction(session):
        result = session.execute(
            update(RegionRollout)
            .where(
                col(RegionRollout.id) == rollout_id,
                or_(
                    col(RegionRollout.lease_until).is_(None),
                    col(RegionRollout.lease_until) < now,
                    col(RegionRollout.lease_owner) == owner,
                ),
            )
            .values(lease_owner=owner, lease_until=now + timedelta(seconds=seconds))
            # No in-Python evaluation against loaded objects (SQLite hands back naive datetimes).
            .execution_options(synchronize_session=False)
        )
    return cast(CursorResult[Any], result).rowcount == 1


def release_rollout(session: Session, *, rollout_id: int, owner: str) -> None:
    with transaction(session):
        session.execute(
            update(RegionRollout)
            .where(col(RegionRollout.id) == rollout_id, col(RegionRollout.lease_owner) == owner)
            .values(lease_owner=None, lease_until=None)
            .execution_options(synchronize_session=False)
        )
