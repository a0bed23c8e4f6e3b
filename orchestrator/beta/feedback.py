"""Beta feedback intake (API and Slack), duplicate merging and resolution.

Every report is one row; merging a duplicate folds its report count and accounts into the row it
duplicates (the duplicate stays, marked merged, so nothing reported is lost), so scoring sees how
often and by how many accounts an issue was hit. Resolution feeds the bug/fix exit criterion.
Each change re-judges the region's waiting beta-exit gate in the same transaction, and a
severity-1 report trips the guardrail (see ``beta_guardrail``).
"""

from typing import Any

from sqlmodel import Session

from orchestrator.beta.cohorts import clean_account, rollout_for
from orchestrator.beta.exit_gates import reevaluate_exit_gates
from orchestrator.beta.guardrail import trip_guardrail
from orchestrator.core.actors import Actor
from orchestrator.core.clock import utcnow
from orchestrator.core.enums import FeedbackStatus, FeedbackType, Phase
from orchestrator.core.errors import InvalidInput, NotFound, PreconditionFailed
from orchestrator.core.ledger import record, snapshot
from orchestrator.core.models import BetaFeedback, RegionRollout
from orchestrator.core.policy import authorize_feedback
from orchestrator.core.unit import compare_and_set, lock, transaction
from orchestrator.rollouts.phases import planned_phases

ENTITY = "beta feedback"
TEXT_MAX = 4000
_TRACKED = ("status", "severity", "reports", "accounts", "merged_into_id", "resolved_at")


def _clean_text(text: str) -> str:
    cleaned = text.strip()
    if not cleaned:
        raise InvalidInput("text", "say what happened (what you did, what you expected, what you saw)")
    if len(cleaned) > TEXT_MAX:
        raise InvalidInput("text", f"at most {TEXT_MAX} characters, got {len(cleaned)}; link longer material instead")
    return cleaned


def _clean_link(link: str | None) -> str | None:
    if link is None or not link.strip():
        return None
    cleaned = link.strip()
    if not cleaned.startswith(("https://", "http://")) or " " in cleaned or len(cleaned) > 2000:
        raise InvalidInput("link", "must be an http(s) link of at most 2000 characters")
    return cleaned


def submit_feedback(
    *,
    session: Session,
    launch_id: int,
    region_code: str,
    phase: Phase,
    account: str,
    type: FeedbackType,
    severity: int,
    text: str,
    actor: Actor,
    link: str | None = None,
) -> BetaFeedback:
    """Record one report. Severity 1 (blocks use or loses data) in a region that is ramping halts
    the ramp in this same transaction and alerts the launch's channel and owner."""
    authorize_feedback(actor)
    if not 1 <= severity <= 4:
        raise InvalidInput("severity", f"1 (blocks use or loses data) to 4 (cosmetic), got {severity}")
    account = clean_account(account)
    cleaned_text = _clean_text(text)
    cleaned_link = _clean_link(link)
    with transaction(session):
        rollout = _lock_planned_rollout(session, launch_id=launch_id, region_code=region_code, phase=phase)
        feedback = BetaFeedback(
            launch_id=launch_id,
            rollout_id=rollout.id,  # type: ignore[arg-type]
            phase=phase,
            account=account,
            type=type,
            severity=severity,
            text=cleaned_text,
            link=cleaned_link,
            accounts=[account],
            submitted_by=actor.name,
            created_at=utcnow(),
        )
        session.add(feedback)
        session.flush()
        record(
            session,
            actor=actor,
            entity="beta_feedback",
            entity_id=feedback.id,
            action="beta.feedback_submitted",
            launch_id=launch_id,
            after={
                "region": region_code,
                "phase": phase.value,
                "account": account,
                "type": type.value,
                "severity": severity,
                "link": cleaned_link,
            },
        )
        if severity == 1:
            trip_guardrail(session, rollout=rollout, feedback=feedback, region_code=region_code, actor=actor)
    return feedback


