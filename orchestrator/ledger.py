"""Audit events and outbox rows: written by services inside the transaction of the change.

Outbox keys are unique and insertion is skip-if-present, so a service that a retry repeats can
never queue the same side effect twice.
"""

from enum import Enum
from typing import Any

from sqlmodel import Session, select

from orchestrator.actors import Actor
from orchestrator.models import AuditEvent, Outbox


def snapshot(row: Any, *fields: str) -> dict[str, Any]:
    """JSON-safe view of the named fields, for an audit event's before/after."""
    values: dict[str, Any] = {}
    for name in fields:
        value = getattr(row, name)
        if isinstance(value, Enum):
            value = value.value
        elif hasattr(value, "isoformat"):
            value = value.isoformat()
        values[name] = value
    return values


def record(
    session: Session,
    *,
    actor: Actor,
    entity: str,
    entity_id: int | None,
    action: str,
    launch_id: int | None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    reason: str | None = None,
) -> AuditEvent:
    event = AuditEvent(
        launch_id=launch_id,
        entity=entity,
        entity_id=entity_id,
        action=action,
        actor=actor.name,
        source=actor.source,
        before=before,
        after=after,
        reason=reason,
    )
    session.add(event)
    return event


def enqueue(session: Session, *, key: str, topic: str, launch_id: int | None, payload: dict[str, Any]) -> Outbox | None:
    """Queue a side effect once per key; returns None when the key was already queued."""
    session.flush()
    if session.exec(select(Outbox.id).where(Outbox.key == key)).first() is not None:
        return None
    row = Outbox(key=key, topic=topic, launch_id=launch_id, payload=payload)
    session.add(row)
    return row
