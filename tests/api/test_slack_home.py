"""The App Home, end to end over real HTTP on SQLite and PostgreSQL: signed ``app_home_opened``
events to the served app, ``views.publish`` through the real Slack transport to the fake Slack Web
API, every published Home parsed by slack_sdk's models. An approver sees the vote waiting for them
with the approval message's own buttons, a marketing member their team's items with Done, the
launch owner their launch; a stranger is told whom to ask. Clicks on the Home take the messages'
interaction path, and the next delivery pass republishes the Homes they changed, only for people
who opened theirs. Effects are awaited by polling with a deadline, never slept."""

import json
import time
from datetime import UTC, datetime, timedelta

import pytest
from slack_sdk.models.views import View
from sqlmodel import Session, select

from api.slack import get_responder, get_view_opener, get_view_publisher
from notifications.delivery.slack_delivery import dispatch_notifications
from notifications.ids import ActionId, GateRef, ItemRef
from orchestrator.core.actors import Actor
from orchestrator.core.enums import GateKind, GateStatus, ItemStatus, OutboxStatus, Phase, Role, Source
from orchestrator.core.models import ChecklistItem, Decision, Gate, HomeView, Outbox, RegionRollout
from orchestrator.core.settings import reset_settings
from orchestrator.core.topics import Topic
from orchestrator.directory.seed import MemberSeed
from orchestrator.directory.service import upsert_member
from orchestrator.gates.approvers import change_approvers
from orchestrator.launches.service import kick_off_launch
from tests.support.api import served_with_fakes
from tests.support.factories import item, make_launch
from tests.support.fake_slack import transport
from tests.support.flows import wait_for
from tests.support.slack_http import MARKETER, SECRET, STRANGER, WAIT, Recorder, SlackClient, block_action, done

ANA, BEN, OWNER_ID = "U0ANA0001", "U0BEN0001", "U0OWNER01"
A, B = "ana@example.com", "ben@example.com"
VOTE_BUTTONS = [ActionId.VOTE_GO, ActionId.VOTE_CONDITIONAL, ActionId.VOTE_NO_GO]


@pytest.fixture
def home(request, monkeypatch, seeded, actor, engine, fake_slack):
    """Approvers A and B, marketer Mia and the prodops owner, all linked to Slack users, on a GA
    launch whose date has passed with one blocking marketing item open; the served app publishes
    Homes to the fake Slack and records views.open / response_url."""
    monkeypatch.setenv("LAUNCHDECK_SLACK_SIGNING_SECRET", SECRET)
    monkeypatch.setenv("LAUNCHDECK_PUBLIC_URL", "https://launchdeck.example.com")
    reset_settings()
    people = (
        (A, ANA, Role.APPROVER, None),
        (B, BEN, Role.APPROVER, None),
        ("mia@example.com", MARKETER, Role.MEMBER, "marketing"),
        ("owner@example.com", OWNER_ID, Role.PRODOPS, None),
    )
    for email, slack_id, role, team in people:
        seed = MemberSeed(email=email, name=email.split("@")[0], role=role, team=team, slack_user_id=slack_id)
        upsert_member(session=seeded, seed=seed, actor=actor)
    past = datetime.now(UTC).replace(microsecond=0) - timedelta(days=1)
    launch = make_launch(
        seeded, actor, dates={Phase.GA: past}, approvers=[A, B], items=[item("positioning", phase=Phase.GA)]
    )
    kick_off_launch(session=seeded, launch_id=launch.id, actor=actor)
    recorder = Recorder()
    base = served_with_fakes(
        request,
        monkeypatch,
        {
            get_view_opener: lambda: recorder,
            get_responder: lambda: recorder,
            get_view_publisher: lambda: transport(fake_slack),
        },
    )
    (gate,) = [g for g in seeded.exec(select(Gate)).all() if g.kind == GateKind.APPROVAL]
    (positioning,) = seeded.exec(select(ChecklistItem)).all()
    yield SlackClient(base, recorder, {}, launch.slug), gate, positioning
    reset_settings()


def opened(user, *, tab="home", **event):
    return json.dumps(
        {
            "type": "event_callback",
            "team_id": "T0TEAM",
            "api_app_id": "A0LAUNCH",
            "event": {"type": "app_home_opened", "user": user, "channel": "D0HOME", "tab": tab, **event},
            "event_id": f"Ev{user}{time.monotonic_ns()}",
            "event_time": int(time.time()),
        }
    ).encode()


def open_home(client, user, fake, *, published=1):
    """Open ``user``'s Home, and wait for its ``published``-th views.publish."""
    answer = client.post("/slack/events", opened(user), content_type="application/json")
    assert answer.status_code == 200
    assert answer.content == b""
    return wait_for(lambda: _home(fake, user, published), timeout=WAIT)


def _home(fake, user, count):
    calls = [call for call in fake.calls_to("views.publish") if call.body.get("user_id") == user]
    return calls[-1].body["view"] if len(calls) >= count else None


def parsed(view):
    """The view as slack_sdk's models read it (raises on anything Slack would refuse), and its text."""
    model = View(**view)
    model.validate_json()
    assert model.type == "home"
    assert len(view["blocks"]) <= 100
    return json.dumps(view)


def actions(view):
    return [
        (element["action_id"], element["value"])
        for block in view["blocks"]
        for element in block.get("elements", []) + ([block["accessory"]] if "accessory" in block else [])
        if element.get("type") == "button"
    ]


