"""Approvers vote in Slack, end to end over real HTTP on SQLite and PostgreSQL: the request goes to
each approver as a DM through the real Slack transport to the fake Slack Web API, with Block Kit
that slack_sdk's models parse; approvers click Go, Conditional Go and No-Go as signed Slack
requests (the modals through the recorder standing in for views.open); the gate passes only when
its named approvers themselves said Go; a reopened blocking item voids the votes and the DMs'
tally follows in place. Effects are awaited by polling with a deadline, never slept."""

from datetime import UTC, datetime, timedelta

import pytest
from slack_sdk.models.blocks import Block
from sqlmodel import Session, select

from api.slack import get_responder, get_view_opener
from notifications.delivery.slack_delivery import dispatch_notifications
from notifications.ids import ActionId, GateRef, InputId
from orchestrator.core.enums import GateKind, GateStatus, Phase, Role, Vote
from orchestrator.core.models import ChecklistItem, Decision, Gate
from orchestrator.core.settings import reset_settings
from orchestrator.directory.seed import MemberSeed
from orchestrator.directory.service import upsert_member
from orchestrator.items.service import check_item, reopen_item
from orchestrator.launches.service import kick_off_launch
from tests.support.api import served_with_fakes
from tests.support.factories import item, make_launch
from tests.support.fake_slack import transport
from tests.support.flows import wait_for
from tests.support.slack_http import SECRET, WAIT, Recorder, SlackClient, block_action

ANA, BEN, OWNER_ID = "U0ANA0001", "U0BEN0001", "U0OWNER01"
A, B = "ana@example.com", "ben@example.com"


@pytest.fixture
def voting(request, monkeypatch, seeded, actor, engine):
    """Approvers A and B (linked to Slack users) on a GA launch whose date has passed, with one
    blocking item open; the live server with its views.open / response_url seams recorded."""
    monkeypatch.setenv("LAUNCHDECK_SLACK_SIGNING_SECRET", SECRET)
    reset_settings()
    for email, slack_id, role in (
        (A, ANA, Role.APPROVER),
        (B, BEN, Role.APPROVER),
        ("owner@example.com", OWNER_ID, Role.PRODOPS),
    ):
        seed = MemberSeed(email=email, name=email.split("@")[0], role=role, slack_user_id=slack_id)
        upsert_member(session=seeded, seed=seed, actor=actor)
    past = datetime.now(UTC).replace(microsecond=0) - timedelta(days=1)
    launch = make_launch(
        seeded, actor, dates={Phase.GA: past}, approvers=[A, B], items=[item("positioning", phase=Phase.GA)]
    )
    kick_off_launch(session=seeded, launch_id=launch.id, actor=actor)
    recorder = Recorder()
    base = served_with_fakes(request, monkeypatch, {get_view_opener: lambda: recorder, get_responder: lambda: recorder})
    (gate,) = [g for g in seeded.exec(select(Gate)).all() if g.kind == GateKind.APPROVAL]
    (blocker,) = seeded.exec(select(ChecklistItem.id)).all()
    yield SlackClient(base, recorder, {}, launch.slug), gate.id, blocker
    reset_settings()


def deliver(engine, fake):
    with Session(engine) as session:
        return dispatch_notifications(
            session=session, transport=transport(fake), now=datetime.now(UTC), leadership_channel="#leaders"
        )


def dms(fake):
    """The approvers' DMs as the fake holds them now: {DM channel: blocks}."""
    return {
        channel: next(iter(messages)).blocks
        for channel, messages in fake.messages.items()
        if channel.startswith("D") and messages
    }


def votes(engine, gate_id):
    with Session(engine) as session:
        return {
            d.voter: (d.vote, d.voided_at is not None)
            for d in session.exec(select(Decision).where(Decision.gate_id == gate_id))
        }


def status(engine, gate_id):
    with Session(engine) as session:
        return session.get(Gate, gate_id).status


def vote_click(user, action, gate_id):
    return block_action(user, action, value=GateRef(gate_id=gate_id).to_value())


def vote_submission(user, callback, gate_id, values):
    return {
        "type": "view_submission",
        "user": {"id": user},
        "view": {
            "callback_id": callback,
            "private_metadata": GateRef(gate_id=gate_id).to_value(),
            "state": {"values": values},
        },
    }


