"""Prod ops in Slack over real HTTP, on SQLite and PostgreSQL: ``/launch kickoff|halt|resume|
rollback`` as signed slash commands open their confirmation modal through the real Slack transport
against the fake Slack Web API (views.open, parsed with slack_sdk's ``View``); the signed
``view_submission`` carries the action out as the Slack user's member, audited with source slack,
closes the modal and confirms through the command's response_url. Refusals come back in plain
words before any modal opens, and the service's own role check refuses a submission by someone
whose role was taken away after the modal opened, writing nothing."""

from urllib.parse import urlencode

import pytest
from slack_sdk.models.views import View
from sqlmodel import Session, select

from api.slack import get_responder, get_view_opener
from notifications.ids import ActionId, InputId, OpsRef
from orchestrator.core.enums import LaunchStatus, Role, RolloutState, Source
from orchestrator.core.models import AuditEvent, Launch, Outbox, RegionRollout
from orchestrator.core.settings import reset_settings
from orchestrator.directory.seed import MemberSeed
from orchestrator.directory.service import upsert_member
from orchestrator.launches.service import kick_off_launch
from tests.support.api import served_with_fakes
from tests.support.db import rollout_id
from tests.support.factories import make_launch, past_dates
from tests.support.fake_slack import transport
from tests.support.flows import wait_for
from tests.support.slack_http import MARKETER, PRODOPS, SECRET, STRANGER, WAIT, Recorder, SlackClient

SLUG = "acme-assistant"
RESPONSE_URL = "https://hooks.slack.com/commands/T0TEAM/42/abc"
PAT = "pat@example.com"


@pytest.fixture
def ops(request, monkeypatch, seeded, actor, fake_slack):
    """A draft two-region launch (EU, NA), a prodops and a member linked to Slack users, and the
    live server opening modals through the real transport on the fake Slack (response_url recorded)."""
    monkeypatch.setenv("LAUNCHDECK_SLACK_SIGNING_SECRET", SECRET)
    reset_settings()
    for email, team, role, slack_id in [
        (PAT, None, Role.PRODOPS, PRODOPS),
        ("mia@example.com", "marketing", Role.MEMBER, MARKETER),
    ]:
        seed = MemberSeed(email=email, name=email.split("@")[0], team=team, role=role, slack_user_id=slack_id)
        upsert_member(session=seeded, seed=seed, actor=actor)
    launch = make_launch(seeded, actor, slug=SLUG, regions=("EU", "NA"), dates=past_dates())
    recorder = Recorder()
    base = served_with_fakes(
        request, monkeypatch, {get_view_opener: lambda: transport(fake_slack), get_responder: lambda: recorder}
    )
    yield SlackClient(base, recorder, {}, SLUG), launch
    reset_settings()


def command(client, text, user=PRODOPS):
    form = {
        "command": "/launch",
        "text": text,
        "user_id": user,
        "team_id": "T0TEAM",
        "trigger_id": f"trigger-{user}",
        "response_url": RESPONSE_URL,
    }
    return client.post("/slack/commands", urlencode(form).encode())


def opened(fake, count):
    """The modals views.open received so far, once there are ``count``, parsed by slack_sdk."""
    wait_for(lambda: len(fake.calls_to("views.open")) >= count, timeout=WAIT)
    views = [call.body["view"] for call in fake.calls_to("views.open")]
    for view in views:
        View(**view).validate_json()  # valid for Slack's modal schema and limits
    return views


def submit(client, view, reason=None, user=PRODOPS):
    values = {}
    if reason is not None:
        field = InputId.OPS_REASON.value
        values = {field: {field: {"type": "plain_text_input", "value": reason}}}
    payload = {
        "type": "view_submission",
        "user": {"id": user},
        "view": {
            "callback_id": view["callback_id"],
            "private_metadata": view["private_metadata"],
            "state": {"values": values},
        },
    }
    return client.interact(payload)


def state(engine, rid):
    with Session(engine) as session:
        return session.get(RegionRollout, rid).state


def events(engine, action):
    with Session(engine) as session:
        return [
            (e.actor, e.source, e.reason)
            for e in session.exec(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id))
        ]


def written(engine):
    with Session(engine) as session:
        return len(session.exec(select(AuditEvent.id)).all()), len(session.exec(select(Outbox.id)).all())


