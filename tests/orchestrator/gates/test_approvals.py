"""Go/no-go votes on approval gates (gates/approvals.py): what a Go, a Conditional Go and a No-Go
need and do, and repeated votes recorded once; on SQLite and PostgreSQL. Each vote here is cast
in person by a member of the directory (test_approval_integrity.py covers who may vote)."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlmodel import Session

from orchestrator.core.clock import as_utc
from orchestrator.core.enums import GateKind, GateStatus, Phase, RolloutState, Vote
from orchestrator.core.errors import Forbidden, IllegalTransition, InvalidInput
from orchestrator.core.models import Decision, Gate, RegionRollout
from orchestrator.gates.approvals import cast_vote
from orchestrator.launches.service import kick_off_launch
from tests.support.db import audit, fresh, ledger, outbox, rows
from tests.support.factories import approver_in_person, make_approvers, make_launch

A, B, C = "ana@example.com", "ben@example.com", "cho@example.com"
LATER = datetime(2030, 1, 15, 9, 0, tzinfo=UTC)


@pytest.fixture
def approval(seeded, actor, request):
    """A GA-only EU launch, kicked off with its date in the past: only the approval gate is open.

    Parametrize indirectly with the approvers' emails (default: A alone). A, B and C are members.
    """
    approvers = getattr(request, "param", [A])
    make_approvers(seeded, actor, A, B, C)
    past = datetime.now(UTC).replace(microsecond=0) - timedelta(days=1)
    launch = make_launch(seeded, actor, dates={Phase.GA: past}, approvers=approvers)
    kick_off_launch(session=seeded, launch_id=launch.id, actor=actor)
    (rollout_id,) = [r.id for r in rows(seeded, select(RegionRollout))]
    gates = {g.kind: g for g in rows(seeded, select(Gate))}
    assert gates[GateKind.CHECKLIST].status is GateStatus.PASSED
    assert gates[GateKind.TIME].status is GateStatus.PASSED
    assert gates[GateKind.APPROVAL].status is GateStatus.OPEN
    return seeded, rollout_id, gates[GateKind.APPROVAL].id, gates[GateKind.CHECKLIST].id


def vote(session, actor, gate_id, voter, choice, **extra):
    """``voter`` casts the vote in person (``actor``, the test's operator, only set things up)."""
    return cast_vote(session=session, gate_id=gate_id, vote=choice, actor=approver_in_person(session, voter), **extra)


def gate_status(session, gate_id):
    return fresh(session, Gate, gate_id)["status"]


def state_of(session, rollout_id, gate_id):
    return (
        fresh(session, RegionRollout, rollout_id),
        fresh(session, Gate, gate_id),
        rows(session, select(Decision.id)),
        ledger(session),
    )


def test_the_named_approvers_go_passes_the_approval_gate(approval, actor):
    session, rollout_id, gate_id, _ = approval

    decision = vote(session, actor, gate_id, A, Vote.GO, comment="ship it")

    assert gate_status(session, gate_id) is GateStatus.PASSED
    assert fresh(session, RegionRollout, rollout_id)["state"] is RolloutState.READY
    assert (decision.voter, decision.vote, decision.comment) == (A, Vote.GO, "ship it")
    (event,) = audit(session, "decision.cast")
    assert event.after == {"vote": "go", "voter": A, "phase": "ga"}
    assert event.actor == A
    assert len(outbox(session, "decision.go")) == 1


@pytest.mark.parametrize(
    ("conditions", "risk_accepted_by"),
    [(None, None), ("support staffed 24/7", None), ("  ", B)],
    ids=["neither", "no-risk-owner", "blank-conditions"],
)
def test_conditional_go_needs_conditions_and_who_accepts_the_risk(approval, actor, conditions, risk_accepted_by):
    session, rollout_id, gate_id, _ = approval
    before = state_of(session, rollout_id, gate_id)

    with pytest.raises(InvalidInput) as caught:
        vote(session, actor, gate_id, A, Vote.CONDITIONAL_GO, conditions=conditions, risk_accepted_by=risk_accepted_by)

    assert caught.value.field == "conditions"
    assert state_of(session, rollout_id, gate_id) == before


def test_conditional_go_with_conditions_counts_as_go_and_keeps_them(approval, actor):
    session, rollout_id, gate_id, _ = approval

    vote(session, actor, gate_id, A, Vote.CONDITIONAL_GO, conditions="support staffed 24/7", risk_accepted_by=B)

    (decision,) = rows(session, select(Decision))
    assert (decision.vote, decision.conditions, decision.risk_accepted_by) == (
        Vote.CONDITIONAL_GO,
        "support staffed 24/7",
        B,
    )
    assert gate_status(session, gate_id) is GateStatus.PASSED
    assert fresh(session, RegionRollout, rollout_id)["state"] is RolloutState.READY


@pytest.mark.parametrize("reevaluate_at", [None, datetime(2030, 1, 15, 9, 0)], ids=["missing", "naive"])
def test_no_go_needs_an_aware_reevaluation_date(approval, actor, reevaluate_at):
    session, rollout_id, gate_id, _ = approval
    before = state_of(session, rollout_id, gate_id)

    with pytest.raises(InvalidInput) as caught:
        vote(session, actor, gate_id, A, Vote.NO_GO, reevaluate_at=reevaluate_at)

    assert caught.value.field == "reevaluate_at"
    assert state_of(session, rollout_id, gate_id) == before


def test_no_go_sets_the_regions_reevaluation_date_and_keeps_the_gate_closed(approval, actor):
    session, rollout_id, gate_id, _ = approval

    vote(session, actor, gate_id, A, Vote.NO_GO, reevaluate_at=LATER, comment="churn risk")

    rollout = fresh(session, RegionRollout, rollout_id)
    assert as_utc(rollout["reevaluate_at"]) == LATER
    assert rollout["state"] is RolloutState.GATED
    assert gate_status(session, gate_id) is GateStatus.OPEN
    (decision,) = rows(session, select(Decision))
    assert (decision.vote, as_utc(decision.reevaluate_at)) == (Vote.NO_GO, LATER)
    assert len(outbox(session, "decision.no_go")) == 1
    assert gate_id not in [e.entity_id for e in audit(session, "gate.passed")]


@pytest.mark.parametrize("approval", [[A, B]], indirect=True)
def test_one_no_go_holds_the_gate_until_it_is_changed(approval, actor):
    session, rollout_id, gate_id, _ = approval
    vote(session, actor, gate_id, A, Vote.NO_GO, reevaluate_at=LATER)
    vote(session, actor, gate_id, B, Vote.GO)
    assert gate_status(session, gate_id) is GateStatus.OPEN

    vote(session, actor, gate_id, A, Vote.GO)

    assert gate_status(session, gate_id) is GateStatus.PASSED
    assert fresh(session, RegionRollout, rollout_id)["state"] is RolloutState.READY
    changed = [e for e in audit(session, "decision.cast") if e.before is not None]
    assert [(e.before, e.after["vote"]) for e in changed] == [({"vote": "no_go"}, "go")]
    assert len(rows(session, select(Decision))) == 2  # one current vote per voter


@pytest.mark.parametrize("approval", [[A, B]], indirect=True)
def test_withdrawing_the_last_no_go_clears_the_reevaluation_date(approval, actor):
    session, rollout_id, gate_id, _ = approval
    vote(session, actor, gate_id, A, Vote.NO_GO, reevaluate_at=LATER)
    vote(session, actor, gate_id, B, Vote.NO_GO, reevaluate_at=LATER)

    vote(session, actor, gate_id, A, Vote.GO)
    assert as_utc(fresh(session, RegionRollout, rollout_id)["reevaluate_at"]) == LATER  # B still says No-Go

    vote(session, actor, gate_id, B, Vote.GO)
    assert fresh(session, RegionRollout, rollout_id)["reevaluate_at"] is None


@pytest.mark.parametrize("approval", [[A, B, C]], indirect=True)
def test_with_named_approvers_the_gate_passes_only_after_all_voted_go(approval, actor):
    session, rollout_id, gate_id, _ = approval

    vote(session, actor, gate_id, A, Vote.GO)
    assert gate_status(session, gate_id) is GateStatus.OPEN
    vote(session, actor, gate_id, B, Vote.CONDITIONAL_GO, conditions="rollback drill done", risk_accepted_by=B)
    assert gate_status(session, gate_id) is GateStatus.OPEN
    assert fresh(session, RegionRollout, rollout_id)["state"] is RolloutState.GATED

    vote(session, actor, gate_id, C, Vote.GO)

    assert gate_status(session, gate_id) is GateStatus.PASSED
    assert fresh(session, RegionRollout, rollout_id)["state"] is RolloutState.READY
    assert len(audit(session, "gate.passed")) == 3  # checklist and time at kick-off, approval now


@pytest.mark.parametrize("approval", [[A, B]], indirect=True)
def test_a_non_approver_is_refused_and_nothing_is_recorded(approval, actor):
    session, rollout_id, gate_id, _ = approval
    before = state_of(session, rollout_id, gate_id)

    with pytest.raises(Forbidden) as caught:
        vote(session, actor, gate_id, C, Vote.GO)

    assert f"only this gate's approvers vote ({A}, {B}); {C} is not one of them" in caught.value.message
    assert state_of(session, rollout_id, gate_id) == before


def test_a_vote_on_a_passed_gate_is_refused_and_nothing_is_recorded(approval, actor):
    session, rollout_id, gate_id, _ = approval
    vote(session, actor, gate_id, A, Vote.GO)
    before = state_of(session, rollout_id, gate_id)

    with pytest.raises(IllegalTransition) as caught:
        vote(session, actor, gate_id, B, Vote.NO_GO, reevaluate_at=LATER)

    assert caught.value.current == "passed"
    assert caught.value.allowed == []
    assert state_of(session, rollout_id, gate_id) == before


def test_votes_go_to_approval_gates_only(approval, actor):
    session, rollout_id, _gate_id, checklist_gate_id = approval
    before = state_of(session, rollout_id, checklist_gate_id)

    with pytest.raises(InvalidInput) as caught:
        vote(session, actor, checklist_gate_id, A, Vote.GO)

    assert caught.value.field == "gate_id"
    assert state_of(session, rollout_id, checklist_gate_id) == before


@pytest.mark.parametrize("approval", [[A, B]], indirect=True)
def test_the_same_vote_twice_is_recorded_once(approval, actor):
    session, rollout_id, gate_id, _ = approval
    vote(session, actor, gate_id, A, Vote.GO, comment="lgtm")
    before = state_of(session, rollout_id, gate_id)

    vote(session, actor, gate_id, A, Vote.GO, comment="lgtm")

    assert state_of(session, rollout_id, gate_id) == before
    assert len(audit(session, "decision.cast")) == 1


@pytest.mark.parametrize("approval", [[A, B]], indirect=True)
def test_the_same_no_go_repeated_from_a_new_session_is_recorded_once(approval, actor, engine):
    session, rollout_id, gate_id, _ = approval
    vote(session, actor, gate_id, A, Vote.NO_GO, reevaluate_at=LATER)
    before = state_of(session, rollout_id, gate_id)

    with Session(engine, expire_on_commit=False) as retry:  # e.g. a Slack retry in a new request
        vote(retry, actor, gate_id, A, Vote.NO_GO, reevaluate_at=LATER)

    assert state_of(session, rollout_id, gate_id) == before
    assert len(audit(session, "decision.cast")) == 1


@pytest.mark.parametrize("approval", [[A, B]], indirect=True)
def test_changing_who_accepts_the_risk_replaces_the_conditional_go(approval, actor):
    session, _rollout_id, gate_id, _ = approval
    vote(session, actor, gate_id, A, Vote.CONDITIONAL_GO, conditions="on-call doubled", risk_accepted_by=A)

    vote(session, actor, gate_id, A, Vote.CONDITIONAL_GO, conditions="on-call doubled", risk_accepted_by=C)

    (decision,) = rows(session, select(Decision))
    assert decision.risk_accepted_by == C
    assert len(audit(session, "decision.cast")) == 2
