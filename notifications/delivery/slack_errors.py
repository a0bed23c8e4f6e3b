"""Slack's answers, as failures a person can act on: every Web API call that did not succeed
leaves the transport as one ``DeliveryFailed``, retryable or not, with a reason that says what to
do (invite the app, fix the token, add a scope) rather than Slack's bare error code."""

from collections.abc import Mapping
from typing import Any

from slack_sdk.errors import SlackApiError

from notifications.delivery.retries import retry_after_seconds
from notifications.delivery.transport import DeliveryFailed

# Slack error code -> (what it means, what to do). ``{channel}`` is filled in when known.
_PERMANENT_ERRORS: Mapping[str, str] = {
    "channel_not_found": (
        "Slack has no channel {channel} visible to the app: check the channel id configured for the "
        "region/team, and for a private channel invite the app (/invite @launchdeck)"
    ),
    "not_in_channel": "the app is not a member of {channel}: invite the app to {channel} (/invite @launchdeck)",
    "is_archived": "{channel} is archived: unarchive it or configure another channel for the region/team",
    "restricted_action": "a workspace setting stops the app posting in {channel}: ask a Slack admin",
    "restricted_action_read_only_channel": "{channel} is read-only for apps: ask a Slack admin or pick another",
    "invalid_auth": "the bot token is not valid: check LAUNCHDECK_SLACK_BOT_TOKEN (xoxb-...)",
    "not_authed": "no bot token was sent: set LAUNCHDECK_SLACK_BOT_TOKEN",
    "account_inactive": "the app's token belongs to a deleted app or deactivated user: reinstall the app",
    "token_revoked": "the bot token was revoked: reinstall the app and update LAUNCHDECK_SLACK_BOT_TOKEN",
    "token_expired": "the bot token expired: reinstall the app and update LAUNCHDECK_SLACK_BOT_TOKEN",
    "no_permission": "the app lacks permission for this: check its scopes in the manifest and reinstall",
    "missing_scope": "the app lacks the scope {needed}: add it in the manifest and reinstall the app",
    "message_not_found": "the message {channel}/{ts} no longer exists (deleted?): post a new one instead",
    "cant_update_message": "the message {channel}/{ts} was not posted by this app and cannot be updated",
    "edit_window_closed": "Slack no longer allows editing {channel}/{ts}: post a new message instead",
    "user_not_found": "Slack has no user {user}: check the member's Slack user id",
    "user_disabled": "Slack user {user} is deactivated: reassign the item or notify the team",
    "cannot_dm_bot": "{user} is a bot and cannot be sent a DM: notify the team channel instead",
    "msg_too_long": "the message text is too long for Slack: a message builder must split it (bug)",
    "no_text": "the message had no text: a message builder must set the fallback text (bug)",
    "invalid_blocks": "Slack rejected the blocks: a message builder produced invalid Block Kit (bug)",
    "invalid_blocks_format": "Slack rejected the blocks' format: a message builder bug",
    "too_many_attachments": "the message had too many attachments: a message builder bug",
    "invalid_arguments": "Slack rejected the request's arguments: a launchdeck bug",
}

# ok:false codes that Slack documents as transient.
_TRANSIENT_ERRORS = frozenset(
    {"ratelimited", "rate_limited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"}
)


def from_api_error(method: str, exc: SlackApiError, context: Mapping[str, str]) -> DeliveryFailed:
    """Classify a Slack answer that was not ``ok`` after the client's own retries."""
    response = exc.response
    status = int(getattr(response, "status_code", 0) or 0)
    data = getattr(response, "data", None)
    body: Mapping[str, Any] = data if isinstance(data, dict) else {}
    error = str(body.get("error") or f"http_{status}")
    if status == 429 or error in {"ratelimited", "rate_limited"}:
        wait = retry_after_seconds(getattr(response, "headers", None) or {})
        return DeliveryFailed(
            retryable=True,
            reason=f"{method}: Slack is rate limiting (retry after {wait:g}s)",
            slack_error="ratelimited",
            retry_after=wait,
        )
    if status >= 500 or error in _TRANSIENT_ERRORS:
        return DeliveryFailed(
            retryable=True,
            reason=f"{method}: Slack failed (HTTP {status}, {error}); try again later",
            slack_error=error,
        )
    hint = _PERMANENT_ERRORS.get(error)
    if hint is None:
        advice = f"Slack answered {error}; see https://docs.slack.dev/reference/methods/{method}"
    else:
        fields = {"channel": "the channel", "ts": "?", "user": "the user", **context}
        fields["needed"] = str(body.get("needed") or "it names")
        advice = hint.format(**fields)
    return DeliveryFailed(retryable=False, reason=f"{method} failed with {error}: {advice}", slack_error=error)
