"""Moving one region of a launch through its phases: exposure ramp, live, next phase, and the
operator's brakes (halt, resume, roll back).

Forward moves are safe to repeat: asking for the state the region is already in (the same
exposure step, live, the next phase) is a no-op that writes nothing, so a retried flow task never
advances a region twice. The operator's brakes and resume follow one rule instead: a repeat (halt
a halted region, roll back a rolled-back one, resume one that is running) is refused as
AlreadyInState (409 in the API, the same sentence in the CLI and Slack), names what stands and
records nothing, so a second reason is never dropped in silence.
"""

from datetime import datetime

from sqlalchemy import update
from sqlmodel import Session, col, select

from orchestrator.core.actors import Actor
from orchestrator.core.clock import utcnow
from orchestrator.core.enums import LaunchStatus, Phase, RolloutState
from orchestrator.core.errors import IllegalTransition, InvalidInput
from orchestrator.core.ledger import record
from orchestrator.core.models import Launch, RegionRollout
from orchestrator.core.outbox import enqueue
from orchestrator.core.topics import Topic
from orchestrator.core.unit import compare_and_set, expect_version, lock, transaction
from orchestrator.gates.service import evaluate_gates, open_phase_gates
from orchestrator.rollouts.brakes import authorize_brake, brake_reason, check_brake
from orchestrator.rollouts.phases import planned_phases
from orchestrator.rollouts.ramp import hold_after, steps_for
from orchestrator.rollouts.rules import RolloutAction, resume_target, rollout_target

ENTITY = "region rollout"
# Outbox topic the rollout target consumes (one row per exposure change, delivered once).
TARGET_TOPIC = Topic.TARGET_EXPOSURE


def _state_view(rollout: RegionRollout) -> dict[str, object]:
    return {
        "state": rollout.state.value,
        "phase": rollout.phase.value if rollout.phase else None,
        "percent": rollout.percent,
    }


def _announce(
    session: Session,
    *,
    rollout: RegionRollout,
    actor: Actor,
    action: Topic,
    before: dict[str, object],
    reason: str | None = None,
) -> None:
    """Audit the change and queue its notification, keyed by the new version so it is queued once."""
    after = _state_view(rollout)
    record(
        session,
        actor=actor,
        entity="rollout",
        entity_id=rollout.id,
        action=action,
        launch_id=rollout.launch_id,
        before=before,
        after=after,
        reason=reason,
    )
    enqueue(
        session,
        key=f"rollout:{rollout.id}:v{rollout.version}:{action}",
        topic=action,
        launch_id=rollout.launch_id,
        payload={"rollout_id": rollout.id, **after, "reason": reason, "actor": actor.name},
    )


def _require_phase(rollout: RegionRollout, phase: Phase, attempted: str) -> None:
    if rollout.phase != phase:
        current = rollout.phase.value if rollout.phase else "no phase"
        raise IllegalTransition(ENTITY, f"in {current}", f"{attempted} {phase.value} of", [])


def set_exposure(
    *,
    session: Session,
    rollout_id: int,
    phase: Phase,
    percent: int,
    actor: Actor,
    expected_version: int | None = None,
) -> RegionRollout:
    """Ramp exposure within a phase. Exposure only grows; lowering it is a rollback."""
    if not 1 <= percent <= 100:
        raise InvalidInput("percent", f"must be between 1 and 100, got {percent}")
    with transaction(session):
        rollout = lock(session, RegionRollout, rollout_id, ENTITY)
        expect_version(rollout, expected_version, ENTITY)
        _require_phase(rollout, phase, "ramp")
        if rollout.state in (RolloutState.ROLLING_OUT, RolloutState.LIVE) and rollout.percent >= percent:
            return rollout  # already at (or past) this step: a replay
        target = rollout_target(rollout.state, RolloutAction.SET_EXPOSURE)
        before = _state_view(rollout)
        now = utcnow()
        launch = session.get(Launch, rollout.launch_id)
        assert launch is not None
        hold = hold_after(steps_for(launch.ramp_plan, phase), percent)
        compare_and_set(
            session, rollout, ENTITY, state=target, percent=percent, next_check_at=now + hold, updated_at=now
        )
        _announce(session, rollout=rollout, actor=actor, action=Topic.ROLLOUT_EXPOSURE_CHANGED, before=before)
        _queue_for_target(session, rollout=rollout, phase=phase, percent=percent)
    return rollout


