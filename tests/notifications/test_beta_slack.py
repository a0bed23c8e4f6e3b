"""Beta feedback's Slack side, pure (notifications/beta_slack.py): `/launch feedback`, the message
shortcut and the modal's submission parse into typed requests, and the modal fits Slack's limits
whatever the message."""

import json
from urllib.parse import urlencode

from notifications.ids import InputId
from notifications.inbound.modals import feedback_modal
from notifications.inbound.parsing import parse_command, parse_interaction
from notifications.inbound.requests import CommandKind, FeedbackOpen, FeedbackSubmission
from tests.support.slack_http import feedback_submission, initial, shortcut


def test_parsing_feedback_requests():
    command = parse_command(urlencode({"user_id": "U1", "text": "feedback", "trigger_id": "t"}).encode())
    assert (command.kind, command.argument, command.trigger_id) == (CommandKind.FEEDBACK, None, "t")
    opened = parse_interaction(urlencode({"payload": json.dumps(shortcut("U1", "hi"))}).encode())
    assert isinstance(opened, FeedbackOpen)
    submitted = parse_interaction(urlencode({"payload": json.dumps(feedback_submission("U1"))}).encode())
    assert isinstance(submitted, FeedbackSubmission)
    assert (submitted.region, submitted.severity) == ("EU", "2")


def test_the_modal_fits_slacks_limits_with_a_huge_message():
    view = feedback_modal(text="x" * 10_000, launch="acme-assistant")
    assert len(initial(view, InputId.FEEDBACK_TEXT)) <= 3000
    assert len(view["title"]["text"]) <= 24
