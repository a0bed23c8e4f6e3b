"""The outbox as operators see it: what is queued, what was sent, what is parked as dead (with
the last error), and a way to send dead intents again once the cause is fixed."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from api.deps import PrincipalDep, SessionDep, allow
from api.problems import ERROR_RESPONSES
from api.schemas.outbox import OutboxOut, RetryIn, RetryOut
from orchestrator.core.clock import utcnow
from orchestrator.core.enums import OutboxStatus
from orchestrator.core.outbox import list_outbox, retry_dead
from orchestrator.core.policy import LAUNCH_OPERATORS

router = APIRouter(responses=ERROR_RESPONSES, tags=["outbox"])


@router.get("/outbox", response_model=list[OutboxOut], dependencies=[Depends(allow(LAUNCH_OPERATORS))])
def outbox(
    session: SessionDep,
    status: Annotated[OutboxStatus | None, Query(description="e.g. dead")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> list[OutboxOut]:
    """Newest first: side effects queued by changes, with attempts and the last error."""
    rows = list_outbox(session, status=status, limit=limit)
    return [OutboxOut.model_validate(row, from_attributes=True) for row in rows]


@router.post("/outbox/retry", response_model=RetryOut, dependencies=[Depends(allow(LAUNCH_OPERATORS))])
def retry(body: RetryIn, session: SessionDep, principal: PrincipalDep) -> RetryOut:
    """Put dead intents back in the queue; workers deliver them on their next pass."""
    return RetryOut(queued=retry_dead(session, outbox_ids=body.ids, now=utcnow(), actor=principal.actor))
