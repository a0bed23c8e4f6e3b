"""Checklist item transitions (check, reopen, start, block, n/a, waive), assignment, and the gate
consequences of each: the check-off that completes a gate passes it in the same transaction.
"""

from collections.abc import Callable
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import bindparam
from sqlalchemy import select as select_rows
from sqlmodel import Session, col, select

from orchestrator.core.actors import Actor
from orchestrator.core.clock import utcnow
from orchestrator.core.enums import SATISFYING_STATUSES, GateKind, GateStatus, ItemStatus, Phase, RolloutState
from orchestrator.core.errors import InvalidInput, NotFound, PreconditionFailed
from orchestrator.core.ledger import record, record_and_enqueue, snapshot
from orchestrator.core.models import AuditEvent, ChecklistItem, Gate, Member, Region, RegionRollout, Team, Waiver
from orchestrator.core.outbox import enqueue
from orchestrator.core.topics import Topic
from orchestrator.core.unit import compare_and_set, expect_version, transaction
from orchestrator.gates.service import evaluate_gates, open_blocking_items
from orchestrator.items.queries import ItemOwner
from orchestrator.items.rules import check_item_transition

ENTITY = "checklist item"
_EVIDENCE_URL_MAX = 2000  # ChecklistItem.evidence_url's column length
_COMMENT_MAX = 1000  # AuditEvent.reason's column length: a comment is stored there
_TRACKED = ("status", "evidence_url", "blocked_reason", "checked_by", "assignee_id")

Authorize = Callable[[ItemOwner], None]
"""Told the item's owning team and names under the lock, before anything is checked or changed;
raises (e.g. Forbidden) to refuse the change. The API's member-team rule, and how it learns the
names its answer shows, without a read of its own before the service's."""


class _LockedRollout(NamedTuple):
    """What a change needs of the locked item's rollout to know whether a gate may have completed.
    Two columns, not the row: the whole rollout is read (under the lock already held) only by the
    rare change that may have completed a gate."""

    id: int
    state: RolloutState
    phase: Phase | None


def _lock_item(
    session: Session, item_id: int, authorize: Authorize | None = None
) -> tuple[ChecklistItem, _LockedRollout]:
    """Lock the item's rollout first: every change in one region is serialised, so two check-offs
    can never each see the other's item open and leave a finished gate unpassed.

    One statement: PostgreSQL takes the row locks of ``FOR NO KEY UPDATE OF regionrollout,
    checklistitem`` in that order (the rollout before the item, as every other service does).
    The owning team's key and the region's code ride along unlocked (they never change with the
    item), for ``authorize``."""
    row = session.execute(_LOCK_ITEM_WITH_ROLLOUT, {"item_id": item_id}).first()
    if row is None:
        raise NotFound(ENTITY, item_id)
    item, state, phase, team, region = row
    if authorize is not None:
        authorize(ItemOwner(key=item.key, owner_team_id=item.owner_team_id, owner_team=team, region=region))
    return item, _LockedRollout(id=item.rollout_id, state=state, phase=phase)


_LOCK_ITEM_WITH_ROLLOUT = (
    select_rows(ChecklistItem, col(RegionRollout.state), col(RegionRollout.phase), col(Team.key), col(Region.code))
    .join(RegionRollout, col(RegionRollout.id) == col(ChecklistItem.rollout_id))
    .join(Region, col(Region.id) == col(RegionRollout.region_id))
    .join(Team, col(Team.id) == col(ChecklistItem.owner_team_id))
    .where(col(ChecklistItem.id) == bindparam("item_id"))
    .with_for_update(of=[RegionRollout, ChecklistItem], key_share=True)
    .execution_options(populate_existing=True)
)


