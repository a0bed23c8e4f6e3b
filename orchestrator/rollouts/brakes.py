"""The operator's brakes (halt, resume, roll back): who may pull them, what they refuse in each
state, and how long their reason may be. One place, read by the service under its lock and by a
door that asks before it offers the action (Slack's confirmation modal), so the early answer and
the real one are the same sentence.
"""

from sqlmodel import Session, col, select

from orchestrator.core.actors import Actor
from orchestrator.core.enums import RolloutState
from orchestrator.core.errors import AlreadyInState, InvalidInput
from orchestrator.core.models import AuditEvent, Launch, Region, RegionRollout, text_limit
from orchestrator.core.policy import LAUNCH_OPERATORS, require_role
from orchestrator.rollouts.rules import ROLLOUT_TRANSITIONS, RolloutAction, rollout_target

BRAKES = (RolloutAction.HALT, RolloutAction.RESUME, RolloutAction.ROLL_BACK)
RESUMABLE = frozenset({RolloutState.HALTED, RolloutState.ROLLED_BACK})
# A halt's or rollback's reason is kept as the region's halt reason and in the ledger; a resume's
# only in the ledger. Read from the columns, so the limit cannot drift from what the rows hold.
REASON_LIMITS = {
    RolloutAction.HALT: text_limit(RegionRollout.halt_reason, AuditEvent.reason),
    RolloutAction.ROLL_BACK: text_limit(RegionRollout.halt_reason, AuditEvent.reason),
    RolloutAction.RESUME: text_limit(AuditEvent.reason),
}


def authorize_brake(actor: Actor, action: RolloutAction) -> None:
    """Only product ops and admins (and launchdeck's own flows) halt, resume or roll back."""
    require_role(actor, LAUNCH_OPERATORS, doing=f"{action.value} a region")


def brake_reason(action: RolloutAction, reason: str | None, *, required: bool = True) -> str | None:
    """The reason, trimmed; refused when required and empty, or longer than its columns hold
    (SQLite would store it, PostgreSQL would fail: the service refuses it on both)."""
    cleaned = (reason or "").strip()
    if not cleaned:
        if required:
            raise InvalidInput("reason", "say why (it is kept in the audit ledger and shown to the teams)")
        return None
    limit = REASON_LIMITS[action]
    if len(cleaned) > limit:
        raise InvalidInput("reason", f"keep it to {limit} characters (it has {len(cleaned)})")
    return cleaned


def check_brake(session: Session, *, rollout: RegionRollout, action: RolloutAction) -> None:
    """Refuse ``action`` on ``rollout`` as it stands: a repeat (halt a halted region, roll back a
    rolled-back one, resume a running one) is AlreadyInState naming what stands; a move the state
    machine does not allow from here (halt a planned region) is IllegalTransition."""
    state = rollout.state
    if action is RolloutAction.HALT and state == RolloutState.HALTED:
        raise _repeat(session, rollout, action, f"halted (reason: {rollout.halt_reason!r})")
    if action is RolloutAction.ROLL_BACK and state == RolloutState.ROLLED_BACK:
        raise _repeat(session, rollout, action, f"rolled back (reason: {rollout.halt_reason!r})")
    if action is RolloutAction.RESUME and state not in RESUMABLE and state != RolloutState.PLANNED:
        raise _repeat(session, rollout, action, f"running ({state.value}): nothing to resume")
    rollout_target(state, action)  # not allowed from here: raises with what is


def region_label(session: Session, *, rollout: RegionRollout) -> str:
    """The region as people name it, "<launch slug> <region code>" (never the rollout's id)."""
    slug, code = session.exec(
        select(Launch.slug, Region.code)
        .join(RegionRollout, col(RegionRollout.launch_id) == col(Launch.id))
        .join(Region, col(Region.id) == col(RegionRollout.region_id))
        .where(RegionRollout.id == rollout.id)
    ).one()
    return f"{slug} {code}"


def _repeat(session: Session, rollout: RegionRollout, action: RolloutAction, standing: str) -> AlreadyInState:
    allowed = (a.value for a in ROLLOUT_TRANSITIONS[rollout.state])
    label = region_label(session, rollout=rollout)
    return AlreadyInState(label, rollout.state.value, action.value, allowed, standing=standing)
