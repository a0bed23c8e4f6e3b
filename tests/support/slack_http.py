"""Requests to the Slack endpoints made the way Slack makes them: a client that signs raw bodies
(v0, HMAC-SHA256, with a timestamp), the recorder that stands in for views.open and response_url,
and the payloads Slack sends for clicks, modal submissions, shortcuts and the feedback modal."""

import json
import threading
import time
from typing import Any
from urllib.parse import urlencode

import httpx

from notifications.ids import ActionId, InputId, ItemChoice, ItemRef
from notifications.inbound.signing import slack_signature
from orchestrator.core.actors import Actor
from orchestrator.core.enums import Role
from orchestrator.directory.seed import MemberSeed
from orchestrator.directory.service import upsert_member

SECRET = "test-signing-secret-0123456789"  # the test server's LAUNCHDECK_SLACK_SIGNING_SECRET
MARKETER, LAWYER, PRODOPS, STRANGER = "U0MARKET1", "U0LEGAL01", "U0PRODOPS", "U0NOBODY9"
FORM = "application/x-www-form-urlencoded"
CALLBACKS = {
    ItemChoice.WAIVE: ActionId.WAIVE_SUBMIT,
    ItemChoice.EVIDENCE: ActionId.EVIDENCE_SUBMIT,
    ItemChoice.BLOCK: ActionId.BLOCK_SUBMIT,
}
INPUTS = {
    ItemChoice.WAIVE: InputId.WAIVE_REASON,
    ItemChoice.EVIDENCE: InputId.EVIDENCE_URL,
    ItemChoice.BLOCK: InputId.BLOCKED_REASON,
}
WAIT = 15.0  # seconds a click's deferred work may take to show (a deadline for polling, not a sleep)


class Recorder:
    """Stands in for views.open and response_url: records calls and lets a test wait for them."""

    def __init__(self) -> None:
        self.views: list[dict[str, Any]] = []
        self.responses: list[dict[str, str]] = []
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)

    def open_view(self, *, trigger_id: str, view: dict[str, Any]) -> None:
        with self._changed:
            self.views.append({"trigger_id": trigger_id, "view": view})
            self._changed.notify_all()

    def respond(self, *, response_url: str, text: str) -> None:
        with self._changed:
            self.responses.append({"response_url": response_url, "text": text})
            self._changed.notify_all()

    def wait_for_views(self, count: int) -> list[dict[str, Any]]:
        with self._changed:
            assert self._changed.wait_for(lambda: len(self.views) >= count, timeout=WAIT), self.views
            return list(self.views)

    def wait_for_responses(self, count: int) -> list[dict[str, str]]:
        with self._changed:
            assert self._changed.wait_for(lambda: len(self.responses) >= count, timeout=WAIT), self.responses
            return list(self.responses)


class SlackClient:
    """Posts to the Slack endpoints the way Slack does: raw body, v0 signature, timestamp."""

    def __init__(self, base: str, recorder: Recorder, items: dict[str, int], slug: str) -> None:
        self.http = httpx.Client(base_url=base, timeout=30)
        self.recorder = recorder
        self.items = items
        self.slug = slug

    def post(
        self,
        path: str,
        body: bytes,
        *,
        content_type: str = FORM,
        secret: str = SECRET,
        timestamp: int | None = None,
        signature: str | None = None,
        timeout: float | None = None,
    ) -> httpx.Response:
        ts = str(int(time.time()) if timestamp is None else timestamp)
        headers = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": signature or slack_signature(secret=secret, timestamp=ts, body=body),
        }
        if timeout is None:
            return self.http.post(path, content=body, headers=headers)
        return self.http.post(path, content=body, headers=headers, timeout=timeout)

    def interact(self, payload: dict[str, Any], **options: Any) -> httpx.Response:
        return self.post("/slack/interactions", urlencode({"payload": json.dumps(payload)}).encode(), **options)

    def command(self, text: str, user: str = MARKETER) -> httpx.Response:
        form = {"command": "/launch", "text": text, "user_id": user, "team_id": "T0TEAM", "response_url": ""}
        return self.post("/slack/commands", urlencode(form).encode())


