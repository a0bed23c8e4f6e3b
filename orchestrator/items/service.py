"""Checklist item status changes (check, reopen, start, block, n/a, waive) and the gate
consequences of each: the check-off that completes a gate passes it in the same transaction.

Each is one transaction that starts with the item's one locked read (``locking.lock_item``, which
also applies the access policy), compare-and-sets the item, and writes its audit event and outbox
row together. Changes that leave the status alone (assignee, evidence, comments) are in
``details``.
"""

from datetime import date, datetime
from types import SimpleNamespace
from typing import Any

from sqlmodel import Session, col, select

from orchestrator.core.actors import Actor
from orchestrator.core.clock import region_moment, utcnow
from orchestrator.core.enums import SATISFYING_STATUSES, GateKind, GateStatus, ItemStatus, RolloutState
from orchestrator.core.errors import PreconditionFailed
from orchestrator.core.ledger import snapshot
from orchestrator.core.models import ChecklistItem, Gate, RegionRollout, Waiver
from orchestrator.core.outbox import enqueue
from orchestrator.core.policy import authorize_waiver
from orchestrator.core.recorded_change import After, Record, change_and_record
from orchestrator.core.text import http_link, required
from orchestrator.core.topics import Topic
from orchestrator.core.unit import expect_version, transaction
from orchestrator.directory.queries import rollout_timezone
from orchestrator.gates.service import OTHER_OPEN_BLOCKING_ITEMS, evaluate_gates
from orchestrator.gates.voiding import void_votes
from orchestrator.items.locking import ENTITY, ItemChange, LockedRollout, lock_item
from orchestrator.items.rules import check_item_transition

REASON_MAX = 1000  # AuditEvent.reason's and Waiver.reason's column length
_TRACKED = ("status", "evidence_url", "blocked_reason", "checked_by", "assignee_id")


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
) -> ItemChange:
    now = utcnow()
    with transaction(session):
        item, rollout, owner = lock_item(session, item_id=item_id, actor=actor)
        expect_version(item, expected_version, ENTITY)
        if item.status == target:
            return ItemChange(item, owner, changed=False)  # double click, Slack retry: nothing changes twice
        check_item_transition(item.status, target)
        if before_write is not None:
            before_write(session, item)
        before = snapshot(item, *_TRACKED)
        was = item.status
        changes = {"status": target, "updated_at": now, **values}
        gate_check = _checklist_gate_check(item=item, rollout=rollout) if target in SATISFYING_STATUSES else None
        record = Record(
            actor=actor,
            entity="item",
            action=action,
            before=before,
            after=before | snapshot(SimpleNamespace(**changes), *(name for name in _TRACKED if name in changes)),
            reason=reason,
            key=f"item:{item.id}:v{item.version + 1}:{action}",
            topic=action,
            payload={"item_id": item.id, "status": target.value, "actor": actor.name, "reason": reason},
        )
        others_open = change_and_record(session, item, ENTITY, values=changes, record=record, after=gate_check)
        _void_votes_if_approved_ground_moved(session, item=item, was=was, actor=actor, now=now)
        if gate_check is not None and others_open == 0:
            # Fresh, under the lock taken above: a long-lived session may hold an older copy.
            whole = session.get(RegionRollout, rollout.id, populate_existing=True)
            assert whole is not None  # locked above, and a rollout is never deleted
            evaluate_gates(session, rollout=whole, now=now, actor=actor)
        if target not in SATISFYING_STATUSES and item.blocking:
            _alert_if_gate_already_passed(session, item=item, actor=actor)
    return ItemChange(item, owner, changed=True)


def _void_votes_if_approved_ground_moved(
    session: Session, *, item: ChecklistItem, was: ItemStatus, actor: Actor, now: datetime
) -> None:
    """Approvers said Go to the phase as it stood: a blocking item of it reopened, or a waiver
    granted or revoked on one, voids their votes (``gates.voiding``)."""
    if not item.blocking:
        return
    if item.status == ItemStatus.WAIVED:
        reason = f"a waiver was granted on {item.key}"
    elif was == ItemStatus.WAIVED:
        reason = f"the waiver on {item.key} was revoked"
    elif was in SATISFYING_STATUSES and item.status not in SATISFYING_STATUSES:
        reason = f"blocking item {item.key} was reopened"
    else:
        return
    assert item.rollout_id is not None
    void_votes(session, rollout_id=item.rollout_id, phase=item.phase, reason=reason, actor=actor, now=now)


