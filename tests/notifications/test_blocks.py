"""Block Kit builders tested as data: every message they produce is re-parsed and re-validated by
slack_sdk, and checked against the Slack limits slack_sdk does not enforce (50 blocks). Pure: no
database, no network."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from slack_sdk.models.blocks import Block

from notifications.ids import ActionId, ItemChoice, ItemChoiceRef, ItemRef
from notifications.messages.digest import leadership_digest
from notifications.messages.items import gate_opened, item_blocks, item_checked, splice_item
from notifications.messages.layout import MAX_BLOCKS, Message
from notifications.messages.region_events import FAILURE_MARKER, region_event
from notifications.messages.reminders import overdue_reminder
from notifications.messages.snapshots import (
    DigestMessage,
    GateOpenedMessage,
    ItemCheckedMessage,
    ItemLine,
    OverdueReminderMessage,
    RegionEventKind,
    RegionEventMessage,
)
from notifications.messages.templating import render
from notifications.mrkdwn import escape_mrkdwn, fit_mrkdwn
from orchestrator.core.enums import ItemStatus, Phase, RolloutState
from orchestrator.reporting.digest import Digest, LaunchDigest
from orchestrator.reporting.rag import Rag, RegionDigest

NOW = datetime(2025, 10, 14, 9, 30, tzinfo=UTC)


def line(item_id=1, *, title="Publish the pricing page", status=ItemStatus.TODO, **overrides):
    values = dict(
        id=item_id,
        key=f"mkt.item-{item_id}",
        title=title,
        team="marketing",
        due_at=NOW + timedelta(days=2),
        blocking=item_id % 3 != 0,
        status=status,
        evidence_required=item_id % 2 == 0,
        checked_by=None,
        checked_at=None,
        version=1 + item_id % 4,
    )
    values.update(overrides)
    return ItemLine(**values)


def gate(items, **overrides):
    values = dict(
        launch_slug="smart-invoices",
        launch_name="Smart invoices",
        region_code="EU",
        region_name="Europe",
        phase=Phase.PUBLIC_BETA,
        team_key="marketing",
        items=items,
        gate_at=NOW + timedelta(days=5),
        timezone="Europe/Berlin",
    )
    values.update(overrides)
    return GateOpenedMessage(**values)


def event(kind, reason="error rate 4% above baseline", **overrides):
    values = dict(
        kind=kind,
        launch_slug="smart-invoices",
        launch_name="Smart invoices",
        region_code="EU",
        region_name="Europe",
        phase=Phase.PUBLIC_BETA,
        actor="dana@example.com",
        reason=reason,
        percent=25,
        occurred_at=NOW,
    )
    values.update(overrides)
    return RegionEventMessage(**values)


def region_digest(code, **overrides):
    values = dict(
        region=code,
        region_name=f"Region {code}",
        state=RolloutState.ROLLING_OUT,
        phase=Phase.PUBLIC_BETA,
        percent=25,
        open_blocking=3,
        overdue_blocking=1,
        blocked=0,
        blocked_blocking=0,
        next_blocking_due_at=NOW + timedelta(days=1),
        slip_days=9,
        slip_phase=Phase.GA,
        next_gate_phase=Phase.GA,
        next_gate_at=NOW + timedelta(days=30),
    )
    values.update(overrides)
    return RegionDigest(**values)


def launch_digest(index, *, regions=3, rag=Rag.RED):
    return LaunchDigest(
        id=index,
        slug=f"launch-{index}",
        name=f"Launch <{index}> & friends",
        tier=1 + index % 3,
        owner="U024BE7LH",
        exec_sponsor="vp@example.com",
        rag=rag,
        reason=f"EU: 1 blocking item overdue (launch {index})",
        regions=tuple(region_digest(f"R{n}") for n in range(regions)),
    )


def reminder(**overrides):
    values = dict(
        launch_slug="smart-invoices",
        launch_name="Smart invoices",
        region_code="EU",
        region_name="Europe",
        phase=Phase.PUBLIC_BETA,
        team_key="marketing",
        item=line(7, due_at=NOW - timedelta(days=3, hours=2), assignee="U0123ABCD"),
        now=NOW,
    )
    values.update(overrides)
    return OverdueReminderMessage(**values)


# --- the limits, for every builder -------------------------------------------------------


def all_messages() -> list[Message]:
    items = [line(n) for n in range(1, 31)] + [
        line(40, status=ItemStatus.DONE, checked_by="U024BE7LH", checked_at=NOW),
        line(41, status=ItemStatus.BLOCKED, blocked_reason="legal review <pending>"),
        line(42, evidence_url="https://docs.example.com/a?b=1&c=2|x"),
    ]
    checked = ItemCheckedMessage(
        launch_slug="smart-invoices",
        launch_name="Smart invoices",
        region_code="EU",
        region_name="Europe",
        phase=Phase.PUBLIC_BETA,
        team_key="marketing",
        item=line(3, status=ItemStatus.DONE, checked_by="dana@example.com", checked_at=NOW),
        actor="dana@example.com",
    )
    digest = Digest(generated_at=NOW, launches=tuple(launch_digest(n) for n in range(40)))
    return [
        *gate_opened(gate(items)),
        *gate_opened(gate([])),
        item_checked(checked),
        overdue_reminder(reminder()),
        overdue_reminder(reminder(escalated=True)),
        *(region_event(event(kind)) for kind in RegionEventKind),
        *leadership_digest(DigestMessage(digest=digest, dashboard_url="https://launchdeck.example.com/")),
        *leadership_digest(DigestMessage(digest=Digest(generated_at=NOW, launches=()))),
    ]


def elements(blocks):
    for block in blocks:
        yield from block.get("elements", [])
        if "accessory" in block:
            yield block["accessory"]


def assert_within_limits(message: Message) -> None:
    assert message.text.strip()
    assert 1 <= len(message.blocks) <= MAX_BLOCKS
    for block in message.blocks:
        parsed = Block.parse(block)
        assert parsed is not None
        assert parsed.to_dict() == block  # re-validated by slack_sdk, and nothing lost in the round trip
        if block["type"] == "section":
            assert len(block["text"]["text"]) <= 3000
        if block["type"] == "header":
            assert len(block["text"]["text"]) <= 150
    for element in elements(message.blocks):
        if element["type"] == "button":
            assert len(element["text"]["text"]) <= 75
            if element["action_id"] == ActionId.ITEM_DONE:
                assert ItemRef.from_value(element["value"]).item_id > 0
        if element["type"] == "overflow":
            for option in element["options"]:
                ref = ItemChoiceRef.from_value(option["value"])
                assert len(option["value"]) <= 150
                assert ref.choice in ItemChoice
    block_ids = [block["block_id"] for block in message.blocks if "block_id" in block]
    assert len(block_ids) == len(set(block_ids)), "block ids must be unique within a message"
    json.dumps(message.blocks)  # plain JSON, ready for chat.postMessage


def test_every_builder_output_passes_slack_validation_and_limits():
    messages = all_messages()
    assert len(messages) > 10
    for message in messages:
        assert_within_limits(message)


# --- gate opened -------------------------------------------------------------------------


def item_ids(messages):
    ids = []
    for message in messages:
        for block in message.blocks:
            block_id = block.get("block_id", "")
            if block["type"] == "section" and block_id.startswith("item:"):
                ids.append(int(block_id.split(":")[1]))
    return ids


def test_a_long_checklist_is_split_and_every_item_appears_exactly_once():
    items = [line(n) for n in range(1, 181)]
    messages = gate_opened(gate(items))
    assert len(messages) >= 8  # two blocks per item, 48 per message at most
    for message in messages:
        assert_within_limits(message)
    assert item_ids(messages) == list(range(1, 181))
    assert "part 1 of" in messages[0].blocks[1]["elements"][0]["text"]
    assert f"part {len(messages)} of {len(messages)}" in messages[-1].text


def test_a_short_checklist_is_one_message_without_part_numbers():
    messages = gate_opened(gate([line(n) for n in range(1, 6)]))
    assert len(messages) == 1
    assert "part" not in messages[0].text
    assert item_ids(messages) == [1, 2, 3, 4, 5]


def test_each_open_item_has_a_done_button_and_an_overflow_with_its_version():
    item = line(12, version=7)
    section, actions = item_blocks(item)
    assert section["block_id"] == "item:12:v7"
    done, overflow = actions["elements"]
    assert done["action_id"] == ActionId.ITEM_DONE
    assert ItemRef.from_value(done["value"]) == ItemRef(item_id=12, version=7)
    assert overflow["action_id"] == ActionId.ITEM_OVERFLOW
    choices = [ItemChoiceRef.from_value(option["value"]) for option in overflow["options"]]
    assert {choice.choice for choice in choices} == set(ItemChoice)
    assert all(choice.item == ItemRef(item_id=12, version=7) for choice in choices)


def test_a_ten_thousand_character_title_is_shortened_but_the_item_stays():
    items = [line(1), line(2, title="W" * 10_000), line(3, title="&<>" * 3_400, key="k" * 5_000)]
    messages = gate_opened(gate(items, launch_name="L" * 10_000, region_name="R" * 5_000))
    for message in messages:
        assert_within_limits(message)
    assert item_ids(messages) == [1, 2, 3]
    text = messages[0].blocks[4]["text"]["text"]
    assert "WWWW" in text
    assert "…" in text


def test_mrkdwn_special_characters_in_user_values_are_escaped():
    item = line(5, title="<!channel> Q&A for <https://evil.example|click> > now", assignee="<!here>")
    text = item_blocks(item)[0]["text"]["text"]
    assert "&lt;!channel&gt; Q&amp;A for &lt;https://evil.example|click&gt; &gt; now" in text
    assert "<!channel>" not in text
    assert "<!here>" not in text
    messages = gate_opened(gate([item], launch_name="R&D <beta>", team_name="Sales & <Marketing>"))
    context = messages[0].blocks[1]["elements"][0]["text"]
    assert "R&amp;D &lt;beta&gt;" in context
    assert "Sales &amp; &lt;Marketing&gt;" in context
    assert "R&amp;D &lt;beta&gt;" in messages[0].text


def test_closed_items_show_who_and_when_instead_of_buttons():
    item = line(9, status=ItemStatus.DONE, checked_by="U024BE7LH", checked_at=NOW)
    _section, status = item_blocks(item, timezone="Europe/Berlin")
    assert status["type"] == "context"
    text = status["elements"][0]["text"]
    assert "Done" in text
    assert "<@U024BE7LH>" in text
    assert "11:30 CEST" in text


def test_an_empty_gate_still_says_so():
    [message] = gate_opened(gate([]))
    assert "No items" in message.blocks[-1]["text"]["text"]


# --- item checked ------------------------------------------------------------------------


def test_item_checked_splices_the_new_line_into_the_posted_message():
    items = [line(n) for n in range(1, 6)]
    [posted] = gate_opened(gate(items))
    done = line(3, status=ItemStatus.DONE, checked_by="dana@example.com", checked_at=NOW, version=9)
    update = item_checked(
        ItemCheckedMessage(
            launch_slug="smart-invoices",
            launch_name="Smart invoices",
            region_code="EU",
            region_name="Europe",
            phase=Phase.PUBLIC_BETA,
            team_key="marketing",
            item=done,
            actor="dana@example.com",
        )
    )
    assert "dana@example.com" in update.text
    assert "done" in update.text
    blocks = splice_item(posted.blocks, 3, update.blocks)
    assert len(blocks) == len(posted.blocks)
    assert item_ids([Message(text="x", blocks=blocks)]) == [1, 2, 3, 4, 5]
    spliced = [block for block in blocks if block.get("block_id", "").startswith("item:3:")]
    assert [block["block_id"] for block in spliced] == ["item:3:v9", "item:3:v9:status"]
    assert "dana@example.com" in spliced[1]["elements"][0]["text"]
    assert splice_item(posted.blocks, 99, update.blocks) == posted.blocks


# --- reminders ---------------------------------------------------------------------------


def test_overdue_reminder_says_how_late_and_offers_the_buttons():
    message = overdue_reminder(reminder())
    text = message.blocks[0]["text"]["text"]
    assert "Overdue by 3 days" in text
    assert "<@U0123ABCD>" in text
    assert message.blocks[1]["elements"][0]["action_id"] == ActionId.ITEM_DONE
    assert "overdue by 3 days" in message.text


def test_escalated_reminder_is_marked():
    message = overdue_reminder(reminder(escalated=True))
    assert "Escalated" in message.blocks[0]["text"]["text"]
    assert message.text.startswith("Escalated")


# --- region events -----------------------------------------------------------------------


@pytest.mark.parametrize("kind", [RegionEventKind.HALTED, RegionEventKind.ROLLED_BACK, RegionEventKind.NO_GO])
def test_failure_events_are_loud_with_a_warning_and_the_reason(kind):
    message = region_event(event(kind, reason="error rate <4%> & rising"))
    header = message.blocks[0]
    assert header["type"] == "header"
    assert header["text"]["text"].startswith(FAILURE_MARKER)
    section = message.blocks[1]["text"]["text"]
    assert "*Reason:* error rate &lt;4%&gt; &amp; rising" in section
    assert message.text.startswith(FAILURE_MARKER)
    assert "error rate" in message.text


def test_a_failure_without_a_reason_says_none_was_given():
    message = region_event(event(RegionEventKind.HALTED, reason=None))
    assert "_none given_" in message.blocks[1]["text"]["text"]
    assert "none given" in message.text


def test_a_no_go_shows_when_the_region_is_looked_at_again_in_the_regions_zone():
    again = datetime(2030, 1, 15, 9, 0, tzinfo=UTC)
    message = region_event(
        event(RegionEventKind.NO_GO, reason="churn risk", reevaluate_at=again, timezone="Europe/Paris")
    )
    section = message.blocks[1]["text"]["text"]
    assert "*Reason:* churn risk" in section
    assert "*Looked at again:* Tue 15 Jan 2030 10:00 CET" in section
    assert "Looked at again: Tue 15 Jan 2030 10:00 CET" in message.text


@pytest.mark.parametrize("kind", [RegionEventKind.GATE_PASSED, RegionEventKind.REGION_ADVANCED, RegionEventKind.LIVE])
def test_success_events_have_no_warning(kind):
    message = region_event(event(kind, reason=None))
    assert FAILURE_MARKER not in message.blocks[0]["text"]["text"]
    assert FAILURE_MARKER not in message.text
    assert len(message.blocks) == 3


# --- leadership digest -------------------------------------------------------------------


def test_digest_lists_every_launch_with_rag_and_reason_and_splits_when_long():
    launches = tuple(launch_digest(n, rag=[Rag.RED, Rag.AMBER, Rag.GREEN][n % 3]) for n in range(60))
    messages = leadership_digest(DigestMessage(digest=Digest(generated_at=NOW, launches=launches)))
    assert len(messages) > 1
    seen = []
    for message in messages:
        assert_within_limits(message)
        for block in message.blocks:
            block_id = block.get("block_id", "")
            if block_id.startswith("launch:") and block_id.count(":") == 1:
                seen.append(int(block_id.split(":")[1]))
    assert seen == list(range(60))
    first_launch = next(block for block in messages[0].blocks if block.get("block_id") == "launch:0")
    assert ":red_circle:" in first_launch["text"]["text"]
    assert "*RED*: EU: 1 blocking item overdue" in first_launch["text"]["text"]
    assert "Launch &lt;0&gt; &amp; friends" in first_launch["text"]["text"]
    assert "20 red, 20 amber, 20 green" in messages[0].text


def test_a_launch_with_many_regions_keeps_every_region_line():
    launch = launch_digest(1, regions=120)
    [message] = leadership_digest(DigestMessage(digest=Digest(generated_at=NOW, launches=(launch,))))
    assert_within_limits(message)
    text = "\n".join(block["text"]["text"] for block in message.blocks if block["type"] == "section")
    for n in range(120):
        assert f"*R{n}*" in text


# --- ids and rendering -------------------------------------------------------------------


def test_refs_round_trip_and_reject_foreign_values():
    ref = ItemRef(item_id=2**31, version=12345)
    assert ItemRef.from_value(ref.to_value()) == ref
    assert len(ref.to_value()) <= 2000
    for bad in ["", "not json", '{"item_id": 1}', '{"item_id": 1, "version": 1, "extra": 1}', "x" * 3000]:
        with pytest.raises(ValueError, match="ItemRef"):
            ItemRef.from_value(bad)


def test_templates_are_strict_about_missing_values():
    from jinja2 import UndefinedError

    with pytest.raises(UndefinedError):
        render("digest_text", date="2025-10-14")


def test_fit_never_leaves_half_an_entity_or_link():
    assert fit_mrkdwn("ab &amp; cd", 6) == "ab…"
    assert fit_mrkdwn("see <https://example.com|here>", 12) == "see…"
    assert escape_mrkdwn("a<b>&c") == "a&lt;b&gt;&amp;c"
