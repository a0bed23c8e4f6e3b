"""manifest.yaml creates an app that matches what launchdeck serves and needs."""

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]  # the repository: this file is tests/<folder>/<name>.py
MANIFEST = yaml.safe_load((ROOT / "manifest.yaml").read_text())


def test_the_request_urls_point_at_launchdecks_slack_routes():
    assert MANIFEST["settings"]["interactivity"]["request_url"].endswith("/slack/interactions")
    assert MANIFEST["settings"]["event_subscriptions"]["request_url"].endswith("/slack/events")
    (command,) = MANIFEST["features"]["slash_commands"]
    assert command["command"] == "/launch"
    assert command["url"].endswith("/slack/commands")


def test_the_bot_has_the_scopes_delivery_needs_and_fits_slacks_limits():
    scopes = set(MANIFEST["oauth_config"]["scopes"]["bot"])
    assert {"chat:write", "commands", "im:write", "users:read"} <= scopes
    # find_posted: conversations.list (names -> ids) and conversations.history in every kind of channel
    assert {"channels:read", "groups:read", "channels:history", "groups:history", "im:history"} <= scopes
    assert len(MANIFEST["display_information"]["name"]) <= 35
    assert len(MANIFEST["display_information"]["description"]) <= 140
    assert MANIFEST["settings"]["interactivity"]["is_enabled"] is True


def test_the_beta_feedback_shortcut_is_a_message_shortcut_launchdeck_handles():
    from notifications.ids import ActionId

    (shortcut,) = MANIFEST["features"]["shortcuts"]
    assert shortcut["type"] == "message"
    assert shortcut["callback_id"] == ActionId.BETA_FEEDBACK.value
    assert len(shortcut["name"]) <= 24
    assert len(shortcut["description"]) <= 80
    assert "feedback" in MANIFEST["features"]["slash_commands"][0]["usage_hint"]


def test_the_launch_command_names_the_prod_ops_commands_launchdeck_parses():
    from notifications.inbound.requests import OPS_COMMANDS

    (command,) = MANIFEST["features"]["slash_commands"]
    assert all(kind.value in command["usage_hint"] for kind in OPS_COMMANDS)
    assert "login" in command["usage_hint"]  # /launch login: a one-time dashboard link by DM
    assert "prod ops" in command["description"]


def test_the_home_tab_is_on_and_its_event_subscribed():
    app_home = MANIFEST["features"]["app_home"]
    assert app_home["home_tab_enabled"] is True  # launchdeck publishes a Home on app_home_opened
    assert "app_home_opened" in MANIFEST["settings"]["event_subscriptions"]["bot_events"]
