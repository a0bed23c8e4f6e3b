"""Readiness forecasts: made for every region's next gate, recorded so their accuracy can be read
once the gate has passed, and shown with the approvals and beta exit criteria the gate still
waits for.

Recording is idempotent per day: a forecast made again on the same UTC day with the same outcome
(projected day, or done, or no projection) and the same phase date confirms the row already there
instead of adding one, by a unique key, so the hourly flow, the daily digest and on-demand calls
together leave one row per distinct forecast, region and day, even when two of them race.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from orchestrator.core.actors import Actor
from orchestrator.core.clock import as_utc
from orchestrator.core.enums import LaunchStatus
from orchestrator.core.errors import InvalidInput
from orchestrator.core.ledger import record
from orchestrator.core.models import Forecast, Launch
from orchestrator.core.policy import LAUNCH_OPERATORS, require_role
from orchestrator.core.unit import transaction
from orchestrator.forecasts.projection import Projection
from orchestrator.forecasts.reads import ids_where, projections

_BATCH = 500  # rows per INSERT: far below SQLite's bound-parameter limit


@dataclass(frozen=True)
class RecordRun:
    made: int  # forecasts made (regions with a next gate)
    new: int  # rows added; the others confirmed a forecast already recorded that day


def forecast_key(projection: Projection, *, now: datetime) -> str:
    """What makes a recorded forecast new: the region, the phase, the UTC day it is made, its
    outcome and the phase date it was measured against."""
    assert projection.phase_at is not None
    return ":".join(
        (
            str(projection.rollout_id),
            projection.phase.value,
            f"{as_utc(now):%Y-%m-%d}",
            projection.outcome,
            f"{as_utc(projection.phase_at):%Y%m%dT%H%M%S}",
        )
    )


def record_forecasts(
    *, session: Session, now: datetime, actor: Actor, launch_ids: list[int] | None = None
) -> RecordRun:
    """Make and record the forecast of every active launch's regions (or of ``launch_ids``,
    whatever their status). Launchdeck's flows, the operator's CLI, product ops and admins may."""
    require_role(actor, LAUNCH_OPERATORS, doing="record readiness forecasts")
    if now.tzinfo is None:
        raise InvalidInput("now", "needs a timezone (launchdeck works in aware UTC)")
    which: ColumnElement[bool] = (
        ids_where(launch_ids) if launch_ids is not None else col(Launch.status) == LaunchStatus.ACTIVE
    )
    made = [projection for projection in projections(session, which=which, now=now) if projection.phase_at]
    rows = [_row(projection, now=now) for projection in made]
    if not rows:
        session.commit()  # end the read
        return RecordRun(made=0, new=0)
    with transaction(session):
        new = 0
        for start in range(0, len(rows), _BATCH):
            new += _upsert(session, rows[start : start + _BATCH])
        if new:
            record(
                session,
                actor=actor,
                entity="forecast",
                entity_id=None,
                action="forecast.recorded",
                launch_id=None,
                after={"forecasts": len(rows), "new": new, "launches": len({row["launch_id"] for row in rows})},
            )
    return RecordRun(made=len(rows), new=new)


def _row(projection: Projection, *, now: datetime) -> dict[str, Any]:
    return {
        "key": forecast_key(projection, now=now),
        "launch_id": projection.launch_id,
        "rollout_id": projection.rollout_id,
        "phase": projection.phase,
        "made_at": now,
        "confirmed_at": now,
        "phase_at": projection.phase_at,
        "projected_at": projection.projected_at,
        "open_blocking": projection.open_blocking,
        "rate_per_day": round(projection.rate_per_day, 6),
    }


def _upsert(session: Session, rows: list[dict[str, Any]]) -> int:
    """Insert the forecasts not recorded yet today and confirm the others; returns how many were new.

    ON CONFLICT on the key, on both databases (settings admit only SQLite and PostgreSQL): a
    concurrent recorder's row is confirmed, never duplicated. The count of new rows reads the keys
    that were there first, in the same transaction."""
    keys = [row["key"] for row in rows]
    present = set(session.exec(select(Forecast.key).where(col(Forecast.key).in_(keys))).all())
    dialect_insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    statement = dialect_insert(Forecast).values(rows)
    statement = statement.on_conflict_do_update(
        index_elements=["key"], set_={"confirmed_at": statement.excluded.confirmed_at}
    )
    session.execute(statement)
    return len(set(keys) - present)
