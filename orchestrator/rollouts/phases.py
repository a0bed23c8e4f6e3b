"""Which phases a region plans (those with a date), in order."""

from sqlmodel import Session, select

from orchestrator.core.enums import Phase
from orchestrator.core.errors import InvalidInput
from orchestrator.core.models import PhaseDate


def first_phase(session: Session, *, rollout_id: int) -> Phase:
    phases = planned_phases(session, rollout_id=rollout_id)
    if not phases:
        raise InvalidInput("regions", f"rollout {rollout_id} has no phase dates")
    return phases[0]


def planned_phases(session: Session, *, rollout_id: int) -> list[Phase]:
    present = set(session.exec(select(PhaseDate.phase).where(PhaseDate.rollout_id == rollout_id)))
    return [phase for phase in Phase.ordered() if phase in present]