def test_approvers_vote_in_slack_and_the_gate_passes_only_on_their_own_gos(voting, fake_slack, seeded, actor, engine):
    client, gate_id, blocker = voting
    check_item(session=seeded, item_id=blocker, actor=actor)  # the approval is now the last condition

    deliver(engine, fake_slack)
    asked = dms(fake_slack)
    assert len(asked) == 2  # one DM per approver, opened with conversations.open
    for blocks in asked.values():
        parsed = [Block.parse(block) for block in blocks]  # valid Block Kit for slack_sdk
        assert all(block is not None for block in parsed)
        buttons = [e["action_id"] for b in blocks if b["type"] == "actions" for e in b["elements"]]
        assert buttons == [ActionId.VOTE_GO, ActionId.VOTE_CONDITIONAL, ActionId.VOTE_NO_GO]
        assert "Not voted: ana@example.com, ben@example.com" in str(blocks)

    assert client.interact(vote_click(ANA, ActionId.VOTE_GO, gate_id)).status_code == 200
    wait_for(lambda: A in votes(engine, gate_id), timeout=WAIT)
    assert "Your Go on" in client.recorder.wait_for_responses(1)[0]["text"]
    assert status(engine, gate_id) is GateStatus.OPEN  # B has not voted: unanimous

    deliver(engine, fake_slack)
    assert all("Go: ana@example.com" in str(blocks) for blocks in dms(fake_slack).values())  # updated in place

    # The blocking item reopens: A's Go is void, and B's No-Go goes through its modal.
    reopen_item(session=seeded, item_id=blocker, actor=actor, reason="copy changed")
    assert votes(engine, gate_id)[A] == (Vote.GO, True)
    client.interact(vote_click(BEN, ActionId.VOTE_NO_GO, gate_id))
    (opened,) = client.recorder.wait_for_views(1)
    assert opened["view"]["callback_id"] == ActionId.VOTE_NO_GO_SUBMIT
    reason = {
        InputId.VOTE_REASON.value: {InputId.VOTE_REASON.value: {"type": "plain_text_input", "value": "copy not final"}}
    }
    when = {
        InputId.VOTE_REEVALUATE.value: {
            InputId.VOTE_REEVALUATE.value: {"type": "datepicker", "selected_date": "2031-01-06"}
        }
    }
    answer = client.interact(vote_submission(BEN, ActionId.VOTE_NO_GO_SUBMIT, gate_id, reason | when))
    assert answer.json()["response_action"] == "update"
    assert votes(engine, gate_id)[B] == (Vote.NO_GO, False)

    # B changes to a Conditional Go naming who accepts the risk; A votes again: the gate passes.
    check_item(session=seeded, item_id=blocker, actor=actor)
    conditions = {
        InputId.VOTE_CONDITIONS.value: {
            InputId.VOTE_CONDITIONS.value: {"type": "plain_text_input", "value": "final copy by Monday"}
        },
        InputId.VOTE_RISK_OWNER.value: {
            InputId.VOTE_RISK_OWNER.value: {"type": "users_select", "selected_user": OWNER_ID}
        },
    }
    client.interact(vote_submission(BEN, ActionId.VOTE_CONDITIONAL_SUBMIT, gate_id, conditions))
    assert status(engine, gate_id) is GateStatus.OPEN
    client.interact(vote_click(ANA, ActionId.VOTE_GO, gate_id))
    wait_for(lambda: status(engine, gate_id) is GateStatus.PASSED, timeout=WAIT)
    with Session(engine) as session:
        risk = session.exec(select(Decision.risk_accepted_by).where(Decision.voter == B)).one()
    assert risk == "owner@example.com"

    deliver(engine, fake_slack)
    for blocks in dms(fake_slack).values():
        assert "The gate has passed" in str(blocks)
        assert not [b for b in blocks if b["type"] == "actions"]  # the buttons are gone


def test_refusals_come_back_as_plain_sentences_and_change_nothing(voting, engine):
    client, gate_id, _blocker = voting

    client.interact(vote_click("U0OWNER01", ActionId.VOTE_GO, gate_id))  # prodops, not an approver
    (refused,) = client.recorder.wait_for_responses(1)
    assert (
        "Only this gate's approvers vote (ana@example.com, ben@example.com); owner@example.com is not"
        in refused["text"]
    )
    client.interact(vote_click("U0NOBODY9", ActionId.VOTE_NO_GO, gate_id))
    assert "launchdeck does not know Slack user" in client.recorder.wait_for_responses(2)[1]["text"]
    assert client.recorder.views == []
    assert votes(engine, gate_id) == {}
