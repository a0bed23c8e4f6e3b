"""The processors that apply recorded Slack clicks (api/slack_work.py), with real threads on a real
database (SQLite and PostgreSQL) and a recorder standing in for response_url.

What is proven: on start they apply clicks an earlier process recorded and never applied; a
graceful stop applies what is pending before it ends; a refusal is answered after its row is
done; a click whose handling fails is given back, parked after a few tries, and does not stop
the worker. Waits are polls with a deadline, never sleeps."""

import json
from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import Session, col, select

from api.slack_work import FollowUps, SlackWork
from notifications.ids import ActionId, ItemChoice, ItemChoiceRef
from orchestrator.core.clock import utcnow
from orchestrator.core.enums import InteractionKind, InteractionStatus, ItemStatus
from orchestrator.core.inbox import MAX_ATTEMPTS, RECORD, TABLE, interaction_row
from orchestrator.core.models import AuditEvent, ChecklistItem, SlackInteraction
from tests.support.factories import item, make_launch
from tests.support.flows import wait_for
from tests.support.slack_http import MARKETER, STRANGER, WAIT, Recorder, block_action, done, link_marketer


@pytest.fixture
def press_kit(seeded, actor) -> int:
    link_marketer(seeded, actor)
    launch = make_launch(seeded, actor, items=[item("press_kit")])
    found = seeded.exec(select(ChecklistItem.id).where(ChecklistItem.launch_id == launch.id)).one()
    assert found is not None
    seeded.commit()
    return int(found)


def recorded(engine, payload: dict[str, Any], key: str, *, ago: float = 0) -> int:
    """A click as the endpoint records it before acknowledging it (``ago`` seconds ago)."""
    now = utcnow() - timedelta(seconds=ago)
    row = interaction_row(
        kind=InteractionKind.BLOCK_ACTION, slack_user_id=MARKETER, ordering_key=key, payload=payload, now=now
    )
    with engine.begin() as connection:
        return int(connection.execute(RECORD.returning(TABLE.c.id), row).scalar_one())


def rows(engine) -> list[SlackInteraction]:
    with Session(engine) as session:
        return list(session.exec(select(SlackInteraction).order_by(col(SlackInteraction.id))))


def checked(engine, item_id: int) -> list[AuditEvent]:
    with Session(engine) as session:
        return list(
            session.exec(
                select(AuditEvent)
                .where(AuditEvent.entity == "item", AuditEvent.entity_id == item_id)
                .order_by(col(AuditEvent.id))
            )
        )


def processor(engine, recorder: Recorder, **options) -> SlackWork:
    work = SlackWork(workers=2, drain_seconds=WAIT, **options)
    work.start(engine=engine, follow_ups=FollowUps(lambda: recorder, lambda: recorder))
    return work


def test_on_start_clicks_an_earlier_process_acknowledged_are_applied_once(engine, press_kit):
    first = recorded(engine, done(MARKETER, press_kit), f"item:{press_kit}")
    recorded(engine, done(MARKETER, press_kit), f"item:{press_kit}")  # a double click
    recorder = Recorder()
    work = processor(engine, recorder)
    try:
        wait_for(lambda: all(row.status == InteractionStatus.DONE for row in rows(engine)), timeout=WAIT, interval=0.02)
    finally:
        assert work.stop() == 0
    with Session(engine) as session:
        assert session.get(ChecklistItem, press_kit).status == ItemStatus.DONE
    assert [event.action for event in checked(engine, press_kit)] == ["item.checked"]
    assert [row.done_at is not None for row in rows(engine)] == [True, True]
    assert "already done" in recorder.wait_for_responses(1)[0]["text"]  # the second, told so
    assert rows(engine)[0].id == first


def test_a_graceful_stop_applies_what_is_pending_first(engine, press_kit):
    work = processor(engine, Recorder(), poll_seconds=60)  # only a wake or the stop makes it look
    recorded(engine, done(MARKETER, press_kit), f"item:{press_kit}")  # recorded, nobody woken
    assert work.stop() == 0
    assert [row.status for row in rows(engine)] == [InteractionStatus.DONE]
    assert [event.action for event in checked(engine, press_kit)] == ["item.checked"]


def test_a_refusal_is_answered_once_the_click_is_done(engine, press_kit):
    recorder = Recorder()
    work = processor(engine, recorder)
    try:
        recorded(engine, done(STRANGER, press_kit), f"item:{press_kit}")
        work.wake()
        answer = recorder.wait_for_responses(1)[0]
        assert [row.status for row in rows(engine)] == [InteractionStatus.DONE]  # marked before answering
    finally:
        assert work.stop() == 0
    assert answer["text"].startswith(":no_entry:")
    assert checked(engine, press_kit) == []


def test_a_click_that_cannot_be_applied_is_parked_and_the_others_go_on(engine, press_kit, caplog):
    broken = recorded(engine, {"type": "block_actions", "user": {"id": MARKETER}}, "item:999")  # no actions
    recorded(engine, done(MARKETER, press_kit), f"item:{press_kit}")
    work = processor(engine, Recorder(), poll_seconds=0.02, lease_seconds=0.5)
    try:
        wait_for(
            lambda: [row.status for row in rows(engine)] == [InteractionStatus.FAILED, InteractionStatus.DONE],
            timeout=WAIT,
            interval=0.02,
        )
    finally:
        assert work.stop() == 0
    parked = rows(engine)[0]
    assert (parked.id, parked.attempts) == (broken, MAX_ATTEMPTS)
    assert "MalformedPayload" in (parked.last_error or "")
    assert f"applying Slack interaction {broken} failed" in caplog.text
    assert json.dumps(parked.payload)  # kept as it came, for a person to look at


def test_a_menu_choice_applied_after_its_trigger_expired_asks_to_choose_again(engine, press_kit):
    """After a restart the modal can no longer be opened (Slack's trigger_id lives three seconds):
    the person is told so instead of nothing happening."""
    option = ItemChoiceRef(item_id=press_kit, version=1, choice=ItemChoice.WAIVE).to_value()
    recorded(engine, block_action(MARKETER, ActionId.ITEM_OVERFLOW, option=option), f"item:{press_kit}", ago=10)
    recorder = Recorder()
    work = processor(engine, recorder)
    try:
        answer = recorder.wait_for_responses(1)[0]
    finally:
        assert work.stop() == 0
    assert "choose it again" in answer["text"]
    assert recorder.views == []
    assert [row.status for row in rows(engine)] == [InteractionStatus.DONE]


def test_no_workers_is_refused():
    with pytest.raises(ValueError, match="at least one"):
        SlackWork(workers=0)
