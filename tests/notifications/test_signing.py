"""Slack's v0 request signing, checked against the worked example in Slack's own documentation
(research/slack.md §1.2) and against slack_sdk's SignatureVerifier, so our check accepts exactly
what Slack signs and nothing else."""

import pytest
from slack_sdk.signature import SignatureVerifier

from notifications.inbound.signing import BadSignature, slack_signature, verify_slack_request
from orchestrator.core.errors import LaunchdeckError
from tests.support.slack_example import BODY, EXPECTED, SECRET, TS

NOW = float(TS)


class FixedClock:
    def __init__(self, now: float) -> None:
        self.t = now

    def now(self) -> float:
        return self.t


def verify(**overrides):
    arguments = {"secret": SECRET, "body": BODY, "timestamp": TS, "signature": EXPECTED, "now": NOW}
    verify_slack_request(**{**arguments, **overrides})


def test_the_documented_example_signs_and_verifies():
    assert len(BODY) == 362
    assert slack_signature(secret=SECRET, timestamp=TS, body=BODY) == EXPECTED
    verify()  # no exception


def test_our_signature_is_slack_sdks():
    verifier = SignatureVerifier(SECRET, clock=FixedClock(NOW))
    assert verifier.generate_signature(timestamp=TS, body=BODY) == EXPECTED
    assert verifier.is_valid_request(BODY, {"X-Slack-Request-Timestamp": TS, "X-Slack-Signature": EXPECTED})


@pytest.mark.parametrize("offset", [-300, -1, 0, 1, 300])
def test_inside_the_five_minute_window_passes(offset):
    verify(now=NOW + offset)


@pytest.mark.parametrize(("offset", "words"), [(301, "301 s old"), (-301, "301 s in the future"), (86400, "old")])
def test_outside_the_window_is_refused_as_a_replay(offset, words):
    with pytest.raises(BadSignature) as raised:
        verify(now=NOW + offset)
    assert words in raised.value.reason


@pytest.mark.parametrize(
    ("overrides", "words"),
    [
        ({"timestamp": None}, "X-Slack-Request-Timestamp header is missing"),
        ({"timestamp": ""}, "X-Slack-Request-Timestamp header is missing"),
        ({"signature": None}, "X-Slack-Signature header is missing"),
        ({"timestamp": "abc"}, "not a unix time"),
        ({"timestamp": "+1531420618"}, "not a unix time"),
        ({"timestamp": " 1531420618"}, "not a unix time"),
        ({"timestamp": "1531420618.5"}, "not a unix time"),
        ({"body": BODY + b"&extra=1"}, "does not match"),
        ({"body": BODY.replace(b"text=", b"text=x")}, "does not match"),
        ({"secret": "another-secret"}, "does not match"),
        ({"signature": EXPECTED.upper()}, "does not match"),
        ({"signature": "v1=" + EXPECTED[3:]}, "does not match"),
        ({"signature": "v0=é"}, "does not match"),
        ({"secret": ""}, "no signing secret"),
    ],
)
def test_anything_else_is_refused_with_a_reason(overrides, words):
    with pytest.raises(BadSignature) as raised:
        verify(**overrides)
    assert words in raised.value.reason
    assert isinstance(raised.value, LaunchdeckError)
    assert SECRET not in str(raised.value)


def test_a_body_that_is_not_utf8_is_signed_over_its_bytes():
    body = b"payload=\xff\xfe"
    signature = slack_signature(secret=SECRET, timestamp=TS, body=body)
    verify(body=body, signature=signature)
    with pytest.raises(BadSignature):
        verify(body=b"payload=\xff\xfd", signature=signature)