def deliver(engine, fake):
    with Session(engine) as session:
        return dispatch_notifications(
            session=session, transport=transport(fake), now=datetime.now(UTC), leadership_channel="#leaders"
        )


def test_each_person_sees_their_home_and_it_follows_their_clicks(home, fake_slack, engine):
    client, gate, positioning = home
    assert gate.status is GateStatus.OPEN
    gate_value = GateRef(gate_id=gate.id).to_value()

    ana = open_home(client, ANA, fake_slack)
    text = parsed(ana)
    assert "Waiting for your vote* (1)" in text
    assert "Acme Assistant" in text
    assert "*EU* enters *GA*" in text
    assert actions(ana) == [(action.value, gate_value) for action in VOTE_BUTTONS]  # the DM's own buttons

    mia = open_home(client, MARKETER, fake_slack)
    text = parsed(mia)
    assert "Open items of Product marketing and yours* (1)" in text
    assert "Positioning" in text
    assert "blocking" in text
    done_value = ItemRef(item_id=positioning.id, version=positioning.version).to_value()
    assert actions(mia) == [(ActionId.ITEM_DONE.value, done_value)]
    assert "Launches you own" not in text  # not product ops

    owner = parsed(open_home(client, OWNER_ID, fake_slack))
    assert "Launches you own* (1)" in owner
    assert "`acme-assistant`" in owner
    assert "*EU*: gated (GA)" in owner
    assert "next gate: GA" in owner

    stranger = parsed(open_home(client, STRANGER, fake_slack))
    assert "not in launchdeck's directory" in stranger
    assert f"<@{OWNER_ID}>" in stranger
    assert STRANGER in stranger

    # Ana clicks Go on her Home: the message's path records it; the next pass republishes her Home.
    assert client.interact(block_action(ANA, ActionId.VOTE_GO, value=gate_value)).status_code == 200
    wait_for(lambda: _votes(engine, gate.id) == [A], timeout=WAIT)
    mia_clicks = client.interact(done(MARKETER, positioning.id, positioning.version))
    assert mia_clicks.status_code == 200
    wait_for(lambda: _status(engine, positioning.id) is ItemStatus.DONE, timeout=WAIT)
    assert deliver(engine, fake_slack).homes == 3  # Ana, Mia and the owner, once each; not Ben (never opened it)
    ana = parsed(_home(fake_slack, ANA, 2))
    assert "Waiting for your vote* (0)" in ana
    assert "Nothing waits for your vote" in ana
    assert actions(_home(fake_slack, ANA, 2)) == []
    assert "Nothing open for you or your team" in parsed(_home(fake_slack, MARKETER, 2))
    assert _home(fake_slack, BEN, 1) is None
    assert deliver(engine, fake_slack).homes == 0  # nothing changed since


def test_only_a_signed_home_opening_of_a_person_publishes_a_home(home, fake_slack, engine):
    client, gate, _item = home
    with Session(engine) as session:
        launch_id = session.exec(select(RegionRollout.launch_id).where(RegionRollout.id == gate.rollout_id)).one()
    body = opened(ANA)
    assert client.post("/slack/events", body, content_type="application/json", secret="wrong").status_code == 401
    assert client.post("/slack/events", opened(""), content_type="application/json").status_code == 400
    assert client.post("/slack/events", b"{not json", content_type="application/json").status_code == 400
    for ignored in (opened(ANA, tab="messages"), opened(ANA, bot_id="B0BOT")):
        assert client.post("/slack/events", ignored, content_type="application/json").status_code == 200
    message = json.dumps({"type": "event_callback", "event": {"type": "message", "user": ANA, "text": "hi"}})
    assert client.post("/slack/events", message.encode(), content_type="application/json").status_code == 200
    assert fake_slack.calls_to("views.publish") == []  # none of those queued a publish
    with Session(engine) as session:
        assert session.exec(select(HomeView)).all() == []
    assert deliver(engine, fake_slack).homes == 0  # nobody opened a Home: nothing to republish

    ben = parsed(open_home(client, BEN, fake_slack))
    assert [call.body["user_id"] for call in fake_slack.calls_to("views.publish")] == [BEN]
    assert "Waiting for your vote* (1)" in ben

    # Product ops take Ben off the gate: no other topic says so, so a home.refresh row does.
    prodops = Actor(name="owner@example.com", source=Source.API, role=Role.PRODOPS)
    with Session(engine) as session:
        change_approvers(
            session=session, launch_id=launch_id, phase=Phase.GA, approvers=[A], actor=prodops, reason="Ben is away"
        )
    assert deliver(engine, fake_slack).homes == 1
    assert "Nothing waits for your vote" in parsed(_home(fake_slack, BEN, 2))
    with Session(engine) as session:
        (refresh,) = session.exec(select(Outbox).where(Outbox.topic == Topic.HOME_REFRESH)).all()
    assert refresh.status is OutboxStatus.SENT
    assert refresh.payload == {"emails": [A, B]}


def _votes(engine, gate_id):
    with Session(engine) as session:
        return list(session.exec(select(Decision.voter).where(Decision.gate_id == gate_id)))


def _status(engine, item_id):
    with Session(engine) as session:
        return session.get(ChecklistItem, item_id).status
