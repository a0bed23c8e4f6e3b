"""Parsing what Slack sends (notifications/interactions.py), pure: interaction payloads become typed
requests, anything we did not render is refused, and slash commands are read whatever their case
and spacing."""

import json
from typing import Any
from urllib.parse import urlencode

import pytest

from notifications.ids import ActionId, ItemChoice, ItemChoiceRef, ItemRef
from notifications.inbound.parsing import MalformedPayload, parse_command, parse_interaction
from notifications.inbound.requests import CommandKind, DoneClick, ItemSubmission, OverflowChoice, Unhandled
from tests.support.slack_http import LAWYER, MARKETER, block_action, done, submission


def _form(payload: dict[str, Any]) -> bytes:
    return urlencode({"payload": json.dumps(payload)}).encode()


def test_parsing_turns_payloads_into_typed_requests():
    click = parse_interaction(_form(done(MARKETER, 7, version=3)))
    assert click == DoneClick(MARKETER, ItemRef(item_id=7, version=3), "https://hooks.slack.com/actions/T0TEAM/1/abc")
    option = ItemChoiceRef(item_id=7, version=3, choice=ItemChoice.EVIDENCE).to_value()
    choice = parse_interaction(_form(block_action(MARKETER, ActionId.ITEM_OVERFLOW, option=option)))
    assert isinstance(choice, OverflowChoice)
    assert (choice.ref.choice, choice.trigger_id) == (ItemChoice.EVIDENCE, f"trigger-{MARKETER}")
    submitted = parse_interaction(_form(submission(LAWYER, ItemChoice.BLOCK, 7, "why")))
    assert submitted == ItemSubmission(LAWYER, ItemChoice.BLOCK, ItemRef(item_id=7, version=1), "why")
    assert isinstance(parse_interaction(_form({"type": "shortcut", "user": {"id": MARKETER}})), Unhandled)
    assert isinstance(parse_interaction(_form(block_action(MARKETER, "something_else", value="1"))), Unhandled)


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"payload=not-json",
        b"payload=%5B%5D",
        b"\xff\xfe",
        _form({"type": "block_actions", "user": {"id": MARKETER}, "actions": []}),
        _form(block_action(MARKETER, ActionId.ITEM_DONE, value='{"item_id": 1, "version": 1, "extra": 1}')),
        _form(
            block_action(MARKETER, ActionId.ITEM_OVERFLOW, option='{"item_id": 1, "version": 1, "choice": "delete"}')
        ),
    ],
)
def test_parsing_refuses_what_we_did_not_render(body):
    with pytest.raises(MalformedPayload):
        parse_interaction(body)


@pytest.mark.parametrize(
    ("text", "kind", "argument", "unknown"),
    [
        ("status acme-assistant", CommandKind.STATUS, "acme-assistant", None),
        ("  STATUS   Acme-Assistant ", CommandKind.STATUS, "acme-assistant", None),
        ("mine", CommandKind.MINE, None, None),
        ("help", CommandKind.HELP, None, None),
        ("", CommandKind.HELP, None, None),
        ("status", CommandKind.HELP, None, "status"),
        ("delete everything", CommandKind.HELP, None, "delete everything"),
        ("feedback Acme-Assistant", CommandKind.FEEDBACK, "acme-assistant", None),
        ("kickoff Acme-Assistant", CommandKind.KICKOFF, "acme-assistant", None),
        ("kickoff acme-assistant eu", CommandKind.HELP, None, "kickoff acme-assistant eu"),
        ("halt", CommandKind.HALT, None, None),
        ("rollback acme-assistant eu now", CommandKind.HELP, None, "rollback acme-assistant eu now"),
    ],
)
def test_parsing_slash_commands(text, kind, argument, unknown):
    command = parse_command(urlencode({"command": "/launch", "text": text, "user_id": MARKETER}).encode())
    assert (command.kind, command.argument, command.unknown) == (kind, argument, unknown)


def test_prod_ops_commands_carry_the_region_and_where_to_confirm():
    form = {"command": "/launch", "text": "Halt acme-assistant eu", "user_id": MARKETER, "trigger_id": "t1"}
    form["response_url"] = "https://hooks.slack.com/commands/T0TEAM/1/abc"
    command = parse_command(urlencode(form).encode())
    assert (command.kind, command.argument, command.region) == (CommandKind.HALT, "acme-assistant", "EU")
    assert (command.trigger_id, command.response_url) == ("t1", form["response_url"])


def test_slacks_documented_example_parses_as_a_help_command():
    from tests.support.slack_example import BODY

    command = parse_command(BODY)
    assert (command.user_id, command.kind, command.command) == ("U2CERLKJA", CommandKind.HELP, "/webhook-collect")
