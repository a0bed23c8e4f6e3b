"""Overdue reminders as Outbox intents: who is told, how often, when it escalates, what is left
alone; on SQLite and PostgreSQL."""

from datetime import UTC, datetime, timedelta

import pytest
from freezegun import freeze_time
from sqlalchemy import event, func, select, update

from orchestrator.core.clock import as_utc
from orchestrator.core.enums import OutboxStatus
from orchestrator.core.errors import InvalidInput
from orchestrator.core.models import AuditEvent, ChecklistItem, Member, Outbox, Region, RegionRollout, Team
from orchestrator.items.details import assign_item
from orchestrator.items.reminders import ESCALATION_TOPIC, REMINDER_TOPIC, ReminderRun, queue_overdue_reminders
from orchestrator.items.service import block_item, check_item, mark_not_applicable, waive_item
from orchestrator.launches.service import kick_off_launch
from orchestrator.rollouts.service import halt_region, roll_back_region
from tests.support.factories import BASE, item, make_launch

KICKOFF = BASE - timedelta(days=20)
# The internal phase is on BASE (2027-03-01); items at offset -7 are due 09:00 Berlin on 22 Feb.
DUE = datetime(2027, 2, 22, 8, 0, tzinfo=UTC)
LATE = DUE + timedelta(days=1, hours=2)


# ---- helpers ---------------------------------------------------------------------------------


def setup(session, actor, *specs, slug="acme-assistant", regions=("EU",), kick_off=True):
    launch = make_launch(session, actor, slug=slug, regions=regions, items=list(specs))
    if kick_off:
        with freeze_time(KICKOFF):
            kick_off_launch(session=session, launch_id=launch.id, actor=actor)
    statement = select(ChecklistItem.key, ChecklistItem.id).where(ChecklistItem.launch_id == launch.id)
    ids = {key: item_id for key, item_id in session.execute(statement)}
    session.commit()
    return launch, ids


def member(session, *, email="dana@example.com", slack_user_id="U0DANA", team="marketing"):
    team_id = session.execute(select(Team.id).where(Team.key == team)).scalar_one()
    row = Member(email=email, name=email.split("@")[0].title(), slack_user_id=slack_user_id, team_id=team_id)
    session.add(row)
    session.commit()
    return row.id


def remind(session, actor, now, **options):
    return queue_overdue_reminders(session=session, now=now, actor=actor, **options)


def outbox(session, topic):
    found = list(session.execute(select(Outbox).where(Outbox.topic == topic).order_by(Outbox.id)).scalars())
    session.commit()
    return found


def audits(session):
    found = list(
        session.execute(
            select(AuditEvent).where(AuditEvent.action == "reminders.queued").order_by(AuditEvent.id)
        ).scalars()
    )
    session.commit()
    return found


def fresh_item(session, item_id):
    found = session.execute(
        select(ChecklistItem).where(ChecklistItem.id == item_id).execution_options(populate_existing=True)
    ).scalar_one()
    session.commit()
    return found


# ---- who is told -----------------------------------------------------------------------------


def test_nothing_is_queued_before_an_item_is_late(seeded, actor):
    _, ids = setup(seeded, actor, item("press_kit"))
    assert as_utc(fresh_item(seeded, ids["press_kit"]).due_at) == DUE

    assert remind(seeded, actor, DUE - timedelta(minutes=1)) == ReminderRun(reminded=0, escalated=0, skipped=0)
    assert remind(seeded, actor, DUE) == ReminderRun(reminded=0, escalated=0, skipped=0)  # due now is not late
    assert outbox(seeded, REMINDER_TOPIC) == []
    assert audits(seeded) == []