def mark_live(
    *, session: Session, rollout_id: int, phase: Phase, actor: Actor, expected_version: int | None = None
) -> RegionRollout:
    """Declare the phase live in the region once exposure has reached 100%."""
    with transaction(session):
        rollout = lock(session, RegionRollout, rollout_id, ENTITY)
        expect_version(rollout, expected_version, ENTITY)
        _require_phase(rollout, phase, "mark live")
        if rollout.state == RolloutState.LIVE:
            return rollout
        target = rollout_target(rollout.state, RolloutAction.GO_LIVE)
        if rollout.percent < 100:
            raise InvalidInput("percent", f"exposure is {rollout.percent}%; ramp to 100% before marking live")
        before = _state_view(rollout)
        now = utcnow()
        final = planned_phases(session, rollout_id=rollout_id)[-1] == phase
        # Live in a phase that is not the last: the next phase's gates open on the next step.
        compare_and_set(session, rollout, ENTITY, state=target, next_check_at=None if final else now, updated_at=now)
        _announce(session, rollout=rollout, actor=actor, action=Topic.ROLLOUT_LIVE, before=before)
        _wake_next_wave(session, rollout=rollout)
        _complete_launch_if_done(session, launch_id=rollout.launch_id, actor=actor)
    return rollout


def advance_phase(
    *,
    session: Session,
    rollout_id: int,
    from_phase: Phase,
    actor: Actor,
    expected_version: int | None = None,
) -> RegionRollout:
    """Leave a live phase for the next planned one and open its gates.

    ``from_phase`` makes a repeat harmless: if the region has already moved past it, nothing
    happens.
    """
    now = utcnow()
    with transaction(session):
        rollout = lock(session, RegionRollout, rollout_id, ENTITY)
        expect_version(rollout, expected_version, ENTITY)
        phases = planned_phases(session, rollout_id=rollout_id)
        if from_phase not in phases:
            raise InvalidInput("from_phase", f"{from_phase.value} is not planned in this region")
        if rollout.phase is not None and phases.index(rollout.phase) > phases.index(from_phase):
            return rollout
        _require_phase(rollout, from_phase, "advance out of")
        if rollout.state == RolloutState.LIVE and from_phase == phases[-1]:
            raise IllegalTransition(ENTITY, f"live in its last phase ({from_phase.value})", "advance", [])
        target = rollout_target(rollout.state, RolloutAction.ADVANCE)
        following = phases[phases.index(from_phase) + 1]
        before = _state_view(rollout)
        compare_and_set(session, rollout, ENTITY, state=target, phase=following, percent=0, updated_at=now)
        open_phase_gates(session, rollout=rollout, phase=following, now=now)
        _announce(session, rollout=rollout, actor=actor, action=Topic.ROLLOUT_GATED, before=before)
        evaluate_gates(session, rollout=rollout, now=now, actor=actor)
    return rollout


def halt_region(
    *, session: Session, rollout_id: int, actor: Actor, reason: str, expected_version: int | None = None
) -> RegionRollout:
    """Stop a region where it is; nothing moves until it is resumed. Product ops and admins only
    (and launchdeck's own flows); a person's role is checked here, whatever door they came through."""
    authorize_brake(actor, RolloutAction.HALT)
    cleaned = brake_reason(RolloutAction.HALT, reason)
    assert cleaned is not None
    with transaction(session):
        rollout = lock(session, RegionRollout, rollout_id, ENTITY)
        expect_version(rollout, expected_version, ENTITY)
        check_brake(session, rollout=rollout, action=RolloutAction.HALT)
        halt_locked(session, rollout=rollout, actor=actor, reason=cleaned)
    return rollout


def halt_locked(session: Session, *, rollout: RegionRollout, actor: Actor, reason: str) -> None:
    """Halt a rollout the caller has locked, inside the caller's transaction (a guardrail halts
    in the same transaction as the report that tripped it)."""
    if rollout.state == RolloutState.HALTED:
        return
    target = rollout_target(rollout.state, RolloutAction.HALT)
    before = _state_view(rollout)
    compare_and_set(
        session,
        rollout,
        ENTITY,
        state=target,
        halted_from=rollout.state,
        halt_reason=reason,
        updated_at=utcnow(),
    )
    _announce(session, rollout=rollout, actor=actor, action=Topic.ROLLOUT_HALTED, before=before, reason=reason)


def resume_region(
    *,
    session: Session,
    rollout_id: int,
    actor: Actor,
    reason: str | None = None,
    expected_version: int | None = None,
) -> RegionRollout:
    """Resume a halted region where it stopped, or a rolled-back one from ready. Product ops and
    admins only (and launchdeck's own flows)."""
    authorize_brake(actor, RolloutAction.RESUME)
    reason = brake_reason(RolloutAction.RESUME, reason, required=False)
    now = utcnow()
    with transaction(session):
        rollout = lock(session, RegionRollout, rollout_id, ENTITY)
        expect_version(rollout, expected_version, ENTITY)
        check_brake(session, rollout=rollout, action=RolloutAction.RESUME)
        target = resume_target(rollout.state, rollout.halted_from)
        before = _state_view(rollout)
        values: dict[str, object] = {
            "state": target,
            "halted_from": None,
            "halt_reason": None,
            "updated_at": now,
        }
        if rollout.state == RolloutState.ROLLED_BACK:
            values["percent"] = 0
        compare_and_set(session, rollout, ENTITY, **values)
        _announce(session, rollout=rollout, actor=actor, action=Topic.ROLLOUT_RESUMED, before=before, reason=reason)
        evaluate_gates(session, rollout=rollout, now=now, actor=actor)
        if rollout.state == RolloutState.LIVE:
            _complete_launch_if_done(session, launch_id=rollout.launch_id, actor=actor)
    return rollout


