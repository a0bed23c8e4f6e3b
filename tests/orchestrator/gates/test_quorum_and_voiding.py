"""Approval quorum rules (gates/quorum.py), votes voided when what they approved changes
(gates/voiding.py), changing a launch's approvers (gates/approvers.py), and Gos too old to count.
On SQLite and PostgreSQL; time with freezegun."""

from datetime import UTC, datetime, timedelta

import pytest
from freezegun import freeze_time
from sqlalchemy import select

from orchestrator.core.enums import GateKind, GateStatus, Phase, Role, Vote
from orchestrator.core.errors import Forbidden, InvalidInput
from orchestrator.core.models import Decision, Gate, RegionRollout
from orchestrator.directory.seed import MemberSeed
from orchestrator.directory.service import upsert_member
from orchestrator.gates.approvals import cast_vote
from orchestrator.gates.approvers import change_approvers
from orchestrator.items.service import check_item, reopen_item, waive_item
from orchestrator.launches.schedule import reschedule_phase
from orchestrator.launches.service import kick_off_launch
from tests.support.db import audit, fresh, outbox, rows
from tests.support.factories import approver_in_person, item, make_launch

A, B, C = "ana@example.com", "ben@example.com", "cho@example.com"
NOW = datetime(2027, 3, 10, 9, 0, tzinfo=UTC)
GA = NOW - timedelta(days=1)


@pytest.fixture
def people(seeded, actor):
    """A and B in marketing, C in support: all approvers."""
    for email, team in ((A, "marketing"), (B, "marketing"), (C, "support")):
        seed = MemberSeed(email=email, name=email.split("@")[0], team=team, role=Role.APPROVER)
        upsert_member(session=seeded, seed=seed, actor=actor)
    return seeded


def _launch(session, actor, *, quorum=None, distinct_teams=False, items=None):
    launch = make_launch(
        session,
        actor,
        dates={Phase.GA: GA},
        approvers=[A, B, C],
        quorum=quorum,
        distinct_teams=distinct_teams,
        items=items,
    )
    kick_off_launch(session=session, launch_id=launch.id, actor=actor)
    (approval,) = [g for g in rows(session, select(Gate)) if g.kind == GateKind.APPROVAL]
    (rollout,) = rows(session, select(RegionRollout))
    return launch, rollout.id, approval.id


def _go(session, gate_id, who):
    cast_vote(session=session, gate_id=gate_id, vote=Vote.GO, actor=approver_in_person(session, who))


def _status(session, gate_id):
    return fresh(session, Gate, gate_id)["status"]


@freeze_time(NOW)
def test_two_of_three_passes_on_the_second_go(people, actor):
    _, _, gate_id = _launch(people, actor, quorum=2)

    _go(people, gate_id, A)
    assert _status(people, gate_id) is GateStatus.OPEN
    _go(people, gate_id, B)

    assert _status(people, gate_id) is GateStatus.PASSED


@freeze_time(NOW)
def test_two_of_three_from_distinct_teams_needs_a_second_team(people, actor):
    _, _, gate_id = _launch(people, actor, quorum=2, distinct_teams=True)

    _go(people, gate_id, A)
    _go(people, gate_id, B)  # both marketing: one team
    assert _status(people, gate_id) is GateStatus.OPEN
    _go(people, gate_id, C)

    assert _status(people, gate_id) is GateStatus.PASSED


@freeze_time(NOW)
def test_unanimous_by_default(people, actor):
    _, _, gate_id = _launch(people, actor)
    _go(people, gate_id, A)
    _go(people, gate_id, B)
    assert _status(people, gate_id) is GateStatus.OPEN
    _go(people, gate_id, C)
    assert _status(people, gate_id) is GateStatus.PASSED


@freeze_time(NOW)
def test_reopening_a_blocking_item_voids_the_votes_and_they_are_cast_again(people, actor):
    blocker = item("positioning", phase=Phase.GA)
    _, _, gate_id = _launch(people, actor, items=[blocker])
    (item_row,) = launch_items(people)
    check_item(session=people, item_id=item_row, actor=actor)
    _go(people, gate_id, A)
    _go(people, gate_id, B)

    reopen_item(session=people, item_id=item_row, actor=actor, reason="copy changed")

    voided = {d.voter: d for d in rows(people, select(Decision))}
    assert {voter: d.void_reason for voter, d in voided.items()} == {
        A: "blocking item positioning was reopened",
        B: "blocking item positioning was reopened",
    }
    assert [e.before["voter"] for e in audit(people, "decision.voided")] == [A, B]
    (told,) = outbox(people, "decision.voided")
    assert told.payload["voters"] == [A, B]
    assert "Vote again: ana@example.com, ben@example.com" in told.payload["reason"]
    check_item(session=people, item_id=item_row, actor=actor)
    _go(people, gate_id, C)
    assert _status(people, gate_id) is GateStatus.OPEN  # A's and B's Gos no longer count
    _go(people, gate_id, A)
    _go(people, gate_id, B)
    assert _status(people, gate_id) is GateStatus.PASSED
    assert len(audit(people, "decision.cast")) == 5


