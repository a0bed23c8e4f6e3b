"""When an approval gate's votes say Go: the quorum rule over the named approvers' current votes.

Only votes that still count are read: a voided vote (what it approved has changed) and a Go older
than ``go_max_age_days`` when the gate is judged (its approver must confirm it) count for nothing.
Any counting No-Go holds the gate. Unanimous by default; a gate may instead need N of its M
approvers, optionally from N distinct teams (so three product managers cannot outvote support).
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from orchestrator.core.clock import as_utc
from orchestrator.core.enums import GateKind, GateStatus, Vote
from orchestrator.core.models import Decision, Gate, Member, RegionRollout
from orchestrator.core.outbox import enqueue
from orchestrator.core.settings import get_settings
from orchestrator.core.topics import Topic

GO_VOTES = frozenset({Vote.GO, Vote.CONDITIONAL_GO})


@dataclass(frozen=True)
class Tally:
    """The counting votes of one approval gate, by approver."""

    needed: int
    gos: list[str]
    no_gos: list[str]
    stale: list[str]  # Gos too old to count until confirmed
    missing: list[str]  # approvers without a counting vote
    teams_of_gos: int

    @property
    def holds(self) -> bool:
        return not self.no_gos and len(self.gos) >= self.needed and self.teams_of_gos >= self.needed


def go_max_age() -> timedelta | None:
    days = get_settings().go_max_age_days
    return timedelta(days=days) if days else None


def needed_votes(gate: Gate) -> int:
    """Unanimous (every approver) unless the gate names a quorum."""
    return gate.quorum if gate.quorum is not None else len(gate.approvers)


def tally(session: Session, gate: Gate, *, now: datetime) -> Tally:
    """Count the gate's named approvers' votes that still count at ``now``."""
    rows = session.exec(
        select(Decision.voter, Decision.vote, Decision.cast_at).where(
            Decision.gate_id == gate.id, col(Decision.voided_at).is_(None), col(Decision.voter).in_(gate.approvers)
        )
    ).all()
    max_age = go_max_age()
    gos, no_gos, stale = [], [], []
    for voter, vote, cast_at in rows:
        if vote == Vote.NO_GO:
            no_gos.append(voter)
        elif max_age is not None and as_utc(cast_at) < now - max_age:
            stale.append(voter)
        elif vote in GO_VOTES:
            gos.append(voter)
    voted = set(gos) | set(no_gos)
    return Tally(
        needed=needed_votes(gate),
        gos=sorted(gos),
        no_gos=sorted(no_gos),
        stale=sorted(stale),
        missing=[approver for approver in gate.approvers if approver not in voted],
        teams_of_gos=_distinct_teams(session, gos) if gate.distinct_teams else len(gos),
    )


def approval_holds(session: Session, gate: Gate, *, now: datetime) -> bool:
    """A gate naming nobody never passes (kickoff refuses such a launch)."""
    if not gate.approvers:
        return False
    return tally(session, gate, now=now).holds


def _distinct_teams(session: Session, voters: list[str]) -> int:
    """How many teams the voters come from; a voter with no team (or not in the directory) is
    a team of one."""
    if not voters:
        return 0
    teams = dict(session.exec(select(Member.email, Member.team_id).where(col(Member.email).in_(voters))).all())
    return len({teams.get(voter) or f"person:{voter}" for voter in voters})


def announce_approval_waits(
    session: Session, *, rollout: RegionRollout, gates: list[Gate], phase_at: datetime | None, now: datetime
) -> None:
    """Ask the approvers for their vote once: when the approval gate is the phase's last
    condition, or ``approval_request_days`` before the phase date, whichever is first. And while
    it is the last condition, ask the approvers of Gos too old to count to confirm them."""
    approval = next((g for g in gates if g.kind == GateKind.APPROVAL and g.status == GateStatus.OPEN), None)
    if approval is None:
        return
    last = all(gate.status == GateStatus.PASSED for gate in gates if gate is not approval)
    asking_from = request_time(phase_at)
    if last or (asking_from is not None and now >= asking_from):
        enqueue(
            session,
            key=f"gate:{approval.id}:approval_requested",
            topic=Topic.APPROVAL_REQUESTED,
            launch_id=rollout.launch_id,
            payload={"gate_id": approval.id, "rollout_id": rollout.id, "phase": approval.phase.value},
        )
    if last:
        _ask_to_confirm(session, rollout=rollout, gate=approval, now=now)


def request_time(phase_at: datetime | None) -> datetime | None:
    """When approvers are asked at the latest: ``approval_request_days`` before the phase date."""
    if phase_at is None:
        return None
    return phase_at - timedelta(days=get_settings().approval_request_days)


def _ask_to_confirm(session: Session, *, rollout: RegionRollout, gate: Gate, now: datetime) -> None:
    stale = tally(session, gate, now=now).stale
    if not stale:
        return
    days = get_settings().go_max_age_days
    enqueue(
        session,
        key=f"gate:{gate.id}:confirm:{now:%Y-%m-%d}",
        topic=Topic.DECISION_CONFIRMATION_NEEDED,
        launch_id=rollout.launch_id,
        payload={
            "gate_id": gate.id,
            "rollout_id": rollout.id,
            "phase": gate.phase.value,
            "voters": stale,
            "reason": f"Go votes older than {days} days must be confirmed: {', '.join(stale)}, vote again",
        },
    )