def test_an_overdue_item_reminds_its_assignee_by_direct_message(seeded, actor):
    launch, ids = setup(seeded, actor, item("press_kit"))
    dana = member(seeded)
    with freeze_time(KICKOFF + timedelta(days=1)):
        assign_item(session=seeded, item_id=ids["press_kit"], assignee_id=dana, actor=actor)
    version = fresh_item(seeded, ids["press_kit"]).version

    assert remind(seeded, actor, LATE) == ReminderRun(reminded=1, escalated=0, skipped=0)

    (message,) = outbox(seeded, REMINDER_TOPIC)
    assert (message.launch_id, message.status, message.attempts) == (launch.id, OutboxStatus.PENDING, 0)
    assert message.payload == {
        "item_id": ids["press_kit"],
        "launch_id": launch.id,
        "launch_slug": "acme-assistant",
        "region": "EU",
        "phase": "internal",
        "title": "Press kit",
        "team": "marketing",
        "assignee_id": dana,
        "assignee_slack_user_id": "U0DANA",
        "days_late": 1,
        "due_at": DUE.isoformat(),
        "reminder_number": 1,
        "to": {"kind": "dm", "member_id": dana, "email": "dana@example.com", "slack_user_id": "U0DANA"},
    }
    stamped = fresh_item(seeded, ids["press_kit"])
    assert as_utc(stamped.last_reminded_at) == LATE
    assert stamped.reminders_sent == 1
    assert stamped.escalated_at is None
    assert stamped.version == version  # bookkeeping, not an edit: open Slack buttons stay valid
    (audit,) = audits(seeded)
    assert (audit.entity, audit.actor, audit.launch_id) == ("reminders", actor.name, None)
    assert audit.after == {"reminded": 1, "escalated": 0, "skipped": 0}


def test_an_unassigned_item_reminds_the_owning_team_channel(seeded, actor):
    _, ids = setup(seeded, actor, item("press_kit"), item("dpa_signed", team="legal", offset=-5))

    assert remind(seeded, actor, LATE) == ReminderRun(reminded=1, escalated=0, skipped=0)

    (message,) = outbox(seeded, REMINDER_TOPIC)
    assert message.payload["item_id"] == ids["press_kit"]  # dpa_signed is not due until 24 Feb
    assert message.payload["assignee_id"] is None
    assert message.payload["assignee_slack_user_id"] is None
    assert message.payload["to"] == {"kind": "team", "team": "marketing", "slack_channel": "#launch-marketing"}


def test_an_assignee_without_slack_id_is_still_addressed_by_member_and_email(seeded, actor):
    _, ids = setup(seeded, actor, item("press_kit"))
    pat = member(seeded, email="pat@example.com", slack_user_id=None)
    with freeze_time(KICKOFF):
        assign_item(session=seeded, item_id=ids["press_kit"], assignee_id=pat, actor=actor)

    remind(seeded, actor, LATE)

    (message,) = outbox(seeded, REMINDER_TOPIC)
    assert message.payload["to"] == {"kind": "dm", "member_id": pat, "email": "pat@example.com", "slack_user_id": None}


# ---- how often -------------------------------------------------------------------------------


def test_running_again_within_the_interval_queues_nothing(seeded, actor):
    _, ids = setup(seeded, actor, item("press_kit"))

    assert remind(seeded, actor, LATE).reminded == 1
    assert remind(seeded, actor, LATE) == ReminderRun(reminded=0, escalated=0, skipped=1)  # a retry
    assert remind(seeded, actor, LATE + timedelta(hours=23, minutes=59)) == ReminderRun(0, 0, 1)

    assert len(outbox(seeded, REMINDER_TOPIC)) == 1
    assert len(audits(seeded)) == 1  # runs that queue nothing leave no audit event
    assert fresh_item(seeded, ids["press_kit"]).reminders_sent == 1


def test_after_the_interval_one_more_reminder(seeded, actor):
    _, ids = setup(seeded, actor, item("press_kit"))

    remind(seeded, actor, LATE)
    assert remind(seeded, actor, LATE + timedelta(hours=24)) == ReminderRun(reminded=1, escalated=0, skipped=0)
    assert remind(seeded, actor, LATE + timedelta(hours=25)).reminded == 0

    first, second = outbox(seeded, REMINDER_TOPIC)
    assert first.key != second.key
    assert (first.payload["days_late"], second.payload["days_late"]) == (1, 2)
    assert second.payload["reminder_number"] == 2
    stamped = fresh_item(seeded, ids["press_kit"])
    assert (stamped.reminders_sent, as_utc(stamped.last_reminded_at)) == (2, LATE + timedelta(hours=24))


def test_the_interval_is_a_parameter(seeded, actor):
    setup(seeded, actor, item("press_kit"))
    every = timedelta(hours=4)

    assert remind(seeded, actor, LATE, remind_every=every).reminded == 1
    assert remind(seeded, actor, LATE + timedelta(hours=3, minutes=59), remind_every=every).reminded == 0
    assert remind(seeded, actor, LATE + timedelta(hours=4), remind_every=every).reminded == 1


