"""The App Home builder as data: every Home parses as a slack_sdk ``View``, lists say how many
more there are (with the dashboard's address when known), and a Home never passes Slack's 100
blocks: it is cut, and says so."""

from datetime import UTC, datetime

from slack_sdk.models.views import View

from notifications.ids import ActionId, GateRef
from notifications.messages.home import MAX_HOME_BLOCKS, home_view
from orchestrator.core.enums import GateKind, GateStatus, ItemStatus, LaunchStatus, Phase, RolloutState
from orchestrator.reporting.home import HomeItem, HomeSnapshot, OwnedLaunch, PendingVote, RegionLine

DASHBOARD = "https://launchdeck.example.com/dashboard"
AT = datetime(2027, 3, 1, 9, tzinfo=UTC)


def valid(view):
    View(**view).validate_json()
    assert view["type"] == "home"
    return str(view)


def votes(count):
    return [PendingVote(gate, f"launch-{gate}", f"Launch {gate}", "EU", Phase.GA, AT) for gate in range(1, count + 1)]


def test_lists_say_how_many_more_with_the_dashboard_link():
    item = HomeItem(7, 3, "Press kit <final>", "acme", "EU", Phase.GA, ItemStatus.BLOCKED, AT, True, True)
    region = RegionLine("EU", RolloutState.GATED, Phase.GA, 0, (Phase.GA, GateKind.APPROVAL, GateStatus.OPEN))
    launch = OwnedLaunch("acme", "Acme", LaunchStatus.ACTIVE, [region])
    home = HomeSnapshot("U0ANA0001", "Ana", "Support", votes(10), 25, [item], 1, [launch], 1)
    text = valid(home_view(home, dashboard=DASHBOARD))
    assert f"… and 15 more: <{DASHBOARD}|see them all on the dashboard>" in text
    assert "Press kit &lt;final&gt;" in text
    assert "assigned to you" in text
    assert "blocked" in text
    assert "next gate: GA approval (open)" in text
    buttons = [b for b in home_view(home)["blocks"] if b["type"] == "actions"]
    assert len(buttons) == 10
    assert [e["action_id"] for e in buttons[0]["elements"]] == [
        ActionId.VOTE_GO,
        ActionId.VOTE_CONDITIONAL,
        ActionId.VOTE_NO_GO,
    ]
    assert buttons[0]["elements"][0]["value"] == GateRef(gate_id=1).to_value()
    assert "see them all" not in str(home_view(home))  # no public URL, no link: still "and 15 more"
    assert "and 15 more" in str(home_view(home))


def test_a_home_is_cut_at_100_blocks_and_says_so():
    home = HomeSnapshot("U0ANA0001", "Ana", None, votes(80), 80, [], 0, None, 0)
    view = home_view(home, dashboard=DASHBOARD)
    valid(view)
    assert len(view["blocks"]) == MAX_HOME_BLOCKS
    assert "cut at Slack's 100 blocks" in str(view["blocks"][-1])


def test_a_stranger_is_told_whom_to_ask():
    home = HomeSnapshot("U0NOBODY9", contacts=[("Pat", "U0PAT0001"), ("Lee", None)])
    text = valid(home_view(home, dashboard=DASHBOARD))
    assert "not in launchdeck's directory" in text
    assert "<@U0PAT0001>, Lee" in text
    assert "`U0NOBODY9`" in text
    assert "actions" not in text
