"""The audit ledger, read: a launch's events, newest first, with filters."""

from dataclasses import dataclass

from sqlalchemy import ColumnElement, func
from sqlmodel import Session, col, select

from orchestrator.core.models import AuditEvent


@dataclass(frozen=True)
class AuditFilters:
    action: str | None = None
    entity: str | None = None
    actor: str | None = None


def list_audit(
    *, session: Session, launch_id: int, filters: AuditFilters, limit: int, offset: int
) -> tuple[list[AuditEvent], int]:
    """One page of a launch's ledger, newest first (id breaks ties within the same instant)."""
    conditions: list[ColumnElement[bool]] = [col(AuditEvent.launch_id) == launch_id]
    if filters.action is not None:
        conditions.append(col(AuditEvent.action) == filters.action)
    if filters.entity is not None:
        conditions.append(col(AuditEvent.entity) == filters.entity)
    if filters.actor is not None:
        conditions.append(col(AuditEvent.actor) == filters.actor)
    total = int(session.exec(select(func.count()).select_from(AuditEvent).where(*conditions)).one())
    events = session.exec(
        select(AuditEvent)
        .where(*conditions)
        .order_by(col(AuditEvent.at).desc(), col(AuditEvent.id).desc())
        .limit(limit)
        .offset(offset)
    ).all()
    return list(events), total