def test_prodops_kick_off_halt_resume_and_roll_back_through_confirmation_modals(ops, fake_slack, seeded, engine):
    client, launch = ops
    eu = rollout_id(seeded, launch, "EU")

    answer = command(client, f"kickoff {SLUG}")
    assert answer.status_code == 200
    assert answer.content == b""  # the modal opens after the acknowledgement
    (kickoff,) = opened(fake_slack, 1)
    assert kickoff["callback_id"] == ActionId.OPS_CONFIRM
    assert "Kick off Acme Assistant?" in str(kickoff["blocks"])
    assert "*EU* Europe: opens Internal" in str(kickoff["blocks"])
    assert "*NA*" in str(kickoff["blocks"])
    assert not [block for block in kickoff["blocks"] if block["type"] == "input"]  # kickoff takes no reason
    assert OpsRef.from_value(kickoff["private_metadata"]).response_url == RESPONSE_URL
    done = submit(client, kickoff)
    assert done.status_code == 200
    assert done.content == b""  # the modal closes
    assert "You kicked off *Acme Assistant*" in client.recorder.wait_for_responses(1)[0]["text"]
    with Session(engine) as session:
        assert session.get(Launch, launch.id).status is LaunchStatus.ACTIVE
    assert events(engine, "launch.kicked_off") == [(PAT, Source.SLACK, None)]

    command(client, f"halt {SLUG} eu")
    halt = opened(fake_slack, 2)[1]
    assert "Halt Acme Assistant in EU?" in str(halt["blocks"])
    assert "*EU* Europe: ready · Internal · exposure 0%" in str(halt["blocks"])  # no items: its gates passed
    (reason,) = [block for block in halt["blocks"] if block["type"] == "input"]
    assert reason["element"]["multiline"] is True
    assert reason["element"]["max_length"] == 500
    refused = submit(client, halt, reason="   ")
    assert refused.json() == {
        "response_action": "errors",
        "errors": {
            InputId.OPS_REASON.value: ":warning: Nothing was changed: reason: say why (it is kept in the "
            "audit ledger and shown to the teams)"
        },
    }
    assert state(engine, eu) is RolloutState.READY
    assert submit(client, halt, reason="Error rate above 2% (INC-42)").content == b""
    assert state(engine, eu) is RolloutState.HALTED
    assert events(engine, "rollout.halted") == [(PAT, Source.SLACK, "Error rate above 2% (INC-42)")]
    assert "You halted *Acme Assistant* in *EU*" in client.recorder.wait_for_responses(2)[1]["text"]

    command(client, f"resume {SLUG} EU")
    resume = opened(fake_slack, 3)[2]
    assert "Stopped because: Error rate above 2% (INC-42)" in str(resume["blocks"])
    submit(client, resume, reason="INC-42 mitigated")
    assert state(engine, eu) is RolloutState.READY
    assert events(engine, "rollout.resumed") == [(PAT, Source.SLACK, "INC-42 mitigated")]

    command(client, f"rollback {SLUG} EU")
    rollback = opened(fake_slack, 4)[3]
    submit(client, rollback, reason="Checkout failures")
    assert state(engine, eu) is RolloutState.ROLLED_BACK
    assert events(engine, "rollout.rolled_back") == [(PAT, Source.SLACK, "Checkout failures")]
    texts = [response["text"] for response in client.recorder.wait_for_responses(4)]
    assert "it is ready now" in texts[2]
    assert "exposure is 0%" in texts[3]
    assert {response["response_url"] for response in client.recorder.responses} == {RESPONSE_URL}


def test_refusals_are_plain_sentences_before_any_modal_and_the_service_decides_at_submit(
    ops, fake_slack, seeded, actor, engine
):
    client, launch = ops
    eu = rollout_id(seeded, launch, "EU")

    def refused(text, user=PRODOPS):
        answer = command(client, text, user)
        assert answer.status_code == 200
        assert answer.json()["response_type"] == "ephemeral"
        return answer.json()["text"]

    assert refused(f"halt {SLUG} EU", MARKETER).startswith(
        ":no_entry: Only prod ops and admins can halt a region; ask product ops (<@U0PRODOPS>) to do it."
    )
    assert "launchdeck does not know Slack user <@U0NOBODY9>" in refused(f"kickoff {SLUG}", STRANGER)
    assert refused("kickoff no-such-launch") == ":grey_question: Launch 'no-such-launch' does not exist."
    assert refused(f"halt {SLUG}").startswith(":warning: Say which region: `/launch halt acme-assistant <region>`")
    assert "(its regions: EU, NA) 'XX' does not exist" in refused(f"halt {SLUG} xx")
    assert "cannot halt region rollout while it is planned" in refused(f"halt {SLUG} EU")  # not kicked off
    assert "halt|resume|rollback <launch-slug> <region>" in refused("help")  # the help lists them
    assert fake_slack.calls_to("views.open") == []

    # The modal opens for prodops; their role is taken away before they submit: the service refuses.
    def demote(role):
        seed = MemberSeed(email=PAT, name="pat", role=role, slack_user_id=PRODOPS)
        upsert_member(session=seeded, seed=seed, actor=actor)

    command(client, f"kickoff {SLUG}")
    (kickoff,) = opened(fake_slack, 1)
    demote(Role.MEMBER)
    before = written(engine)
    answer = submit(client, kickoff).json()
    assert answer["response_action"] == "update"  # the modal has no input: the refusal replaces it
    assert "Role member may not kick off a launch" in str(answer["view"]["blocks"])
    assert written(engine) == before
    with Session(engine) as session:
        assert session.get(Launch, launch.id).status is LaunchStatus.DRAFT

    demote(Role.PRODOPS)
    kick_off_launch(session=seeded, launch_id=launch.id, actor=actor)
    assert "already kicked off" in refused(f"kickoff {SLUG}")
    assert "acme-assistant EU is already running (ready): nothing to resume" in refused(f"resume {SLUG} EU")
    command(client, f"halt {SLUG} EU")
    halt = opened(fake_slack, 2)[1]
    demote(Role.MEMBER)
    before = written(engine)
    answer = submit(client, halt, reason="incident")
    assert answer.json()["errors"] == {
        InputId.OPS_REASON.value: ":no_entry: Role member may not halt a region; allowed roles: admin, prodops. "
        "Nothing was changed."
    }
    assert state(engine, eu) is RolloutState.READY
    assert written(engine) == before  # no audit event, no outbox row
    assert client.recorder.responses == []
