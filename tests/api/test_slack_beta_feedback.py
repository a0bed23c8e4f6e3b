"""Beta feedback from Slack over real HTTP with Slack-signed requests: `/launch feedback` and the
message shortcut open the modal (through the recorder standing in for views.open), and its
submission logs a report audited as source "slack"; bad input stays in the modal under its field."""

import json
from urllib.parse import urlencode

import pytest
from sqlmodel import Session, select

from api.slack import get_responder, get_view_opener
from notifications.ids import ActionId, InputId
from orchestrator.core.enums import FeedbackType, Role, Source
from orchestrator.core.models import AuditEvent, BetaFeedback
from orchestrator.core.settings import reset_settings
from orchestrator.directory.seed import MemberSeed
from orchestrator.directory.service import upsert_member
from tests.support.api import served_with_fakes
from tests.support.factories import make_launch
from tests.support.slack_http import SECRET, Recorder, SlackClient, feedback_submission, initial, shortcut

MARKETER, LEADER, STRANGER = "U0MARKET1", "U0LEADER1", "U0NOBODY9"


@pytest.fixture
def slack(request, monkeypatch, seeded, actor):
    monkeypatch.setenv("LAUNCHDECK_SLACK_SIGNING_SECRET", SECRET)
    reset_settings()
    for email, team, role, slack_id in [
        ("mia@example.com", "marketing", Role.MEMBER, MARKETER),
        ("vp@example.com", None, Role.LEADERSHIP, LEADER),
    ]:
        seed = MemberSeed(email=email, name=email.split("@")[0], team=team, role=role, slack_user_id=slack_id)
        upsert_member(session=seeded, seed=seed, actor=actor)
    launch = make_launch(seeded, actor, slug="acme-assistant")
    recorder = Recorder()
    base = served_with_fakes(request, monkeypatch, {get_view_opener: lambda: recorder, get_responder: lambda: recorder})
    yield SlackClient(base, recorder, {}, launch.slug)
    reset_settings()


def reports(engine) -> list[BetaFeedback]:
    with Session(engine) as session:
        return list(session.exec(select(BetaFeedback)).all())


@pytest.mark.one_database(reason="modal rendering (tests/ONE_DATABASE.md)")
def test_launch_feedback_opens_the_modal_for_the_named_launch(slack, engine):
    form = {"command": "/launch", "text": "feedback acme-assistant", "user_id": MARKETER, "trigger_id": "trig-1"}
    answer = slack.post("/slack/commands", urlencode(form).encode())
    assert answer.status_code == 200, answer.text
    (opened,) = slack.recorder.wait_for_views(1)
    assert opened["trigger_id"] == "trig-1"
    assert opened["view"]["callback_id"] == ActionId.BETA_FEEDBACK_SUBMIT.value
    assert initial(opened["view"], InputId.FEEDBACK_LAUNCH) == "acme-assistant"


def test_the_message_shortcut_prefills_text_and_link_and_the_submission_logs_a_report(slack, engine):
    answer = slack.interact(shortcut(MARKETER, "Globex says export spins forever"))
    assert answer.status_code == 200, answer.text
    (opened,) = slack.recorder.wait_for_views(1)
    assert initial(opened["view"], InputId.FEEDBACK_TEXT) == "Globex says export spins forever"
    assert initial(opened["view"], InputId.FEEDBACK_LINK) == "https://acme.slack.com/archives/C0BETA/p1700000000123456"

    answer = slack.interact(feedback_submission(MARKETER))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["response_action"] == "update", body
    (report,) = reports(engine)
    assert (report.account, report.type, report.severity, report.submitted_by) == (
        "globex",
        FeedbackType.BUG,
        2,
        "mia@example.com",
    )
    assert f"#{report.id}" in json.dumps(body)
    with Session(engine) as session:
        event = session.exec(select(AuditEvent).where(AuditEvent.action == "beta.feedback_submitted")).one()
    assert event.source == Source.SLACK


@pytest.mark.one_database(reason="modal field errors (tests/ONE_DATABASE.md)")
@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"severity": "9"}, InputId.FEEDBACK_SEVERITY),
        ({"region": "MARS"}, InputId.FEEDBACK_REGION),
        ({"launch": "no-such-launch"}, InputId.FEEDBACK_LAUNCH),
        ({"account": "  "}, InputId.FEEDBACK_ACCOUNT),
        ({"phase": "someday"}, InputId.FEEDBACK_PHASE),
    ],
)
def test_bad_submissions_stay_open_with_the_error_under_the_field(slack, engine, changes, field):
    answer = slack.interact(feedback_submission(MARKETER, **changes))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["response_action"] == "errors", body
    assert list(body["errors"]) == [field.value]
    assert reports(engine) == []


@pytest.mark.one_database(reason="a refusal message (tests/ONE_DATABASE.md)")
def test_unknown_users_and_read_only_roles_cannot_log_feedback(slack, engine):
    for user, expected in ((STRANGER, "does not know"), (LEADER, "may not log beta feedback")):
        body = slack.interact(feedback_submission(user)).json()
        assert body["response_action"] == "errors"
        assert expected in next(iter(body["errors"].values()))
    assert reports(engine) == []