def _lock_planned_rollout(session: Session, *, launch_id: int, region_code: str, phase: Phase) -> RegionRollout:
    """Lock the launch's rollout in the region; refuse a phase the region does not plan."""
    found, _region = rollout_for(session, launch_id=launch_id, region_code=region_code)
    assert found.id is not None
    rollout = lock(session, RegionRollout, found.id, "region rollout")
    planned = planned_phases(session, rollout_id=found.id)
    if phase not in planned:
        names = ", ".join(p.value for p in planned)
        raise InvalidInput("phase", f"{region_code} does not plan {phase.value}; its phases: {names}")
    return rollout


def _lock_feedback(session: Session, feedback_id: int) -> tuple[RegionRollout, BetaFeedback]:
    """Lock the region first (as every region change does), then the report."""
    row = session.get(BetaFeedback, feedback_id)
    if row is None:
        raise NotFound(ENTITY, feedback_id)
    rollout = lock(session, RegionRollout, row.rollout_id, "region rollout")
    return rollout, lock(session, BetaFeedback, feedback_id, ENTITY)


def merge_feedback(*, session: Session, feedback_id: int, into_id: int, actor: Actor) -> BetaFeedback:
    """Fold a duplicate into the report it repeats: counts and accounts add up on ``into``, which
    takes the more severe of the two severities. Returns ``into``. Merging again is a no-op."""
    if feedback_id == into_id:
        raise InvalidInput("into", "a report cannot be merged into itself")
    with transaction(session):
        rollout, duplicate = _lock_feedback(session, feedback_id)
        target = session.get(BetaFeedback, into_id)
        if target is None:
            raise NotFound(ENTITY, into_id)
        if target.rollout_id != duplicate.rollout_id:
            raise InvalidInput("into", f"report {into_id} is from another launch or region; merge within one region")
        target = lock(session, BetaFeedback, into_id, ENTITY)
        if duplicate.status == FeedbackStatus.MERGED:
            if duplicate.merged_into_id == into_id:
                return target
            raise PreconditionFailed(f"report {feedback_id} is already merged into {duplicate.merged_into_id}")
        if target.status == FeedbackStatus.MERGED:
            raise PreconditionFailed(
                f"report {into_id} is itself merged into {target.merged_into_id}; merge into that one"
            )
        before_target = snapshot(target, *_TRACKED)
        accounts = sorted(set(target.accounts) | set(duplicate.accounts))
        changes: dict[str, Any] = {
            "reports": target.reports + duplicate.reports,
            "accounts": accounts,
            "severity": min(target.severity, duplicate.severity),
        }
        if duplicate.status == FeedbackStatus.OPEN and target.status == FeedbackStatus.RESOLVED:
            # The issue is being hit again: it is not fixed for everyone.
            changes.update(status=FeedbackStatus.OPEN, resolved_at=None)
        compare_and_set(session, target, ENTITY, **changes)
        compare_and_set(session, duplicate, ENTITY, status=FeedbackStatus.MERGED, merged_into_id=into_id)
        record(
            session,
            actor=actor,
            entity="beta_feedback",
            entity_id=target.id,
            action="beta.feedback_merged",
            launch_id=target.launch_id,
            before=before_target,
            after={**snapshot(target, *_TRACKED), "merged": feedback_id},
        )
        reevaluate_exit_gates(session, rollout_id=rollout.id, actor=actor)  # type: ignore[arg-type]
    return target


def resolve_feedback(*, session: Session, feedback_id: int, actor: Actor, reason: str | None = None) -> BetaFeedback:
    """Mark a report fixed or answered; resolving twice is a no-op."""
    with transaction(session):
        rollout, feedback = _lock_feedback(session, feedback_id)
        if feedback.status == FeedbackStatus.RESOLVED:
            return feedback
        if feedback.status == FeedbackStatus.MERGED:
            raise PreconditionFailed(
                f"report {feedback_id} is merged into {feedback.merged_into_id}; resolve that one instead"
            )
        before = snapshot(feedback, *_TRACKED)
        compare_and_set(session, feedback, ENTITY, status=FeedbackStatus.RESOLVED, resolved_at=utcnow())
        record(
            session,
            actor=actor,
            entity="beta_feedback",
            entity_id=feedback.id,
            action="beta.feedback_resolved",
            launch_id=feedback.launch_id,
            before=before,
            after=snapshot(feedback, *_TRACKED),
            reason=reason,
        )
        reevaluate_exit_gates(session, rollout_id=rollout.id, actor=actor)  # type: ignore[arg-type]
    return feedback