def _transition(
    *,
    session: Session,
    item_id: int,
    target: ItemStatus,
    actor: Actor,
    action: Topic,
    values: dict[str, Any],
    reason: str | None,
    expected_version: int | None,
    before_write: Any = None,
    authorize: Authorize | None = None,
) -> ChecklistItem:
    now = utcnow()
    with transaction(session):
        item, rollout = _lock_item(session, item_id, authorize)
        expect_version(item, expected_version, ENTITY)
        if item.status == target:
            return item  # double click, Slack retry: nothing changes twice
        check_item_transition(item.status, target)
        if before_write is not None:
            before_write(session, item)
        before = snapshot(item, *_TRACKED)
        compare_and_set(session, item, ENTITY, status=target, updated_at=now, **values)
        record_and_enqueue(
            session,
            actor=actor,
            entity="item",
            entity_id=item.id,
            action=action,
            launch_id=item.launch_id,
            before=before,
            after=snapshot(item, *_TRACKED),
            reason=reason,
            key=f"item:{item.id}:v{item.version}:{action}",
            topic=action,
            payload={"item_id": item.id, "status": target.value, "actor": actor.name, "reason": reason},
        )
        if target in SATISFYING_STATUSES:
            if _may_complete_checklist_gate(session, item=item, rollout=rollout):
                # Fresh, under the lock taken above: a long-lived session may hold an older copy.
                whole = session.get(RegionRollout, rollout.id, populate_existing=True)
                assert whole is not None  # locked above, and a rollout is never deleted
                evaluate_gates(session, rollout=whole, now=now, actor=actor)
        elif item.blocking:
            _alert_if_gate_already_passed(session, item=item, actor=actor)
    return item


def _may_complete_checklist_gate(session: Session, *, item: ChecklistItem, rollout: _LockedRollout) -> bool:
    """Whether closing ``item`` can have completed a gate, so the gates need evaluating.

    Only the checklist gate of the phase the region is gated at depends on items, and only on its
    blocking ones; it completes when the last of them closes. Closing an advisory item, an item of
    another phase, or one that leaves others open completes nothing: the other gate kinds are
    completed by their own events (a vote, the clock through the sweep, beta feedback), which
    evaluate the gates themselves. Runs under the rollout lock, so of two racing check-offs of
    the last two items the second sees the first's and passes the gate."""
    if not item.blocking or rollout.state != RolloutState.GATED or item.phase != rollout.phase:
        return False
    return open_blocking_items(session, rollout_id=rollout.id, phase=item.phase) == 0


def check_item(
    *,
    session: Session,
    item_id: int,
    actor: Actor,
    evidence_url: str | None = None,
    expected_version: int | None = None,
    authorize: Authorize | None = None,
) -> ChecklistItem:
    """Mark an item done. Items that need evidence refuse a check without a link, and an item
    waits for the items it depends on."""

    def guard(session: Session, item: ChecklistItem) -> None:
        if item.evidence_required and not (evidence_url or item.evidence_url):
            raise PreconditionFailed(f"'{item.key}' needs an evidence link (evidence_url) to be checked")
        waiting = _unmet_dependencies(session, item)
        if waiting:
            raise PreconditionFailed(f"'{item.key}' depends on items not done yet: {', '.join(waiting)}")

    values: dict[str, Any] = {"checked_by": actor.name, "checked_at": utcnow(), "blocked_reason": None}
    if evidence_url:
        values["evidence_url"] = _valid_url(evidence_url)
    return _transition(
        session=session,
        item_id=item_id,
        target=ItemStatus.DONE,
        actor=actor,
        action=Topic.ITEM_CHECKED,
        values=values,
        reason=None,
        expected_version=expected_version,
        before_write=guard,
        authorize=authorize,
    )


def reopen_item(
    *,
    session: Session,
    item_id: int,
    actor: Actor,
    reason: str | None = None,
    expected_version: int | None = None,
    authorize: Authorize | None = None,
) -> ChecklistItem:
    """Uncheck a done item (or undo a waiver / n/a). A gate that already passed stays passed; the
    reopening is raised as an alert instead."""

    def revoke_waivers(session: Session, item: ChecklistItem) -> None:
        for waiver in session.exec(select(Waiver).where(Waiver.item_id == item.id, col(Waiver.revoked_at).is_(None))):
            waiver.revoked_at = utcnow()
            waiver.revoked_by = actor.name

    return _transition(
        session=session,
        item_id=item_id,
        target=ItemStatus.TODO,
        actor=actor,
        action=Topic.ITEM_REOPENED,
        values={"checked_by": None, "checked_at": None, "blocked_reason": None},
        reason=reason,
        expected_version=expected_version,
        before_write=revoke_waivers,
        authorize=authorize,
    )


