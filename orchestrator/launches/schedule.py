"""Rescheduling a region's phase: the current date moves, the baseline stays, every change is
kept, and the phase's open items move their due dates with it (09:00 local, DST-safe). A new
date given as a day (a plain date typed in any door) is the start of that day in the region's
timezone (``clock.region_moment``)."""

from datetime import date, datetime

from sqlmodel import Session, col, select

from orchestrator.core.actors import Actor
from orchestrator.core.clock import as_utc, due_at, region_moment, utcnow
from orchestrator.core.enums import SATISFYING_STATUSES, Phase
from orchestrator.core.errors import InvalidInput, NotFound
from orchestrator.core.ledger import record
from orchestrator.core.models import ChecklistItem, PhaseDate, PhaseDateChange, Region, RegionRollout
from orchestrator.core.outbox import enqueue
from orchestrator.core.topics import Topic
from orchestrator.core.unit import compare_and_set, expect_version, lock, transaction
from orchestrator.directory.queries import rollout_timezone
from orchestrator.gates.voiding import void_votes
from orchestrator.rollouts.brakes import region_label


def reschedule_phase(
    *,
    session: Session,
    rollout_id: int,
    phase: Phase,
    new_at: date | datetime,
    actor: Actor,
    reason: str,
    expected_version: int | None = None,
) -> PhaseDate:
    cleaned_reason = (reason or "").strip()
    if not cleaned_reason:
        raise InvalidInput("reason", "a reschedule needs a reason; it is shown wherever the slip is")
    if isinstance(new_at, datetime):
        region_moment(new_at, timezone="UTC", field="new_at")  # a naive time is refused before anything is read
    now = utcnow()
    with transaction(session):
        rollout = lock(session, RegionRollout, rollout_id, "region rollout")
        timezone = rollout_timezone(session=session, rollout_id=rollout_id)
        moved_to = region_moment(new_at, timezone=timezone, field="new_at")
        where = region_label(session, rollout=rollout)
        expect_version(rollout, expected_version, "region", key=where)
        dates = {row.phase: row for row in session.exec(select(PhaseDate).where(PhaseDate.rollout_id == rollout_id))}
        target = date_to_move(dates, phase=phase, rollout=rollout, where=where)
        old_at = as_utc(target.current_at)
        if old_at == moved_to:
            return target
        check_phase_order(dates, phase, moved_to)
        target.current_at = moved_to
        session.add(
            PhaseDateChange(
                phase_date_id=target.id,  # type: ignore[arg-type]
                old_at=old_at,
                new_at=moved_to,
                actor=actor.name,
                reason=cleaned_reason,
            )
        )
        moved = _move_open_items(session, rollout=rollout, phase=phase, new_at=moved_to)
        void_votes(
            session,
            rollout_id=rollout_id,
            phase=phase,
            reason=f"the {phase.value} date moved from {old_at:%Y-%m-%d} to {moved_to:%Y-%m-%d}",
            actor=actor,
            now=now,
        )
        # The rollout's version moves too, so a stale editor of the region is told to reload.
        compare_and_set(session, rollout, "region rollout", updated_at=now)
        _announce_reschedule(
            session,
            rollout=rollout,
            target=target,
            old_at=old_at,
            new_at=moved_to,
            moved=moved,
            actor=actor,
            reason=cleaned_reason,
        )
    return target


def date_to_move(dates: dict[Phase, PhaseDate], *, phase: Phase, rollout: RegionRollout, where: str) -> PhaseDate:
    """The phase's date, or a refusal that names the region and the phases it does have (also
    asked by the dry run, ``planning.conflicts.preview_reschedule``)."""
    target = dates.get(phase)
    if target is not None:
        return target
    planned = ", ".join(p.value for p in Phase.ordered() if p in dates)
    if phase.value in rollout.skipped_phases:
        raise InvalidInput("phase", f"{where} skips {phase.value}, so it has no date to move (its phases: {planned})")
    raise NotFound(
        "phase date",
        f"{where} {phase.value}",
        hint=f"{where} has no {phase.value} date (its phases: {planned}); reschedule one of those",
    )


def _move_open_items(session: Session, *, rollout: RegionRollout, phase: Phase, new_at: datetime) -> int:
    """Move the due dates of the phase's open dated items with the phase (09:00 local on their
    offset day); returns how many moved."""
    region = session.get(Region, rollout.region_id)
    assert region is not None
    moved = 0
    for item in session.exec(
        select(ChecklistItem).where(
            ChecklistItem.rollout_id == rollout.id,
            ChecklistItem.phase == phase,
            col(ChecklistItem.due_offset_days).is_not(None),
            col(ChecklistItem.status).not_in(SATISFYING_STATUSES),
        )
    ):
        item.due_at = due_at(phase_at=new_at, offset_days=item.due_offset_days or 0, timezone=region.timezone)
        item.version += 1
        moved += 1
    return moved


def _announce_reschedule(
    session: Session,
    *,
    rollout: RegionRollout,
    target: PhaseDate,
    old_at: datetime,
    new_at: datetime,
    moved: int,
    actor: Actor,
    reason: str,
) -> None:
    """The reschedule's audit event and outbox row (keyed by the new date and the region's version)."""
    slip_days = (new_at - as_utc(target.baseline_at)).total_seconds() / 86400
    phase = target.phase
    record(
        session,
        actor=actor,
        entity="phase_date",
        entity_id=target.id,
        action="phase.rescheduled",
        launch_id=rollout.launch_id,
        before={"phase": phase.value, "at": old_at.isoformat()},
        after={"phase": phase.value, "at": new_at.isoformat(), "items_moved": moved},
        reason=reason,
    )
    enqueue(
        session,
        key=f"phase_date:{target.id}:rescheduled:{new_at.isoformat()}:v{rollout.version}",
        topic=Topic.PHASE_RESCHEDULED,
        launch_id=rollout.launch_id,
        payload={
            "rollout_id": rollout.id,
            "phase": phase.value,
            "old_at": old_at.isoformat(),
            "new_at": new_at.isoformat(),
            "slip_days": round(slip_days, 2),
            "reason": reason,
            "actor": actor.name,
        },
    )


def check_phase_order(dates: dict[Phase, PhaseDate], phase: Phase, new_at: datetime) -> None:
    """A phase keeps its place between the region's other phases (also asked by the dry run)."""
    ordered = [p for p in Phase.ordered() if p in dates]
    index = ordered.index(phase)
    neighbours = []
    if index > 0:
        neighbours.append(("before", ordered[index - 1]))
    if index + 1 < len(ordered):
        neighbours.append(("after", ordered[index + 1]))
    for relation, other in neighbours:
        other_at = as_utc(dates[other].current_at)
        if (relation == "before" and new_at < other_at) or (relation == "after" and new_at > other_at):
            raise InvalidInput(
                "new_at",
                f"{phase.value} cannot be {relation} {other.value} ({other_at:%Y-%m-%d}); move that first",
            )
