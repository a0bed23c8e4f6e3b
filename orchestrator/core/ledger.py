"""Audit events: written by services inside the transaction of the change they record.

``record_and_enqueue`` writes an audit event and its outbox row together in one round trip on
PostgreSQL, for the request paths people use all day."""

from datetime import datetime
from enum import Enum
from typing import Any

from sqlalchemy import bindparam, insert
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from orchestrator.core.actors import Actor
from orchestrator.core.clock import utcnow
from orchestrator.core.db import is_sqlite
from orchestrator.core.enums import OutboxStatus
from orchestrator.core.models import AuditEvent, Outbox
from orchestrator.core.topics import Topic


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


def _bound(model: Any, prefix: str, names: tuple[str, ...]) -> dict[str, Any]:
    columns = model.__table__.c
    return {name: bindparam(prefix + name, type_=columns[name].type) for name in names}


# Built once: a statement object is compiled and cache-keyed once, not per request.
AUDIT_COLUMNS = ("launch_id", "entity", "entity_id", "action", "actor", "source", "before", "after", "reason", "at")


_AUDIT_ROW = insert(AuditEvent).values(_bound(AuditEvent, "audit_", AUDIT_COLUMNS))


OUTBOX_COLUMNS = (
    "key",
    "topic",
    "launch_id",
    "payload",
    "status",
    "attempts",
    "claims",
    "next_attempt_at",
    "created_at",
)


_OUTBOX_ROW_SQLITE = (
    sqlite.insert(Outbox)
    .values(_bound(Outbox, "outbox_", OUTBOX_COLUMNS))
    .on_conflict_do_nothing(index_elements=["key"])
)


_AUDIT_AND_OUTBOX_POSTGRES = (
    postgresql.insert(Outbox)
    .values(_bound(Outbox, "outbox_", OUTBOX_COLUMNS))
    .on_conflict_do_nothing(index_elements=["key"])
    .add_cte(_AUDIT_ROW.cte("audit"))
)


def record_and_enqueue(
    session: Session,
    *,
    actor: Actor,
    entity: str,
    entity_id: int | None,
    action: str,
    launch_id: int | None,
    key: str,
    topic: Topic,
    payload: dict[str, Any],
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    reason: str | None = None,
) -> None:
    """`record` and `enqueue` for the request paths people use all day (a check-off): the same
    rows, written without ORM objects, in one round trip on PostgreSQL (the audit insert rides in
    a data-modifying CTE of the Outbox insert, which PostgreSQL always runs to completion), and
    an already-queued key skipped by ON CONFLICT DO NOTHING instead of a lookup first, which
    also makes a concurrent duplicate wait and skip rather than fail on the unique key."""
    now = utcnow()
    audit = audit_parameters(
        now=now,
        actor=actor,
        entity=entity,
        entity_id=entity_id,
        action=action,
        launch_id=launch_id,
        before=before,
        after=after,
        reason=reason,
    )
    outbox = outbox_parameters(now=now, key=key, topic=topic, launch_id=launch_id, payload=payload)
    session.flush()  # ORM changes the caller made go first, as with `record` and `enqueue`
    connection = session.connection()
    if is_sqlite(connection):  # in-process: a second statement costs no round trip
        connection.execute(_AUDIT_ROW, audit)
        connection.execute(_OUTBOX_ROW_SQLITE, outbox)
        return
    connection.execute(_AUDIT_AND_OUTBOX_POSTGRES, audit | outbox)


def audit_parameters(
    *,
    now: datetime,
    actor: Actor,
    entity: str,
    entity_id: int | None,
    action: str,
    launch_id: int | None,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    reason: str | None,
) -> dict[str, Any]:
    """The bind parameters of an audit row in the statements built here (prefix ``audit_``)."""
    return {
        "audit_launch_id": launch_id,
        "audit_entity": entity,
        "audit_entity_id": entity_id,
        "audit_action": action,
        "audit_actor": actor.name,
        "audit_source": actor.source,
        "audit_before": before,
        "audit_after": after,
        "audit_reason": reason,
        "audit_at": now,
    }


def outbox_parameters(
    *, now: datetime, key: str, topic: Topic, launch_id: int | None, payload: dict[str, Any]
) -> dict[str, Any]:
    """The bind parameters of a pending outbox row (prefix ``outbox_``), due ``now``."""
    return {
        "outbox_key": key,
        "outbox_topic": topic,
        "outbox_launch_id": launch_id,
        "outbox_payload": payload,
        "outbox_status": OutboxStatus.PENDING,
        "outbox_attempts": 0,
        "outbox_claims": 0,
        "outbox_next_attempt_at": now,
        "outbox_created_at": now,
    }