def _checklist_gate_check(*, item: ChecklistItem, rollout: LockedRollout) -> After | None:
    """What closing ``item`` must count to know whether it completed a gate (the phase's other
    open blocking items: none left, the gates need evaluating), or None if it cannot complete one.

    Only the checklist gate of the phase the region is gated at depends on items, and only on its
    blocking ones; it completes when the last of them closes. Closing an advisory item, an item of
    another phase, or one that leaves others open completes nothing: the other gate kinds are
    completed by their own events (a vote, the clock through the sweep, beta feedback), which
    evaluate the gates themselves. The count runs in the change's own statement, after the
    rollout lock is taken, so of two racing check-offs of the last two items the second sees the
    first's and passes the gate."""
    if not item.blocking or rollout.state != RolloutState.GATED or item.phase != rollout.phase:
        return None
    parameters = {"open_rollout_id": rollout.id, "open_phase": item.phase, "open_item_id": item.id}
    return After(scalar=OTHER_OPEN_BLOCKING_ITEMS, parameters=parameters)


def check_item(
    *,
    session: Session,
    item_id: int,
    actor: Actor,
    evidence_url: str | None = None,
    expected_version: int | None = None,
) -> ItemChange:
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
        values["evidence_url"] = http_link(evidence_url, field="evidence_url")
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
    )


def reopen_item(
    *,
    session: Session,
    item_id: int,
    actor: Actor,
    reason: str | None = None,
    expected_version: int | None = None,
) -> ItemChange:
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
    )


def start_item(
    *,
    session: Session,
    item_id: int,
    actor: Actor,
    expected_version: int | None = None,
) -> ItemChange:
    return _transition(
        session=session,
        item_id=item_id,
        target=ItemStatus.IN_PROGRESS,
        actor=actor,
        action=Topic.ITEM_STARTED,
        values={"blocked_reason": None},
        reason=None,
        expected_version=expected_version,
    )


def block_item(
    *,
    session: Session,
    item_id: int,
    actor: Actor,
    reason: str,
    expected_version: int | None = None,
) -> ItemChange:
    reason = required(
        reason, field="reason", max_length=REASON_MAX, hint="say what blocks it, so its owner and prodops can act"
    )
    return _transition(
        session=session,
        item_id=item_id,
        target=ItemStatus.BLOCKED,
        actor=actor,
        action=Topic.ITEM_BLOCKED,
        values={"blocked_reason": reason},
        reason=reason,
        expected_version=expected_version,
    )


def mark_not_applicable(
    *,
    session: Session,
    item_id: int,
    actor: Actor,
    reason: str,
    expected_version: int | None = None,
) -> ItemChange:
    reason = required(
        reason, field="reason", max_length=REASON_MAX, hint="say why this item does not apply to the launch"
    )
    return _transition(
        session=session,
        item_id=item_id,
        target=ItemStatus.NOT_APPLICABLE,
        actor=actor,
        action=Topic.ITEM_NOT_APPLICABLE,
        values={"checked_by": actor.name, "checked_at": utcnow()},
        reason=reason,
        expected_version=expected_version,
    )


def waive_item(
    *,
    session: Session,
    item_id: int,
    actor: Actor,
    reason: str,
    expires_at: date | datetime | None = None,
    expected_version: int | None = None,
) -> ItemChange:
    """Accept the risk of not doing an item; the waiver names who accepted it and why. Only product
    ops and admins grant waivers (a team asks for one with a comment). An expiry given as a day
    lapses at the start of that day in the item's region (``clock.region_moment``)."""
    authorize_waiver(actor)
    reason = required(reason, field="reason", hint="a waiver needs the risk accepted and why", max_length=REASON_MAX)
    if isinstance(expires_at, datetime):
        region_moment(expires_at, timezone="UTC", field="expires_at")  # a naive time is refused before any read

    def add_waiver(session: Session, item: ChecklistItem) -> None:
        lapses = None
        if expires_at is not None:
            timezone = rollout_timezone(session=session, rollout_id=item.rollout_id)
            lapses = region_moment(expires_at, timezone=timezone, field="expires_at")
        session.add(Waiver(item_id=item.id, approver=actor.name, reason=reason, expires_at=lapses))  # type: ignore[arg-type]

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
    )


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