def test_a_replay_whose_stamp_was_lost_is_stopped_by_the_outbox_key(seeded, actor):
    """Belt and braces: even if the throttle column were cleared, the same interval's key is taken."""
    _, ids = setup(seeded, actor, item("press_kit"))
    remind(seeded, actor, LATE)
    seeded.execute(update(ChecklistItem).where(ChecklistItem.id == ids["press_kit"]).values(last_reminded_at=None))
    seeded.commit()

    assert remind(seeded, actor, LATE + timedelta(hours=1)) == ReminderRun(reminded=0, escalated=0, skipped=1)
    assert len(outbox(seeded, REMINDER_TOPIC)) == 1
    assert fresh_item(seeded, ids["press_kit"]).reminders_sent == 1  # nothing queued, nothing counted


# ---- escalation ------------------------------------------------------------------------------


def test_an_item_late_for_more_than_three_days_is_escalated_to_its_team_once(seeded, actor):
    launch, ids = setup(seeded, actor, item("press_kit"))
    dana = member(seeded)
    with freeze_time(KICKOFF):
        assign_item(session=seeded, item_id=ids["press_kit"], assignee_id=dana, actor=actor)

    assert remind(seeded, actor, DUE + timedelta(days=2)) == ReminderRun(reminded=1, escalated=0, skipped=0)
    assert remind(seeded, actor, DUE + timedelta(days=3)) == ReminderRun(reminded=1, escalated=0, skipped=0)
    escalation_time = DUE + timedelta(days=4)
    assert remind(seeded, actor, escalation_time) == ReminderRun(reminded=1, escalated=1, skipped=0)
    assert remind(seeded, actor, DUE + timedelta(days=5)) == ReminderRun(reminded=1, escalated=0, skipped=0)
    assert remind(seeded, actor, DUE + timedelta(days=9)) == ReminderRun(reminded=1, escalated=0, skipped=0)

    (escalation,) = outbox(seeded, ESCALATION_TOPIC)
    assert escalation.launch_id == launch.id
    assert escalation.payload["to"] == {"kind": "team", "team": "marketing", "slack_channel": "#launch-marketing"}
    assert escalation.payload["assignee_id"] == dana
    assert escalation.payload["days_late"] == 4
    assert escalation.payload["reminders_sent"] == 3
    assert escalation.payload["escalate_after_days"] == 3
    stamped = fresh_item(seeded, ids["press_kit"])
    assert as_utc(stamped.escalated_at) == escalation_time
    assert stamped.reminders_sent == 5
    assert audits(seeded)[2].after == {"reminded": 1, "escalated": 1, "skipped": 0}


def test_escalation_is_not_held_back_by_the_reminder_throttle(seeded, actor):
    _, ids = setup(seeded, actor, item("press_kit"))
    remind(seeded, actor, DUE + timedelta(days=3) - timedelta(hours=1))

    assert remind(seeded, actor, DUE + timedelta(days=3, hours=1)) == ReminderRun(reminded=0, escalated=1, skipped=0)
    assert fresh_item(seeded, ids["press_kit"]).reminders_sent == 1


def test_escalate_after_is_a_parameter(seeded, actor):
    setup(seeded, actor, item("press_kit"))

    run = remind(seeded, actor, LATE, escalate_after=timedelta(days=1))

    assert run == ReminderRun(reminded=1, escalated=1, skipped=0)


# ---- what is left alone ----------------------------------------------------------------------


def test_done_waived_and_not_applicable_items_are_not_chased(seeded, actor):
    _, ids = setup(
        seeded,
        actor,
        item("press_kit"),
        item("faq"),
        item("pricing_page"),
        item("blog_post"),
        item("briefing", blocking=False),
    )
    with freeze_time(KICKOFF + timedelta(days=1)):
        check_item(session=seeded, item_id=ids["press_kit"], actor=actor)
        waive_item(session=seeded, item_id=ids["faq"], actor=actor, reason="covered by the launch FAQ")
        mark_not_applicable(session=seeded, item_id=ids["pricing_page"], actor=actor, reason="no pricing change")
        block_item(session=seeded, item_id=ids["blog_post"], actor=actor, reason="waiting for legal")

    run = remind(seeded, actor, LATE)

    assert run == ReminderRun(reminded=2, escalated=0, skipped=0)
    chased = {message.payload["item_id"] for message in outbox(seeded, REMINDER_TOPIC)}
    assert chased == {ids["blog_post"], ids["briefing"]}  # blocked and advisory items are still owed


