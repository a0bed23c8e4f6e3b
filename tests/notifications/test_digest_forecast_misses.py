"""The leadership digest's Slack messages name the week's forecast misses in the first message,
within Slack's limits however many launches it carries. Builders as data: no Slack, no database."""

from dataclasses import replace

from slack_sdk.models.blocks import Block

from notifications.messages.digest import leadership_digest
from notifications.messages.layout import MAX_BLOCKS
from notifications.messages.snapshots import DigestMessage
from orchestrator.core.enums import Phase
from orchestrator.reporting.digest import Digest, LaunchDigest
from orchestrator.reporting.forecast_misses import ForecastMiss
from orchestrator.reporting.rag import Rag
from tests.support.history import GA_AT, at
from tests.support.reporting import NOW, region

MISS = ForecastMiss(1, "acme-ai", "EU", Phase.GA, GA_AT, at(3, 29, 9), made_at=at(3, 11, 9))


def launch(number):
    return LaunchDigest(number, f"l-{number}", f"L {number}", 1, "o@example.com", None, Rag.AMBER, "why", (region(),))


def test_the_first_digest_message_lists_the_weeks_forecast_misses():
    later = replace(MISS, slug="b<&>", region="NA", projected_at=at(3, 24, 9))
    [message] = leadership_digest(
        DigestMessage(digest=Digest(generated_at=NOW, launches=(launch(1),), forecast_misses=(MISS, later)))
    )
    (block,) = [block for block in message.blocks if block.get("block_id") == "digest:forecast-misses"]
    assert block["text"]["text"] == (
        "*Forecast misses of the week*\n"
        "• `acme-ai` forecast: EU GA checklist done 7 days after 2026-03-22 (forecast of 2026-03-11)\n"
        "• `b&lt;&amp;&gt;` forecast: NA GA checklist done 2 days after 2026-03-22 (forecast of 2026-03-11)"
    )
    assert message.blocks.index(block) == 2  # right under the header and its context


def test_a_long_digest_with_misses_stays_within_slacks_limits():
    launches = tuple(launch(number) for number in range(80))
    messages = leadership_digest(
        DigestMessage(digest=Digest(generated_at=NOW, launches=launches, forecast_misses=(MISS,) * 10))
    )
    assert len(messages) > 1
    for message in messages:
        assert len(message.blocks) <= MAX_BLOCKS
        assert all(Block.parse(block) is not None for block in message.blocks)
    ids = [block.get("block_id") for message in messages for block in message.blocks]
    assert ids.count("digest:forecast-misses") == 1
    assert not any(block.get("block_id") == "digest:forecast-misses" for block in messages[-1].blocks)
