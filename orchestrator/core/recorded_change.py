"""A row's compare-and-set, its audit event and its outbox row, written together: one statement
(one round trip) on PostgreSQL, for the change people make all day (a check-off).

Why: a check-off's writes were three round trips on PostgreSQL (the UPDATE, then audit and outbox
in one statement, then the count of the phase's open blocking items), each a few percent of its
server CPU on loopback (BENCHMARKS.md, "Check-off throughput"). Here the UPDATE is a
data-modifying CTE, the audit and outbox inserts read its RETURNING (so they are written only if
the compare-and-set won), and the main SELECT returns whether it won and, optionally, one more
scalar the caller needs after the change (the open-item count). PostgreSQL runs every
data-modifying CTE to completion whether or not the main query reads it, and fires the outbox's
statement triggers (migration 0021's NOTIFY) as for a plain insert.

SQLite keeps the statements of ``compare_and_set`` and ``record_and_enqueue`` (in-process: a
statement there costs no round trip), then evaluates the scalar on its own, so both databases write
the same rows and answer the same value.
"""

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import ScalarSelect, Select, Table, bindparam, func, insert, null, select, update
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session

from orchestrator.core.actors import Actor
from orchestrator.core.clock import utcnow
from orchestrator.core.db import is_sqlite
from orchestrator.core.errors import StaleVersion
from orchestrator.core.ledger import AUDIT_COLUMNS, OUTBOX_COLUMNS, audit_parameters, outbox_parameters
from orchestrator.core.ledger import record_and_enqueue as record_then_enqueue
from orchestrator.core.models import AuditEvent, Outbox
from orchestrator.core.topics import Topic
from orchestrator.core.unit import CAS_PREFIX, compare_and_set


@dataclass(frozen=True)
class Record:
    """The audit event and outbox row of a change (as ``ledger.record_and_enqueue`` takes them)."""

    actor: Actor
    entity: str
    action: str
    before: dict[str, Any]
    after: dict[str, Any]
    reason: str | None
    key: str
    topic: Topic
    payload: dict[str, Any]

    def audit_fields(self, row: Any) -> dict[str, Any]:
        """The audit event's fields for ``row`` (as the ledger's writers take them)."""
        return {
            "actor": self.actor,
            "entity": self.entity,
            "entity_id": row.id,
            "action": self.action,
            "launch_id": row.launch_id,
            "before": self.before,
            "after": self.after,
            "reason": self.reason,
        }

    def outbox_fields(self, row: Any) -> dict[str, Any]:
        """The outbox row's fields for ``row`` (as the ledger's writers take them)."""
        return {"key": self.key, "topic": self.topic, "launch_id": row.launch_id, "payload": self.payload}


@dataclass(frozen=True)
class After:
    """A scalar read in the same statement as the change. It must not depend on the changed row
    (exclude it in its WHERE): on PostgreSQL every part of one statement reads the snapshot taken
    before the change, on SQLite it runs after it. Its bind parameters are ``parameters``."""

    scalar: Select[Any]
    parameters: dict[str, Any]


def change_and_record(
    session: Session, row: Any, entity: str, *, values: dict[str, Any], record: Record, after: After | None = None
) -> Any:
    """Compare-and-set ``values`` on ``row`` (bumping its version; ``StaleVersion`` if someone
    else did first), write ``record``'s audit event and outbox row (an already-queued key is
    skipped), and return ``after``'s value (None without one); ``row`` shows the new values."""
    values = values | {"version": row.version + 1}
    model = type(row)
    session.flush()  # ORM changes the caller made go first, as with `compare_and_set`
    connection = session.connection()
    if is_sqlite(connection):
        compare_and_set(session, row, entity, **values)
        _record(session, row, record)
        return None if after is None else connection.execute(after.scalar, after.parameters).scalar()
    names = tuple(sorted(values))
    statement = _one_statement(model.__table__, names, after.scalar if after is not None else None)
    parameters = {CAS_PREFIX + name: value for name, value in values.items()}
    parameters |= {"cas_id": row.id, "cas_version": row.version}
    now = utcnow()
    parameters |= audit_parameters(now=now, **record.audit_fields(row))
    parameters |= outbox_parameters(now=now, **record.outbox_fields(row))
    if after is not None:
        parameters |= after.parameters
    won, value = connection.execute(statement, parameters).one()
    if won != 1:
        actual = connection.execute(
            select(model.__table__.c.version).where(model.__table__.c.id == row.id)
        ).scalar_one()
        raise StaleVersion(entity, row.id, row.version, actual)
    for name, new in values.items():
        set_committed_value(row, name, new)
    return value


def _record(session: Session, row: Any, record: Record) -> None:
    record_then_enqueue(session, **(record.audit_fields(row) | record.outbox_fields(row)))


def _bound(table: Table, prefix: str, names: tuple[str, ...]) -> list[Any]:
    return [bindparam(prefix + name, type_=table.c[name].type) for name in names]


@lru_cache(maxsize=64)
def _one_statement(table: Table, names: tuple[str, ...], after: Select[Any] | None) -> Select[Any]:
    """Built once per table, set of columns and trailing scalar (compiled and cache-keyed once)."""
    columns = table.c
    changed = (
        update(table)
        .where(columns.id == bindparam("cas_id"), columns.version == bindparam("cas_version"))
        .values({name: bindparam(CAS_PREFIX + name, type_=columns[name].type) for name in names})
        .returning(columns.id)
        .cte("changed")
    )
    audit_table: Table = AuditEvent.__table__  # type: ignore[attr-defined]
    outbox_table: Table = Outbox.__table__  # type: ignore[attr-defined]
    audit = insert(audit_table).from_select(
        AUDIT_COLUMNS, select(*_bound(audit_table, "audit_", AUDIT_COLUMNS)).select_from(changed)
    )
    outbox = (
        postgresql.insert(outbox_table)
        .from_select(OUTBOX_COLUMNS, select(*_bound(outbox_table, "outbox_", OUTBOX_COLUMNS)).select_from(changed))
        .on_conflict_do_nothing(index_elements=["key"])
    )
    won: ScalarSelect[Any] = select(func.count()).select_from(changed).scalar_subquery()
    trailing = after.scalar_subquery() if after is not None else null()
    return select(won, trailing).add_cte(audit.cte("audit"), outbox.cte("outbox"))
