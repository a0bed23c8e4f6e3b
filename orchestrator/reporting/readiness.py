"""Readiness per team and slips per phase, for many launches at once (the rollup and dashboard)."""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func
from sqlalchemy import select as select_columns
from sqlmodel import Session, col, select

from orchestrator.core.clock import as_utc
from orchestrator.core.enums import SATISFYING_STATUSES, Phase
from orchestrator.core.models import (
    ChecklistItem,
    PhaseDate,
    PhaseDateChange,
    Region,
    RegionRollout,
    Team,
)


@dataclass(frozen=True)
class TeamReadiness:
    """How far one team is with one launch. "Done" counts done, waived and n/a: what no longer
    holds a gate closed."""

    team: str
    team_name: str
    blocking_done: int
    blocking_total: int
    done: int
    total: int


def team_readiness(*, session: Session, launch_ids: Sequence[int]) -> dict[int, list[TeamReadiness]]:
    """Per launch, each owning team's done/total counts (blocking and all), in one statement."""
    satisfied = col(ChecklistItem.status).in_(SATISFYING_STATUSES)
    blocking = col(ChecklistItem.blocking).is_(True)

    def tally(condition: ColumnElement[bool]) -> Any:
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    statement = (
        select_columns(
            col(ChecklistItem.launch_id),
            col(Team.key),
            col(Team.name),
            tally(and_(blocking, satisfied)),
            tally(blocking),
            tally(satisfied),
            func.count(),
        )
        .join(Team, col(Team.id) == col(ChecklistItem.owner_team_id))
        .where(col(ChecklistItem.launch_id).in_(list(launch_ids)))
        .group_by(col(ChecklistItem.launch_id), col(Team.key), col(Team.name))
        .order_by(col(ChecklistItem.launch_id), col(Team.key))
    )
    readiness: dict[int, list[TeamReadiness]] = defaultdict(list)
    for launch_id, key, name, blocking_done, blocking_total, done, total in session.execute(statement):
        readiness[launch_id].append(
            TeamReadiness(key, name, int(blocking_done), int(blocking_total), int(done), int(total))
        )
    return readiness


@dataclass(frozen=True)
class PhaseSlip:
    """A phase date that moved away from its baseline, with the reason of its latest move."""

    region: str
    phase: Phase
    baseline_at: datetime
    current_at: datetime
    reason: str | None

    @property
    def slip_days(self) -> float:
        return (self.current_at - self.baseline_at).total_seconds() / 86400


def phase_slips(*, session: Session, launch_ids: Sequence[int]) -> dict[int, list[PhaseSlip]]:
    """Per launch, every phase date not on its baseline (later or earlier), in two statements."""
    rows = session.exec(
        select(PhaseDate, RegionRollout.launch_id, Region.code)
        .join(RegionRollout, col(RegionRollout.id) == col(PhaseDate.rollout_id))
        .join(Region, col(Region.id) == col(RegionRollout.region_id))
        .where(
            col(RegionRollout.launch_id).in_(list(launch_ids)),
            col(PhaseDate.current_at) != col(PhaseDate.baseline_at),
        )
        .order_by(col(Region.rollout_order), col(Region.code))
    ).all()
    reasons: dict[int, str] = {}
    for phase_date_id, reason in session.exec(
        select(PhaseDateChange.phase_date_id, PhaseDateChange.reason)
        .where(col(PhaseDateChange.phase_date_id).in_([phase_date.id for phase_date, _launch, _code in rows]))
        .order_by(col(PhaseDateChange.changed_at), col(PhaseDateChange.id))
    ):
        reasons[phase_date_id] = reason  # ordered oldest first, so the latest reason wins
    order = {phase: index for index, phase in enumerate(Phase.ordered())}
    slips: dict[int, list[PhaseSlip]] = defaultdict(list)
    for phase_date, launch_id, code in sorted(rows, key=lambda row: order[row[0].phase]):
        slips[launch_id].append(
            PhaseSlip(
                region=code,
                phase=phase_date.phase,
                baseline_at=as_utc(phase_date.baseline_at),
                current_at=as_utc(phase_date.current_at),
                reason=reasons.get(phase_date.id),  # type: ignore[arg-type]
            )
        )
    return slips
