"""What a region does next, decided from its row and the clock, and doing it.

The flows call ``next_step`` and ``take_step`` in a loop until nothing is due; every step is a
compare-and-set service call, so a replayed or concurrent run of the same region is harmless.
"""

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlmodel import Session, col, select

from orchestrator.core.actors import Actor
from orchestrator.core.clock import as_utc
from orchestrator.core.enums import LaunchStatus, Phase, RolloutState
from orchestrator.core.errors import NotFound
from orchestrator.core.models import Launch, Region, RegionRollout
from orchestrator.rollouts import service as rollouts
from orchestrator.rollouts.phases import planned_phases
from orchestrator.rollouts.ramp import RampStep, steps_for
from orchestrator.rollouts.ramp import next_step as next_ramp_step


class StepKind(StrEnum):
    EVALUATE_GATES = "evaluate_gates"
    RAMP = "ramp"
    GO_LIVE = "go_live"
    ADVANCE = "advance"


@dataclass(frozen=True)
class RolloutSnapshot:
    rollout_id: int
    launch_id: int
    launch_slug: str
    launch_active: bool
    region: str
    state: RolloutState
    phase: Phase | None
    percent: int
    next_check_at: datetime | None
    version: int
    phases: tuple[Phase, ...]
    ramp: tuple[RampStep, ...]

    @property
    def in_last_phase(self) -> bool:
        return self.phase is not None and self.phase == self.phases[-1]


@dataclass(frozen=True)
class Step:
    kind: StepKind
    phase: Phase
    percent: int | None = None


def load_snapshot(session: Session, *, rollout_id: int) -> RolloutSnapshot:
    row = session.exec(
        select(RegionRollout, Launch, Region)
        .join(Launch, col(Launch.id) == col(RegionRollout.launch_id))
        .join(Region, col(Region.id) == col(RegionRollout.region_id))
        .where(RegionRollout.id == rollout_id)
        .execution_options(populate_existing=True)
    ).first()
    if row is None:
        raise NotFound("region rollout", rollout_id)
    rollout, launch, region = row
    phase = rollout.phase
    return RolloutSnapshot(
        rollout_id=rollout_id,
        launch_id=launch.id,  # type: ignore[arg-type]
        launch_slug=launch.slug,
        launch_active=launch.status == LaunchStatus.ACTIVE,
        region=region.code,
        state=rollout.state,
        phase=phase,
        percent=rollout.percent,
        next_check_at=as_utc(rollout.next_check_at) if rollout.next_check_at else None,
        version=rollout.version,
        phases=tuple(planned_phases(session, rollout_id=rollout_id)),
        ramp=steps_for(launch.ramp_plan, phase) if phase is not None else (),
    )


def next_step(snapshot: RolloutSnapshot, *, now: datetime) -> Step | None:
    """The one thing due now for this region, or None (waiting on people, or on the clock)."""
    if not snapshot.launch_active or snapshot.phase is None:
        return None
    phase = snapshot.phase
    clock_due = snapshot.next_check_at is not None and now >= snapshot.next_check_at
    if snapshot.state == RolloutState.READY:
        first = next_ramp_step(snapshot.ramp, 0)
        assert first is not None
        return Step(StepKind.RAMP, phase, first.percent)
    if snapshot.state == RolloutState.ROLLING_OUT and (clock_due or snapshot.next_check_at is None):
        following = next_ramp_step(snapshot.ramp, snapshot.percent)
        if following is None:
            return Step(StepKind.GO_LIVE, phase)
        return Step(StepKind.RAMP, phase, following.percent)
    if snapshot.state == RolloutState.LIVE and not snapshot.in_last_phase:
        return Step(StepKind.ADVANCE, phase)
    if snapshot.state == RolloutState.GATED and clock_due:
        return Step(StepKind.EVALUATE_GATES, phase)
    return None


def take_step(session: Session, *, snapshot: RolloutSnapshot, step: Step, actor: Actor) -> RegionRollout:
    """Carry out ``step`` with the service for it; a step someone else already took is a no-op."""
    rollout_id = snapshot.rollout_id
    if step.kind == StepKind.RAMP:
        assert step.percent is not None
        return rollouts.set_exposure(
            session=session, rollout_id=rollout_id, phase=step.phase, percent=step.percent, actor=actor
        )
    if step.kind == StepKind.GO_LIVE:
        return rollouts.mark_live(session=session, rollout_id=rollout_id, phase=step.phase, actor=actor)
    if step.kind == StepKind.ADVANCE:
        return rollouts.advance_phase(session=session, rollout_id=rollout_id, from_phase=step.phase, actor=actor)
    return rollouts.evaluate_rollout(session=session, rollout_id=rollout_id, actor=actor)
