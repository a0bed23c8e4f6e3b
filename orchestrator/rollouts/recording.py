"""The built-in rollout target's ledger: every exposure step a region received, once."""

from typing import Any

from sqlmodel import Session, select

from orchestrator.core.models import ExposureChange
from orchestrator.core.unit import transaction
from orchestrator.rollouts.target import ExposureRequest


def record_exposure(
    *, session: Session, request: ExposureRequest, target: str = "recording", answer: dict[str, Any] | None = None
) -> bool:
    """Store one exposure request; a repeat of the same idempotency key is ignored.

    ``target`` names the rollout target that took it and ``answer`` is what that target said when
    read back (None for the recording target, which is its own answer). Returns True when this
    call stored it.
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
                target=target,
                answer=answer,
            )
        )
    return True
