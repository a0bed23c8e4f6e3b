"""Approval reminders (gates/reminders.py): the day before a phase date the approvers without a
counting vote are reminded once each and prod ops are told who is missing; nothing outside the
window, for a passed gate, a launch not active or a halted region. SQLite and PostgreSQL; freezegun."""

from datetime import UTC, datetime, timedelta

import pytest
from freezegun import freeze_time
from sqlalchemy import select

from orchestrator.core.enums import GateKind, GateStatus, LaunchStatus, Phase, Role, Vote
from orchestrator.core.errors import InvalidInput
from orchestrator.core.models import Gate, Launch
from orchestrator.directory.seed import MemberSeed
from orchestrator.directory.service import upsert_member
from orchestrator.gates.approvals import cast_vote
from orchestrator.gates.reminders import MISSING_TOPIC, REMINDER_TOPIC, ApprovalReminderRun, queue_approval_reminders
from orchestrator.gates.voiding import void_gate_votes
from orchestrator.launches.service import kick_off_launch
from orchestrator.rollouts.service import halt_region
from tests.support.db import audit, outbox, rollout_id, rows
from tests.support.factories import approver_in_person, make_launch

A, B, C = "ana@example.com", "ben@example.com", "cho@example.com"
OWNER = "owner@example.com"
PHASE_AT = datetime(2027, 3, 11, 9, 0, tzinfo=UTC)  # GA in EU
KICKOFF = PHASE_AT - timedelta(days=20)
IN_WINDOW = PHASE_AT - timedelta(hours=20)


@pytest.fixture
def people(seeded, actor):
    """A and B in marketing, C in support: all approvers; the launch owner is prod ops on Slack."""
    for email, team in ((A, "marketing"), (B, "marketing"), (C, "support")):
        seed = MemberSeed(email=email, name=email.split("@")[0], team=team, role=Role.APPROVER)
        upsert_member(session=seeded, seed=seed, actor=actor)
    return seeded


def owner_on_slack(session, actor):
    seed = MemberSeed(email=OWNER, name="owner", role=Role.PRODOPS, slack_user_id="U0OWNER01")
    upsert_member(session=session, seed=seed, actor=actor)


def launch(session, actor, *, quorum=None, slug="acme-assistant"):
    with freeze_time(KICKOFF):
        row = make_launch(session, actor, slug=slug, dates={Phase.GA: PHASE_AT}, approvers=[A, B, C], quorum=quorum)
        kick_off_launch(session=session, launch_id=row.id, actor=actor)
    (gate,) = rows(
        session, select(Gate).where(Gate.rollout_id == rollout_id(session, row), Gate.kind == GateKind.APPROVAL)
    )
    assert gate.status is GateStatus.OPEN
    return row, gate


def vote(session, gate_id, who, when=IN_WINDOW - timedelta(hours=1), kind=Vote.GO):
    extra = {"reevaluate_at": PHASE_AT + timedelta(days=7)} if kind == Vote.NO_GO else {}
    with freeze_time(when):
        cast_vote(session=session, gate_id=gate_id, vote=kind, actor=approver_in_person(session, who), **extra)


def remind(session, actor, now):
    with freeze_time(now):
        return queue_approval_reminders(session=session, now=now, actor=actor)


def reminded(session):
    return sorted((row.payload["gate_id"], row.payload["approver"]) for row in outbox(session, REMINDER_TOPIC))


def test_each_approver_without_a_vote_is_reminded_once_and_prod_ops_told_who_is_missing(people, actor):
    owner_on_slack(people, actor)
    _, gate = launch(people, actor, quorum=2)
    vote(people, gate.id, A)  # A's Go counts
    vote(people, gate.id, B)
    void_gate_votes(people, gate=gate, reason="the date moved", actor=actor, now=IN_WINDOW - timedelta(minutes=30))
    people.commit()
    vote(people, gate.id, A, when=IN_WINDOW - timedelta(minutes=10))  # A votes again; B's stays void
    vote(people, gate.id, C, when=KICKOFF + timedelta(hours=1))  # a Go too old to count (14 days)

    first = remind(people, actor, IN_WINDOW)
    again = remind(people, actor, IN_WINDOW + timedelta(hours=1))  # the next hourly run

    assert first == ApprovalReminderRun(reminded=2, told=1)
    assert again == ApprovalReminderRun(reminded=0, told=0)
    assert reminded(people) == [(gate.id, B), (gate.id, C)]
    (told,) = outbox(people, MISSING_TOPIC)
    assert told.key == f"gate:{gate.id}:votes_missing:2027-03-11"
    assert told.payload["missing"] == [B, C]
    assert told.payload["gos_needed"] == 1
    assert told.payload["to"] == {"kind": "dm", "email": OWNER, "slack_user_id": "U0OWNER01"}
    assert told.payload["phase_at"] == PHASE_AT.isoformat()
    (entry,) = audit(people, "approval_reminders.queued")
    assert entry.after == {"reminded": 2, "told": 1}


def test_the_window_is_the_day_before_the_phase_date(people, actor):
    launch(people, actor)

    assert remind(people, actor, PHASE_AT - timedelta(days=1, minutes=1)) == ApprovalReminderRun(0, 0)
    assert remind(people, actor, PHASE_AT) == ApprovalReminderRun(0, 0)  # the date has come
    assert remind(people, actor, PHASE_AT + timedelta(hours=3)) == ApprovalReminderRun(0, 0)
    assert remind(people, actor, PHASE_AT - timedelta(days=1)) == ApprovalReminderRun(3, 1)
    (told,) = outbox(people, MISSING_TOPIC)
    assert told.payload["missing"] == [A, B, C]
    assert told.payload["gos_needed"] == 3  # unanimous
    # nobody on Slack: the region's channel hears it
    assert told.payload["to"] == {"kind": "channel", "slack_channel": "#launch-eu"}
    assert audit(people, "approval_reminders.queued")[0].after == {"reminded": 3, "told": 1}


def test_nothing_when_everyone_voted_the_quorum_holds_or_the_launch_or_region_stopped(people, actor):
    everyone = launch(people, actor, slug="everyone")[1]
    for who in (A, B, C):
        vote(people, everyone.id, who, kind=Vote.NO_GO if who == C else Vote.GO)
    quorum_met = launch(people, actor, slug="quorum-met", quorum=1)[1]
    halted_launch, _ = launch(people, actor, slug="halted")
    halt_region(session=people, rollout_id=rollout_id(people, halted_launch), reason="incident", actor=actor)
    cancelled_launch, _ = launch(people, actor, slug="cancelled")
    people.get(Launch, cancelled_launch.id).status = LaunchStatus.CANCELLED
    people.get(Gate, launch(people, actor, slug="passed")[1].id).status = GateStatus.PASSED
    people.commit()
    vote(people, quorum_met.id, A)  # enough; the gate waits for its date (approval is judged last)
    assert rows(people, select(Gate).where(Gate.id == quorum_met.id))[0].status is GateStatus.OPEN

    assert remind(people, actor, IN_WINDOW) == ApprovalReminderRun(0, 0)
    assert outbox(people, REMINDER_TOPIC) == []
    assert outbox(people, MISSING_TOPIC) == []
    assert audit(people, "approval_reminders.queued") == []


def test_a_naive_time_or_an_empty_window_is_refused(seeded, actor):
    with pytest.raises(InvalidInput, match="timezone"):
        queue_approval_reminders(session=seeded, now=datetime(2027, 3, 10), actor=actor)
    with pytest.raises(InvalidInput, match="positive"):
        queue_approval_reminders(session=seeded, now=IN_WINDOW, actor=actor, remind_before=timedelta(0))
