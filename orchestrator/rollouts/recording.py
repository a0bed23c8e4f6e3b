"""The built-in rollout target's ledger: every exposure step a region received, once."""

from sqlmodel import Session, select

from orchestrator.core.models import ExposureChange
from orchestrator.core.unit import transaction
from orchestrator.rollouts.target import ExposureRequest


def record_exposure(*, session: Session, request: ExposureRequest) -> bool:
    """Store one exposure request; a repeat of the same idempotency key is ignored.

    Returns True when this call stored it.
    """
    with transaction(session):
        exists = session.exec(
            select(ExposureChange.id).where(ExposureChange.idempotency_key == request.idempotency_key)
        ).first()
        if exists is not None:
            return False
        session.add(
            ExposureChange(
                rollout_id=request.rollout_id,
                launch_slug=request.launch_slug,
                region=request.region,
                phase=request.phase,
                percent=request.percent,
                idempotency_key=request.idempotency_key,
            )
        )
    return True