@pytest.mark.parametrize("brake", [halt_region, roll_back_region])
def test_items_of_a_halted_or_rolled_back_region_are_not_chased(seeded, actor, brake):
    launch, _ = setup(
        seeded, actor, item("press_kit", region="EU"), item("press_kit", region="NA"), regions=("EU", "NA")
    )
    na = seeded.execute(
        select(RegionRollout.id)
        .join(Region, Region.id == RegionRollout.region_id)
        .where(RegionRollout.launch_id == launch.id, Region.code == "NA")
    ).scalar_one()
    seeded.commit()
    with freeze_time(KICKOFF + timedelta(days=1)):
        brake(session=seeded, rollout_id=na, actor=actor, reason="payment incident")

    run = remind(seeded, actor, LATE)

    assert run == ReminderRun(reminded=1, escalated=0, skipped=0)
    (message,) = outbox(seeded, REMINDER_TOPIC)
    assert message.payload["region"] == "EU"


def test_items_of_a_draft_launch_are_not_chased(seeded, actor):
    setup(seeded, actor, item("press_kit"), kick_off=False)

    assert remind(seeded, actor, LATE) == ReminderRun(reminded=0, escalated=0, skipped=0)
    assert outbox(seeded, REMINDER_TOPIC) == []


def test_items_without_a_due_date_are_never_late(seeded, actor):
    setup(seeded, actor, item("press_kit", offset=None))

    assert remind(seeded, actor, LATE + timedelta(days=365)) == ReminderRun(reminded=0, escalated=0, skipped=0)


# ---- shape of the run ------------------------------------------------------------------------


def test_many_launches_and_items_are_reminded_in_one_run(seeded, actor):
    setup(seeded, actor, item("press_kit"), item("faq", team="support"), slug="first-launch")
    setup(seeded, actor, item("press_kit"), item("dpa_signed", team="legal", offset=-8), slug="second-launch")

    run = remind(seeded, actor, LATE)

    assert run == ReminderRun(reminded=4, escalated=0, skipped=0)
    sent = {(m.payload["launch_slug"], m.payload["team"]) for m in outbox(seeded, REMINDER_TOPIC)}
    assert sent == {
        ("first-launch", "marketing"),
        ("first-launch", "support"),
        ("second-launch", "marketing"),
        ("second-launch", "legal"),
    }
    (audit,) = audits(seeded)
    assert audit.after == {"reminded": 4, "escalated": 0, "skipped": 0}


def test_the_statement_count_does_not_grow_with_the_number_of_items(engine, seeded, actor):
    statements = []

    def count(*_args):
        statements.append(1)

    setup(seeded, actor, *(item(f"task_{n}") for n in range(2)), slug="small-launch")
    event.listen(engine, "before_cursor_execute", count)
    try:
        assert remind(seeded, actor, LATE).reminded == 2
        few = len(statements)
        event.remove(engine, "before_cursor_execute", count)
        setup(seeded, actor, *(item(f"task_{n}") for n in range(12)), slug="big-launch")
        statements.clear()
        event.listen(engine, "before_cursor_execute", count)
        assert remind(seeded, actor, LATE + timedelta(hours=1)).reminded == 12  # small-launch is throttled
        many = len(statements)
    finally:
        if event.contains(engine, "before_cursor_execute", count):
            event.remove(engine, "before_cursor_execute", count)

    assert few == many


def test_a_naive_now_or_a_nonsense_interval_is_refused(seeded, actor):
    setup(seeded, actor, item("press_kit"))

    with pytest.raises(InvalidInput, match="now"):
        remind(seeded, actor, datetime(2027, 2, 24, 9, 0))
    with pytest.raises(InvalidInput, match="remind_every"):
        remind(seeded, actor, LATE, remind_every=timedelta(0))
    with pytest.raises(InvalidInput, match="escalate_after"):
        remind(seeded, actor, LATE, escalate_after=timedelta(days=-1))
    assert seeded.execute(select(func.count()).select_from(Outbox).where(Outbox.topic == REMINDER_TOPIC)).scalar() == 0