def roll_back_region(
    *, session: Session, rollout_id: int, actor: Actor, reason: str, expected_version: int | None = None
) -> RegionRollout:
    """Take the region's exposure to 0% in its current phase; resume re-ramps from ready. Product
    ops and admins only (and launchdeck's own flows)."""
    authorize_brake(actor, RolloutAction.ROLL_BACK)
    cleaned = brake_reason(RolloutAction.ROLL_BACK, reason)
    with transaction(session):
        rollout = lock(session, RegionRollout, rollout_id, ENTITY)
        expect_version(rollout, expected_version, ENTITY)
        check_brake(session, rollout=rollout, action=RolloutAction.ROLL_BACK)
        target = rollout_target(rollout.state, RolloutAction.ROLL_BACK)
        interrupted = rollout.halted_from if rollout.state == RolloutState.HALTED else rollout.state
        before = _state_view(rollout)
        compare_and_set(
            session,
            rollout,
            ENTITY,
            state=target,
            percent=0,
            halted_from=interrupted,
            halt_reason=cleaned,
            updated_at=utcnow(),
        )
        _announce(
            session, rollout=rollout, actor=actor, action=Topic.ROLLOUT_ROLLED_BACK, before=before, reason=cleaned
        )
        if before["percent"]:
            assert rollout.phase is not None
            _queue_for_target(session, rollout=rollout, phase=rollout.phase, percent=0)
    return rollout


def evaluate_rollout(
    *,
    session: Session,
    rollout_id: int,
    actor: Actor,
    now: datetime | None = None,
) -> RegionRollout:
    """Re-check a gated region's gates (time gates open with the clock): the sweep's entry point."""
    with transaction(session):
        rollout = lock(session, RegionRollout, rollout_id, ENTITY)
        evaluate_gates(session, rollout=rollout, now=now or utcnow(), actor=actor)
    return rollout


def _complete_launch_if_done(session: Session, *, launch_id: int, actor: Actor) -> None:
    """A launch completes when every region is live in its last planned phase.

    The launch row is locked before the regions are read: two regions going live at once then
    take turns, and the second sees the first one's commit, so one of them completes the launch.
    """
    launch = lock(session, Launch, launch_id, "launch")
    if launch.status != LaunchStatus.ACTIVE:
        return
    rollouts = session.exec(
        select(RegionRollout).where(RegionRollout.launch_id == launch_id).execution_options(populate_existing=True)
    ).all()
    for rollout in rollouts:
        phases = planned_phases(session, rollout_id=rollout.id)  # type: ignore[arg-type]
        if rollout.state != RolloutState.LIVE or rollout.phase != phases[-1]:
            return
    compare_and_set(session, launch, "launch", status=LaunchStatus.COMPLETED, updated_at=utcnow())
    record(
        session,
        actor=actor,
        entity="launch",
        entity_id=launch_id,
        action="launch.completed",
        launch_id=launch_id,
        before={"status": LaunchStatus.ACTIVE.value},
        after={"status": LaunchStatus.COMPLETED.value},
    )
    enqueue(
        session,
        key=f"launch:{launch_id}:completed",
        topic=Topic.LAUNCH_COMPLETED,
        launch_id=launch_id,
        payload={"launch_id": launch_id},
    )


def _wake_next_wave(session: Session, *, rollout: RegionRollout) -> None:
    """A region going live may let later regions of a sequential launch in: have workers look."""
    session.execute(
        update(RegionRollout)
        .where(
            col(RegionRollout.launch_id) == rollout.launch_id,
            col(RegionRollout.id) != rollout.id,
            col(RegionRollout.state) == RolloutState.GATED,
        )
        .values(next_check_at=utcnow())
    )


def _queue_for_target(session: Session, *, rollout: RegionRollout, phase: Phase, percent: int) -> None:
    """The exposure change the rollout target must receive, keyed by the rollout's new version so a
    re-ramp after a rollback is sent again while a replay of the same step is not."""
    enqueue(
        session,
        key=f"target:{rollout.id}:v{rollout.version}:{phase.value}:{percent}",
        topic=TARGET_TOPIC,
        launch_id=rollout.launch_id,
        payload={"rollout_id": rollout.id, "phase": phase.value, "percent": percent},
    )
