"""Approval reminders delivered through the real WebClient to the fake Slack Web API: the approver
who has not voted gets a DM with the vote buttons under a plain reminder line, prod ops (the
launch owner) a DM naming who is missing; the reminder is updated in place after a vote, like the
request; every block parses with slack_sdk's models. SQLite and PostgreSQL."""

from datetime import UTC, datetime, timedelta

import pytest
from freezegun import freeze_time
from slack_sdk.models.blocks import ActionsBlock, Block, SectionBlock
from sqlmodel import select

from notifications.delivery.approval_reminders import reminder_envelopes
from notifications.delivery.slack_delivery import dispatch_notifications
from notifications.ids import ActionId
from orchestrator.core.enums import GateKind, Phase, Role, Vote
from orchestrator.core.models import Gate, Outbox
from orchestrator.directory.seed import MemberSeed
from orchestrator.directory.service import upsert_member
from orchestrator.gates.approvals import cast_vote
from orchestrator.gates.reminders import MISSING_TOPIC, queue_approval_reminders
from orchestrator.launches.service import kick_off_launch
from tests.support.factories import approver_in_person, make_launch
from tests.support.fake_slack import transport

A, B, C, OWNER = "ana@example.com", "ben@example.com", "cho@example.com", "owner@example.com"
PHASE_AT = datetime(2027, 3, 11, 9, 0, tzinfo=UTC)
NOW = PHASE_AT - timedelta(hours=20)  # 2027-03-10 13:00: the phase is tomorrow


@pytest.fixture
def waiting(seeded, actor):
    """A GA gate of A, B and C (quorum 2) due tomorrow; A said Go; C is not on Slack."""
    for email, slack_id, role in ((A, "U0ANA0001", Role.APPROVER), (B, "U0BEN0001", Role.APPROVER)):
        upsert_member(
            session=seeded, seed=MemberSeed(email=email, name=email[:3], role=role, slack_user_id=slack_id), actor=actor
        )
    upsert_member(session=seeded, seed=MemberSeed(email=C, name="cho", role=Role.APPROVER), actor=actor)
    upsert_member(
        session=seeded,
        seed=MemberSeed(email=OWNER, name="own", role=Role.PRODOPS, slack_user_id="U0OWNER01"),
        actor=actor,
    )
    with freeze_time(PHASE_AT - timedelta(days=5)):
        launch = make_launch(seeded, actor, dates={Phase.GA: PHASE_AT}, approvers=[A, B, C], quorum=2)
        kick_off_launch(session=seeded, launch_id=launch.id, actor=actor)
    (gate,) = seeded.exec(select(Gate).where(Gate.kind == GateKind.APPROVAL)).all()
    with freeze_time(NOW - timedelta(hours=1)):
        cast_vote(session=seeded, gate_id=gate.id, vote=Vote.GO, actor=approver_in_person(seeded, A))
    with freeze_time(NOW):
        queue_approval_reminders(session=seeded, now=NOW, actor=actor)
    return gate.id


def texts(blocks):
    return " ".join(str(block.get("text", {}).get("text", "")) for block in blocks)


def test_the_approver_and_prod_ops_get_their_dms_with_valid_blocks(waiting, seeded, fake_slack):
    with freeze_time(NOW):
        dispatch_notifications(session=seeded, transport=transport(fake_slack), now=NOW, leadership_channel="#l")

    messages = fake_slack.messages
    # The approval request went out three days before; the reminder only to B: A voted, C has no Slack user.
    (ben,) = [message for message in messages["DU0BEN0001"] if message.text.startswith("Reminder")]
    assert [m.text for m in messages["DU0ANA0001"] if m.text.startswith("Reminder")] == []
    assert len(messages["DU0BEN0001"]) == 2
    assert ben.text == "Reminder: Acme Assistant EU GA is due tomorrow (2027-03-11 09:00 UTC) and still needs your vote"
    parsed = [Block.parse(block) for block in ben.blocks]
    assert isinstance(parsed[0], SectionBlock)
    assert parsed[0].text.text.startswith(":alarm_clock: Reminder: Acme Assistant EU GA is due tomorrow")
    (buttons,) = [block for block in parsed if isinstance(block, ActionsBlock)]
    assert [element.action_id for element in buttons.elements] == [
        ActionId.VOTE_GO,
        ActionId.VOTE_CONDITIONAL,
        ActionId.VOTE_NO_GO,
    ]
    assert "Not voted: ben@example.com, cho@example.com" in texts(ben.blocks)

    (owner,) = messages["DU0OWNER01"]
    expected = (
        "Acme Assistant EU GA on 2027-03-11: waiting for votes from ben@example.com, cho@example.com (needs 1 more Go)"
    )
    assert owner.text == expected
    parsed = [Block.parse(block) for block in owner.blocks]
    assert all(block is not None for block in parsed)
    assert parsed[0].text.text == expected
    assert "2027-03-11 09:00 UTC" in str(owner.blocks[1])

    # B votes from it: the reminder is updated in place, like the request, and stops asking.
    with freeze_time(NOW + timedelta(minutes=5)):
        cast_vote(session=seeded, gate_id=waiting, vote=Vote.GO, actor=approver_in_person(seeded, B))
    dispatch_notifications(
        session=seeded, transport=transport(fake_slack), now=NOW + timedelta(minutes=5), leadership_channel="#l"
    )
    (updated,) = [message for message in fake_slack.messages["DU0BEN0001"] if message.ts == ben.ts]
    assert updated.edits == 1
    assert not updated.text.startswith("Reminder")
    assert "Go: ana@example.com, ben@example.com" in texts(updated.blocks)
    assert len(fake_slack.messages["DU0BEN0001"]) == 2  # nothing new posted


def test_a_reminder_whose_approver_voted_since_says_nothing_and_ops_fall_back_to_the_region_channel(waiting, seeded):
    with freeze_time(NOW):
        cast_vote(session=seeded, gate_id=waiting, vote=Vote.GO, actor=approver_in_person(seeded, B))
    (ben,) = [row for row in seeded.exec(select(Outbox)).all() if row.payload.get("approver") == B]
    assert reminder_envelopes(seeded, row=ben, now=NOW) == []

    (told,) = seeded.exec(select(Outbox).where(Outbox.topic == MISSING_TOPIC)).all()
    told.payload = {**told.payload, "to": {"kind": "channel"}, "no_gos": [C]}
    (envelope,) = reminder_envelopes(seeded, row=told, now=NOW)
    assert envelope.destination.channel == "#launch-eu"
    (message,) = envelope.messages
    assert message.text.endswith("(needs 1 more Go); No-Go from cho@example.com holds it")
    assert all(Block.parse(block) is not None for block in message.blocks)
