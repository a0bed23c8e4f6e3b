"""The beta guardrail: a severity-1 report from a region that is ramping halts that region.

Exposure must not keep growing while users report something that blocks use or loses data. The
halt goes through the ordinary halt (same audit, same region event, resume as usual) inside the
transaction that records the report, so the report and the brake land together or not at all;
an alert to the launch's region channel and its owner is queued with them, once per report.
"""

from sqlmodel import Session

from orchestrator.core.actors import Actor
from orchestrator.core.enums import RolloutState
from orchestrator.core.models import BetaFeedback, Launch, Region, RegionRollout
from orchestrator.core.outbox import enqueue
from orchestrator.core.topics import Topic
from orchestrator.rollouts.service import halt_locked

TOPIC = Topic.BETA_GUARDRAIL_HALTED
_EXCERPT = 280


def trip_guardrail(
    session: Session, *, rollout: RegionRollout, feedback: BetaFeedback, region_code: str, actor: Actor
) -> bool:
    """Halt ``rollout`` (locked by the caller) if it is ramping; returns whether it halted it."""
    if feedback.severity != 1 or rollout.state != RolloutState.ROLLING_OUT:
        return False
    phase = rollout.phase.value if rollout.phase else "?"
    reason = f"guardrail: severity-1 beta feedback #{feedback.id} from {feedback.account} during the {phase} ramp"
    halt_locked(session, rollout=rollout, actor=actor, reason=reason)
    launch = session.get(Launch, rollout.launch_id)
    region = session.get(Region, rollout.region_id)
    assert launch is not None
    assert region is not None
    enqueue(
        session,
        key=f"beta:feedback:{feedback.id}:guardrail",
        topic=TOPIC,
        launch_id=rollout.launch_id,
        payload={
            "rollout_id": rollout.id,
            "feedback_id": feedback.id,
            "launch": launch.slug,
            "region": region_code,
            "phase": phase,
            "percent": rollout.percent,
            "account": feedback.account,
            "text": feedback.text[:_EXCERPT],
            "link": feedback.link,
            "owner": launch.owner,
            "channel": region.slack_channel,
            "reason": reason,
        },
    )
    return True
