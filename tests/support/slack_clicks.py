"""The clicks the Slack process tests send (tests/api/test_slack_durability.py,
tests/cli/test_slack_applier_cmd.py): six marketing items a linked Slack user checks off, the
payload of one click, and the recorded interactions in the order they were recorded."""

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from orchestrator.core.actors import Actor
from orchestrator.core.models import ChecklistItem, SlackInteraction
from orchestrator.core.settings import reset_settings
from tests.support.factories import item, make_launch
from tests.support.slack_http import MARKETER, SECRET, done, link_marketer

KEYS = ["press_kit", "faq", "blog", "pricing", "demo", "training"]


@pytest.fixture
def clickable(seeded: Session, actor: Actor, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """Six marketing items and the Slack user of a marketing member; their item ids."""
    monkeypatch.setenv("LAUNCHDECK_SLACK_SIGNING_SECRET", SECRET)
    reset_settings()
    link_marketer(seeded, actor)
    launch = make_launch(seeded, actor, slug="acme-assistant", items=[item(key) for key in KEYS])
    ids = {row.key: row.id for row in seeded.exec(select(ChecklistItem).where(ChecklistItem.launch_id == launch.id))}
    seeded.commit()
    yield [item_id for key in KEYS if (item_id := ids[key]) is not None]
    reset_settings()


def click(item_id: int) -> dict[str, Any]:
    """A "done" click by the marketer; its response_url is refused as not https: no network."""
    payload = done(MARKETER, item_id)
    payload["response_url"] = "http://127.0.0.1:9/no-slack-here"
    return payload


def interactions(engine: Engine) -> list[SlackInteraction]:
    with Session(engine) as session:
        return list(session.exec(select(SlackInteraction).order_by(col(SlackInteraction.id))))