def launch_items(session):
    from orchestrator.core.models import ChecklistItem

    return [row.id for row in rows(session, select(ChecklistItem))]


@freeze_time(NOW)
def test_a_waiver_granted_voids_the_votes(people, actor):
    _, _, gate_id = _launch(people, actor, items=[item("positioning", phase=Phase.GA)])
    _go(people, gate_id, A)
    (item_id,) = launch_items(people)

    waive_item(session=people, item_id=item_id, actor=actor, reason="reused from v1")

    (decision,) = rows(people, select(Decision))
    assert decision.void_reason == "a waiver was granted on positioning"


@freeze_time(NOW)
def test_moving_the_phase_date_voids_the_votes(people, actor):
    _, rollout_id, gate_id = _launch(people, actor)
    _go(people, gate_id, A)

    reschedule_phase(
        session=people, rollout_id=rollout_id, phase=Phase.GA, new_at=GA + timedelta(days=7), actor=actor, reason="x"
    )

    (decision,) = rows(people, select(Decision))
    assert decision.void_reason == "the ga date moved from 2027-03-09 to 2027-03-16"


@freeze_time(NOW)
def test_changing_the_approvers_voids_the_votes_and_is_audited(people, actor):
    launch, _, gate_id = _launch(people, actor)
    _go(people, gate_id, A)

    changed = change_approvers(
        session=people, launch_id=launch.id, phase=Phase.GA, approvers=[A, C], quorum=1, actor=actor, reason="B left"
    )

    assert [g.id for g in changed] == [gate_id]
    gate = fresh(people, Gate, gate_id)
    assert (gate["approvers"], gate["quorum"]) == ([A, C], 1)
    (event,) = audit(people, "gate.approvers_changed")
    assert event.before["approvers"] == [A, B, C]
    assert event.reason == "B left"
    (decision,) = rows(people, select(Decision))
    assert decision.void_reason == "the approvers changed: B left"
    _go(people, gate_id, C)
    assert _status(people, gate_id) is GateStatus.PASSED


@freeze_time(NOW)
def test_only_prodops_change_approvers_and_a_passed_gate_stays_as_it_was(people, actor):
    launch, _, gate_id = _launch(people, actor, quorum=1)
    with pytest.raises(Forbidden):
        change_approvers(
            session=people,
            launch_id=launch.id,
            phase=Phase.GA,
            approvers=[A],
            actor=approver_in_person(people, A),
            reason="me",
        )
    _go(people, gate_id, A)

    with pytest.raises(InvalidInput) as caught:
        change_approvers(session=people, launch_id=launch.id, phase=Phase.GA, approvers=[B], actor=actor, reason="x")

    assert "no ga approval gate waits for votes" in caught.value.problem
    assert fresh(people, Gate, gate_id)["approvers"] == [A, B, C]


def test_a_go_older_than_the_limit_must_be_confirmed_when_the_rest_is_met(people, actor):
    with freeze_time(NOW - timedelta(days=20)):
        launch = make_launch(people, actor, dates={Phase.GA: NOW}, approvers=[A])
        kick_off_launch(session=people, launch_id=launch.id, actor=actor)
        (gate,) = [g for g in rows(people, select(Gate)) if g.kind == GateKind.APPROVAL]
        _go(people, gate.id, A)  # 20 days before the date: the time gate still holds the region
    (rollout,) = rows(people, select(RegionRollout))

    with freeze_time(NOW + timedelta(hours=1)):
        from orchestrator.gates.service import evaluate_gates

        evaluate_gates(people, rollout=people.get(RegionRollout, rollout.id), now=datetime.now(UTC), actor=actor)
        people.commit()
        assert _status(people, gate.id) is GateStatus.OPEN
        (asked,) = outbox(people, "decision.confirmation_needed")
        assert asked.payload["voters"] == [A]
        _go(people, gate.id, A)  # the same Go again confirms it

    assert _status(people, gate.id) is GateStatus.PASSED
    assert len(audit(people, "decision.cast")) == 2