def start_item(
    *,
    session: Session,
    item_id: int,
    actor: Actor,
    expected_version: int | None = None,
    authorize: Authorize | None = None,
) -> ChecklistItem:
    return _transition(
        session=session,
        item_id=item_id,
        target=ItemStatus.IN_PROGRESS,
        actor=actor,
        action=Topic.ITEM_STARTED,
        values={"blocked_reason": None},
        reason=None,
        expected_version=expected_version,
        authorize=authorize,
    )


def block_item(
    *,
    session: Session,
    item_id: int,
    actor: Actor,
    reason: str,
    expected_version: int | None = None,
    authorize: Authorize | None = None,
) -> ChecklistItem:
    reason = _required(reason, "reason", "say what blocks it, so its owner and prodops can act")
    return _transition(
        session=session,
        item_id=item_id,
        target=ItemStatus.BLOCKED,
        actor=actor,
        action=Topic.ITEM_BLOCKED,
        values={"blocked_reason": reason},
        reason=reason,
        expected_version=expected_version,
        authorize=authorize,
    )


def mark_not_applicable(
    *,
    session: Session,
    item_id: int,
    actor: Actor,
    reason: str,
    expected_version: int | None = None,
    authorize: Authorize | None = None,
) -> ChecklistItem:
    reason = _required(reason, "reason", "say why this item does not apply to the launch")
    return _transition(
        session=session,
        item_id=item_id,
        target=ItemStatus.NOT_APPLICABLE,
        actor=actor,
        action=Topic.ITEM_NOT_APPLICABLE,
        values={"checked_by": actor.name, "checked_at": utcnow()},
        reason=reason,
        expected_version=expected_version,
        authorize=authorize,
    )


def waive_item(
    *,
    session: Session,
    item_id: int,
    actor: Actor,
    reason: str,
    expires_at: datetime | None = None,
    expected_version: int | None = None,
    authorize: Authorize | None = None,
) -> ChecklistItem:
    """Accept the risk of not doing an item; the waiver names who accepted it and why."""
    reason = _required(reason, "reason", "a waiver needs the risk accepted and why")
    if expires_at is not None and expires_at.tzinfo is None:
        raise InvalidInput("expires_at", "needs a timezone offset")

    def add_waiver(session: Session, item: ChecklistItem) -> None:
        session.add(Waiver(item_id=item.id, approver=actor.name, reason=reason, expires_at=expires_at))  # type: ignore[arg-type]

    return _transition(
        session=session,
        item_id=item_id,
        target=ItemStatus.WAIVED,
        actor=actor,
        action=Topic.ITEM_WAIVED,
        values={"checked_by": actor.name, "checked_at": utcnow()},
        reason=reason,
        expected_version=expected_version,
        before_write=add_waiver,
        authorize=authorize,
    )


def assign_item(
    *,
    session: Session,
    item_id: int,
    assignee_id: int | None,
    actor: Actor,
    expected_version: int | None = None,
    authorize: Authorize | None = None,
) -> ChecklistItem:
    with transaction(session):
        item, _rollout = _lock_item(session, item_id, authorize)
        expect_version(item, expected_version, ENTITY)
        if item.assignee_id == assignee_id:
            return item
        if assignee_id is not None and session.get(Member, assignee_id) is None:
            raise NotFound("member", assignee_id)
        before = snapshot(item, "assignee_id")
        compare_and_set(session, item, ENTITY, assignee_id=assignee_id, updated_at=utcnow())
        record(
            session,
            actor=actor,
            entity="item",
            entity_id=item.id,
            action=Topic.ITEM_ASSIGNED,
            launch_id=item.launch_id,
            before=before,
            after=snapshot(item, "assignee_id"),
        )
        enqueue(
            session,
            key=f"item:{item.id}:v{item.version}:item.assigned",
            topic=Topic.ITEM_ASSIGNED,
            launch_id=item.launch_id,
            payload={"item_id": item.id, "assignee_id": assignee_id},
        )
    return item