def block_action(user: str, action_id: str, *, value: str | None = None, option: str | None = None) -> dict[str, Any]:
    action: dict[str, Any] = {"action_id": action_id, "block_id": "item:1:v1:actions", "action_ts": "1.2"}
    if value is not None:
        action |= {"type": "button", "value": value}
    if option is not None:
        action |= {"type": "overflow", "selected_option": {"value": option}}
    return {
        "type": "block_actions",
        "user": {"id": user, "team_id": "T0TEAM"},
        "trigger_id": f"trigger-{user}",
        "response_url": "https://hooks.slack.com/actions/T0TEAM/1/abc",
        "container": {"type": "message", "channel_id": "C0LAUNCH", "message_ts": "111.222"},
        "actions": [action],
    }


def done(user: str, item_id: int, version: int = 1) -> dict[str, Any]:
    return block_action(user, ActionId.ITEM_DONE, value=ItemRef(item_id=item_id, version=version).to_value())


def submission(user: str, choice: ItemChoice, item_id: int, value: str, version: int = 1) -> dict[str, Any]:
    field = INPUTS[choice].value
    return {
        "type": "view_submission",
        "user": {"id": user},
        "view": {
            "callback_id": CALLBACKS[choice].value,
            "private_metadata": ItemRef(item_id=item_id, version=version).to_value(),
            "state": {"values": {field: {field: {"type": "plain_text_input", "value": value}}}},
        },
    }


def shortcut(user: str, text: str) -> dict[str, Any]:
    return {
        "type": "message_action",
        "callback_id": ActionId.BETA_FEEDBACK.value,
        "trigger_id": f"trigger-{user}",
        "user": {"id": user},
        "team": {"id": "T0TEAM", "domain": "acme"},
        "channel": {"id": "C0BETA"},
        "message": {"type": "message", "ts": "1700000000.123456", "text": text},
        "response_url": "https://hooks.slack.com/app/T0TEAM/1/abc",
    }


def feedback_submission(user: str, **changes: str) -> dict[str, Any]:
    fields = {
        InputId.FEEDBACK_LAUNCH: ("plain_text_input", "acme-assistant"),
        InputId.FEEDBACK_REGION: ("plain_text_input", "eu"),
        InputId.FEEDBACK_PHASE: ("static_select", "private_beta"),
        InputId.FEEDBACK_ACCOUNT: ("plain_text_input", "globex"),
        InputId.FEEDBACK_TYPE: ("static_select", "bug"),
        InputId.FEEDBACK_SEVERITY: ("static_select", "2"),
        InputId.FEEDBACK_TEXT: ("plain_text_input", "The export button spins forever"),
        InputId.FEEDBACK_LINK: ("url_text_input", "https://acme.slack.com/archives/C0BETA/p1700000000123456"),
    }
    values: dict[str, Any] = {}
    for input_id, (kind, value) in fields.items():
        value = changes.get(input_id.value.removeprefix("feedback_"), value)
        state = (
            {"type": kind, "selected_option": {"value": value}}
            if kind == "static_select"
            else {"type": kind, "value": value}
        )
        values[input_id.value] = {input_id.value: state}
    return {
        "type": "view_submission",
        "user": {"id": user},
        "view": {"callback_id": ActionId.BETA_FEEDBACK_SUBMIT.value, "state": {"values": values}},
    }


def initial(view: dict[str, Any], input_id: InputId) -> Any:
    block = next(block for block in view["blocks"] if block.get("block_id") == input_id.value)
    element = block["element"]
    return element.get("initial_value") or element.get("initial_option", {}).get("value")


def link_marketer(session: Any, actor: Actor) -> None:
    """A marketing member whose Slack user is ``MARKETER`` (the team's items are theirs to check)."""
    seed = MemberSeed(email="mia@example.com", name="mia", team="marketing", role=Role.MEMBER, slack_user_id=MARKETER)
    upsert_member(session=session, seed=seed, actor=actor)
