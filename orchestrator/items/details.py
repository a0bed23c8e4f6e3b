"""Changes to an item that leave its status alone: who it is assigned to, its evidence link, and
comments. None of them can complete a gate, so none evaluates one.

Assignment and evidence start with the item's one locked read (which applies the access policy)
and compare-and-set one field; a comment changes nothing about the item, so it only writes to the
ledger (and tells the owning team), leaving the item's version alone.
"""

from typing import Any

from sqlmodel import Session

from orchestrator.core.actors import Actor
from orchestrator.core.clock import utcnow
from orchestrator.core.errors import NotFound
from orchestrator.core.ledger import record, record_and_enqueue, snapshot
from orchestrator.core.models import AuditEvent, Member
from orchestrator.core.outbox import enqueue
from orchestrator.core.text import http_link, required
from orchestrator.core.topics import Topic
from orchestrator.core.unit import compare_and_set, expect_version, transaction
from orchestrator.items.locking import ENTITY, ItemChange, lock_item

EVIDENCE_URL_MAX = 2000  # ChecklistItem.evidence_url's column length
COMMENT_MAX = 1000  # AuditEvent.reason's column length: a comment is stored there


def assign_item(
    *,
    session: Session,
    item_id: int,
    assignee_id: int | None,
    actor: Actor,
    expected_version: int | None = None,
) -> ItemChange:
    """Give the item to a member (by id), or take it back with None."""

    def known_member() -> None:
        if assignee_id is not None and session.get(Member, assignee_id) is None:
            raise NotFound("member", assignee_id)

    return _set_detail(
        session=session,
        item_id=item_id,
        actor=actor,
        expected_version=expected_version,
        field="assignee_id",
        value=assignee_id,
        topic=Topic.ITEM_ASSIGNED,
        check=known_member,
    )


def attach_evidence(
    *, session: Session, item_id: int, url: str, actor: Actor, expected_version: int | None = None
) -> ItemChange:
    """Attach (or replace) an item's evidence link without touching its status.

    Evidence often exists before the owner is ready to check the item off (a signed DPA, a
    review doc), and a done item's link may need correcting; neither should reopen or complete
    anything, so no gate is evaluated. Attaching the link it already has is a no-op (a retry).
    """
    cleaned = http_link(url, field="evidence_url", max_length=EVIDENCE_URL_MAX)
    return _set_detail(
        session=session,
        item_id=item_id,
        actor=actor,
        expected_version=expected_version,
        field="evidence_url",
        value=cleaned,
        topic=Topic.ITEM_EVIDENCE_ATTACHED,
    )


def _set_detail(
    *,
    session: Session,
    item_id: int,
    actor: Actor,
    expected_version: int | None,
    field: str,
    value: Any,
    topic: Topic,
    check: Any = None,
) -> ItemChange:
    with transaction(session):
        item, _rollout, owner = lock_item(session, item_id=item_id, actor=actor)
        expect_version(item, expected_version, ENTITY)
        if getattr(item, field) == value:
            return ItemChange(item, owner, changed=False)
        if check is not None:
            check()
        before = snapshot(item, field)
        compare_and_set(session, item, ENTITY, updated_at=utcnow(), **{field: value})
        record_and_enqueue(
            session,
            actor=actor,
            entity="item",
            entity_id=item.id,
            action=topic,
            launch_id=item.launch_id,
            before=before,
            after=snapshot(item, field),
            key=f"item:{item.id}:v{item.version}:{topic}",
            topic=topic,
            payload={"item_id": item.id, field: value, "actor": actor.name},
        )
    return ItemChange(item, owner, changed=True)


def comment_on_item(*, session: Session, item_id: int, text: str, actor: Actor) -> AuditEvent:
    """Leave a note on an item (a question, a status update, a waiver request).

    A comment changes nothing about the item, so it is only a ledger entry (the audit trail is
    where an item's history is read anyway) plus an Outbox row so the owning team hears of it;
    the item's version stays, and nobody's pending check-off turns stale because of a note.
    Whoever may change the item may comment on it.
    """
    cleaned = required(text, field="text", hint="write the comment", max_length=COMMENT_MAX)
    with transaction(session):
        item = lock_item(session, item_id=item_id, actor=actor).item
        event = record(
            session,
            actor=actor,
            entity="item",
            entity_id=item_id,
            action=Topic.ITEM_COMMENTED,
            launch_id=item.launch_id,
            reason=cleaned,
        )
        session.flush()  # the event's id makes the Outbox key: every comment is its own notice
        enqueue(
            session,
            key=f"item:{item_id}:comment:{event.id}",
            topic=Topic.ITEM_COMMENTED,
            launch_id=item.launch_id,
            payload={"item_id": item_id, "comment_id": event.id, "text": cleaned, "actor": actor.name},
        )
    return event
