"""Who a vote counts for (policy.voter_for, policy.authorize_approver): the person who casts it,
never a name they give; product ops recording a vote given elsewhere, with a reason and both names;
no self-approval by the launch's owner; and no launch kicked off with an approval gate that nobody
could pass. On SQLite and PostgreSQL."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from orchestrator.core.actors import Actor
from orchestrator.core.enums import GateKind, GateStatus, LaunchStatus, Phase, Role, Source, Vote
from orchestrator.core.errors import Forbidden, InvalidInput
from orchestrator.core.models import Decision, Gate, Launch
from orchestrator.core.settings import reset_settings
from orchestrator.gates.approvals import cast_vote
from orchestrator.launches.service import kick_off_launch
from tests.support.db import audit, fresh, ledger, rows
from tests.support.factories import approver_in_person, make_approvers, make_launch

A, B, OPS = "ana@example.com", "ben@example.com", "pat.ops@example.com"
OWNER = "owner@example.com"  # make_launch's owner


def _past_ga() -> dict[Phase, datetime]:
    return {Phase.GA: datetime.now(UTC).replace(microsecond=0) - timedelta(days=1)}


@pytest.fixture
def gate(seeded, actor):
    """An EU launch at GA whose approval gate names A and B; A, B, the owner and a prodops are members."""
    make_approvers(seeded, actor, A, B, OWNER)
    make_approvers(seeded, actor, OPS)
    launch = make_launch(seeded, actor, dates=_past_ga(), approvers=[A, B])
    kick_off_launch(session=seeded, launch_id=launch.id, actor=actor)
    (approval,) = [g for g in rows(seeded, select(Gate)) if g.kind == GateKind.APPROVAL]
    return seeded, approval.id


@pytest.fixture
def setting(monkeypatch):
    """Set one LAUNCHDECK_* variable for this test; the cached settings follow it, and forget it after."""

    def put(name: str, value: str) -> None:
        monkeypatch.setenv(f"LAUNCHDECK_{name}", value)
        reset_settings()

    yield put
    monkeypatch.undo()
    reset_settings()


def _prodops(session) -> Actor:
    return approver_in_person(session, OPS, role=Role.PRODOPS)


def test_a_vote_counts_for_the_person_who_casts_it_never_a_name_they_give(gate):
    session, gate_id = gate
    before = ledger(session)

    with pytest.raises(Forbidden) as caught:
        cast_vote(session=session, gate_id=gate_id, vote=Vote.GO, actor=approver_in_person(session, B), on_behalf_of=A)

    assert "a vote counts for the person who casts it" in caught.value.message
    assert rows(session, select(Decision)) == []
    assert ledger(session) == before


def test_a_signed_in_token_without_a_member_cannot_vote(gate):
    session, gate_id = gate
    bot = Actor(name="token:ci-bot", source=Source.API, role=Role.APPROVER)

    with pytest.raises(Forbidden) as caught:
        cast_vote(session=session, gate_id=gate_id, vote=Vote.GO, actor=bot)

    assert "token:ci-bot is not a member of the directory" in caught.value.message
    assert rows(session, select(Decision)) == []


def test_prodops_record_a_vote_given_elsewhere_with_a_reason_and_both_names_are_kept(gate):
    session, gate_id = gate

    decision = cast_vote(
        session=session,
        gate_id=gate_id,
        vote=Vote.GO,
        actor=_prodops(session),
        on_behalf_of=A,
        on_behalf_reason="go/no-go meeting of 2027-03-01",
    )

    assert (decision.voter, decision.recorded_by, decision.on_behalf_reason) == (
        A,
        OPS,
        "go/no-go meeting of 2027-03-01",
    )
    (event,) = audit(session, "decision.cast")
    assert (event.actor, event.after["voter"], event.after["recorded_by"]) == (OPS, A, OPS)
    assert event.reason == "go/no-go meeting of 2027-03-01"


def test_a_vote_on_behalf_without_a_reason_is_refused(gate):
    session, gate_id = gate

    with pytest.raises(InvalidInput) as caught:
        cast_vote(session=session, gate_id=gate_id, vote=Vote.GO, actor=_prodops(session), on_behalf_of=A)

    assert caught.value.field == "on_behalf_reason"
    assert rows(session, select(Decision)) == []


def test_votes_on_behalf_can_be_switched_off(gate, setting):
    session, gate_id = gate
    setting("VOTES_ON_BEHALF", "false")

    with pytest.raises(Forbidden) as caught:
        cast_vote(
            session=session,
            gate_id=gate_id,
            vote=Vote.GO,
            actor=_prodops(session),
            on_behalf_of=A,
            on_behalf_reason="meeting",
        )

    assert "switched off (LAUNCHDECK_VOTES_ON_BEHALF)" in caught.value.message
    assert rows(session, select(Decision)) == []


@pytest.mark.parametrize(("forbidden", "passes"), [("true", False), ("false", True)], ids=["default", "allowed"])
def test_the_launch_owner_may_not_approve_their_own_launch(seeded, actor, setting, forbidden, passes):
    setting("FORBID_SELF_APPROVAL", forbidden)
    make_approvers(seeded, actor, A, B, OWNER)
    launch = make_launch(seeded, actor, dates=_past_ga(), approvers=[OWNER, A, B], quorum=2)
    kick_off_launch(session=seeded, launch_id=launch.id, actor=actor)
    (approval,) = [g for g in rows(seeded, select(Gate)) if g.kind == GateKind.APPROVAL]
    cast_vote(session=seeded, gate_id=approval.id, vote=Vote.GO, actor=approver_in_person(seeded, A))

    if passes:
        cast_vote(session=seeded, gate_id=approval.id, vote=Vote.GO, actor=approver_in_person(seeded, OWNER))
        assert fresh(seeded, Gate, approval.id)["status"] is GateStatus.PASSED
        return
    with pytest.raises(Forbidden) as caught:
        cast_vote(session=seeded, gate_id=approval.id, vote=Vote.GO, actor=approver_in_person(seeded, OWNER))
    assert f"{OWNER} owns this launch and may not approve it" in caught.value.message
    assert fresh(seeded, Gate, approval.id)["status"] is GateStatus.OPEN


@pytest.mark.parametrize("approvers", [[], [OWNER]], ids=["nobody", "only-the-owner"])
def test_kickoff_refuses_a_launch_whose_approval_gate_nobody_could_pass(seeded, actor, approvers):
    launch = make_launch(seeded, actor, regions=("EU", "NA"), dates=_past_ga(), approvers=approvers)
    before = ledger(seeded)

    with pytest.raises(InvalidInput) as caught:
        kick_off_launch(session=seeded, launch_id=launch.id, actor=actor)

    assert caught.value.field == "approvers"
    assert "the approval gates of EU ga, NA ga name nobody who could pass them" in caught.value.problem
    assert fresh(seeded, Launch, launch.id)["status"] is LaunchStatus.DRAFT
    assert ledger(seeded) == before
