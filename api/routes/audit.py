"""A launch's audit trail: every change with who, through which door, before -> after and why.

Read-only and paginated newest first, since the question is usually "what happened lately";
filters narrow by action (``item.checked``), entity (``item``) or actor.
"""

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from api.deps import SessionDep, allow
from api.problems import ERROR_RESPONSES
from api.schemas.common import MAX_DB_INT, NO_NUL, Page
from api.schemas.reporting import AuditOut
from orchestrator.core.policy import READERS
from orchestrator.launches.queries import launch_id_for
from orchestrator.reporting.audit import AuditFilters, list_audit

router = APIRouter(responses=ERROR_RESPONSES, tags=["audit"])


@router.get("/launches/{slug}/audit", response_model=Page[AuditOut], dependencies=[Depends(allow(READERS))])
def launch_audit(
    slug: str,
    session: SessionDep,
    action: Annotated[str | None, Query(min_length=1, max_length=60, pattern=NO_NUL, examples=["item.checked"])] = None,
    entity: Annotated[str | None, Query(min_length=1, max_length=40, pattern=NO_NUL, examples=["item"])] = None,
    actor: Annotated[str | None, Query(min_length=1, max_length=254, pattern=NO_NUL)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_DB_INT)] = 0,
) -> Page[AuditOut]:
    """The launch's ledger entries, newest first."""
    events, total = list_audit(
        session=session,
        launch_id=launch_id_for(session=session, slug=slug),
        filters=AuditFilters(action=action, entity=entity, actor=actor),
        limit=limit,
        offset=offset,
    )
    data = [AuditOut.model_validate(event, from_attributes=True) for event in events]
    return Page(data=data, count=total, limit=limit, offset=offset)