def attach_evidence(
    *,
    session: Session,
    item_id: int,
    url: str,
    actor: Actor,
    expected_version: int | None = None,
    authorize: Authorize | None = None,
) -> ChecklistItem:
    """Attach (or replace) an item's evidence link without touching its status.

    Evidence often exists before the owner is ready to check the item off (a signed DPA, a
    review doc), and a done item's link may need correcting; neither should reopen or complete
    anything, so no gate is evaluated. Attaching the link it already has is a no-op (a retry).
    """
    cleaned = _valid_url(url)
    if len(cleaned) > _EVIDENCE_URL_MAX:
        raise InvalidInput("evidence_url", f"must be at most {_EVIDENCE_URL_MAX} characters")
    with transaction(session):
        item, _rollout = _lock_item(session, item_id, authorize)
        expect_version(item, expected_version, ENTITY)
        if item.evidence_url == cleaned:
            return item
        before = snapshot(item, "evidence_url")
        compare_and_set(session, item, ENTITY, evidence_url=cleaned, updated_at=utcnow())
        record(
            session,
            actor=actor,
            entity="item",
            entity_id=item.id,
            action=Topic.ITEM_EVIDENCE_ATTACHED,
            launch_id=item.launch_id,
            before=before,
            after=snapshot(item, "evidence_url"),
        )
        enqueue(
            session,
            key=f"item:{item.id}:v{item.version}:item.evidence_attached",
            topic=Topic.ITEM_EVIDENCE_ATTACHED,
            launch_id=item.launch_id,
            payload={"item_id": item.id, "evidence_url": cleaned, "actor": actor.name},
        )
    return item


def comment_on_item(*, session: Session, item_id: int, text: str, actor: Actor) -> AuditEvent:
    """Leave a note on an item (a question, a status update, a waiver request).

    A comment changes nothing about the item, so it is only a ledger entry (the audit trail is
    where an item's history is read anyway) plus an Outbox row so the owning team hears of it;
    the item's version stays, and nobody's pending check-off turns stale because of a note.
    """
    cleaned = _required(text, "text", "write the comment")
    if len(cleaned) > _COMMENT_MAX:
        raise InvalidInput("text", f"must be at most {_COMMENT_MAX} characters")
    with transaction(session):
        launch_id = session.exec(select(ChecklistItem.launch_id).where(ChecklistItem.id == item_id)).first()
        if launch_id is None:
            raise NotFound(ENTITY, item_id)
        event = record(
            session,
            actor=actor,
            entity="item",
            entity_id=item_id,
            action=Topic.ITEM_COMMENTED,
            launch_id=launch_id,
            reason=cleaned,
        )
        session.flush()  # the event's id makes the Outbox key: every comment is its own notice
        enqueue(
            session,
            key=f"item:{item_id}:comment:{event.id}",
            topic=Topic.ITEM_COMMENTED,
            launch_id=launch_id,
            payload={"item_id": item_id, "comment_id": event.id, "text": cleaned, "actor": actor.name},
        )
    return event


def _unmet_dependencies(session: Session, item: ChecklistItem) -> list[str]:
    if not item.depends_on:
        return []
    rows = session.exec(
        select(ChecklistItem.key, ChecklistItem.status).where(
            ChecklistItem.rollout_id == item.rollout_id,
            col(ChecklistItem.key).in_(item.depends_on),
        )
    ).all()
    return sorted(key for key, status in rows if status not in SATISFYING_STATUSES)


def _alert_if_gate_already_passed(session: Session, *, item: ChecklistItem, actor: Actor) -> None:
    passed = session.exec(
        select(Gate.id).where(
            Gate.rollout_id == item.rollout_id,
            Gate.phase == item.phase,
            Gate.kind == GateKind.CHECKLIST,
            Gate.status == GateStatus.PASSED,
        )
    ).first()
    if passed is None:
        return
    enqueue(
        session,
        key=f"item:{item.id}:v{item.version}:reopened_after_gate",
        topic=Topic.GATE_ITEM_REOPENED_AFTER_PASS,
        launch_id=item.launch_id,
        payload={"item_id": item.id, "gate_id": passed, "status": item.status.value, "actor": actor.name},
    )


def _required(value: str | None, field: str, hint: str) -> str:
    cleaned = (value or "").strip()
    if not cleaned:
        raise InvalidInput(field, hint)
    return cleaned


def _valid_url(url: str) -> str:
    cleaned = url.strip()
    if not cleaned.startswith(("https://", "http://")):
        raise InvalidInput("evidence_url", f"must be an http(s) link, got {url!r}")
    return cleaned
