"""The leadership digest (orchestrator/reporting/digest.py) read from real launches on SQLite and
PostgreSQL (with a statement count that does not grow with launches), and its once-a-day Outbox row."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from freezegun import freeze_time
from sqlalchemy import event, select
from sqlmodel import Session

from api.schemas.reporting import RegionRollupOut
from flows.scheduled import digest_markdown
from notifications.messages.digest import leadership_digest
from notifications.messages.snapshots import DigestMessage
from orchestrator.beta.criteria import set_exit_criteria
from orchestrator.core.enums import ExitMetric, GateStatus, Phase, RolloutState
from orchestrator.core.errors import InvalidInput
from orchestrator.core.models import AuditEvent, ChecklistItem, Gate, Outbox, Region, RegionRollout
from orchestrator.gates.beta_exit import beta_exit_status
from orchestrator.items.service import block_item
from orchestrator.launches.schedule import reschedule_phase
from orchestrator.launches.service import kick_off_launch
from orchestrator.reporting.digest import DIGEST_TOPIC, Digest, build_leadership_digest, queue_leadership_digest
from orchestrator.reporting.rag import Rag, RegionDigest
from orchestrator.rollouts.service import halt_region, roll_back_region
from tests.support.db import rollout_id
from tests.support.factories import BASE, item, make_launch, severity_1_bug
from tests.support.reporting import GREEN_REASON, NOW

KICKOFF = BASE - timedelta(days=20)
DUE = datetime(2027, 2, 22, 8, 0, tzinfo=UTC)  # internal (BASE) minus 7 days, 09:00 Berlin


# ---- build_leadership_digest on real launches ------------------------------------------------


def launch(session, actor, *specs, slug="acme-assistant", regions=("EU",), kick_off_at=KICKOFF):
    created = make_launch(session, actor, slug=slug, regions=regions, items=list(specs))
    if kick_off_at is not None:
        with freeze_time(kick_off_at):
            kick_off_launch(session=session, launch_id=created.id, actor=actor)
    return created


def item_id(session, launch_row, key, region_code="EU"):
    found = session.execute(
        select(ChecklistItem.id)
        .join(RegionRollout, RegionRollout.id == ChecklistItem.rollout_id)
        .join(Region, Region.id == RegionRollout.region_id)
        .where(ChecklistItem.launch_id == launch_row.id, ChecklistItem.key == key, Region.code == region_code)
    ).scalar_one()
    session.commit()
    return found


def digest_at(session, now):
    built = build_leadership_digest(session=session, now=now)
    session.commit()  # end the read (SQLite holds the write lock from BEGIN)
    return built


def only_launch(session, now):
    (found,) = digest_at(session, now).launches
    return found


def test_a_launch_with_nothing_due_soon_is_green_with_its_regions(seeded, actor):
    created = launch(seeded, actor, item("press_kit"), item("faq", team="support", offset=-3))

    found = only_launch(seeded, KICKOFF + timedelta(hours=1))

    assert (found.id, found.slug, found.name, found.tier, found.owner) == (
        created.id,
        "acme-assistant",
        "Acme Assistant",
        2,
        "owner@example.com",
    )
    assert (found.rag, found.reason) == (Rag.GREEN, GREEN_REASON)
    (eu,) = found.regions
    assert eu == RegionDigest(
        region="EU",
        region_name="Europe",
        state=RolloutState.GATED,
        phase=Phase.INTERNAL,
        percent=0,
        open_blocking=2,
        overdue_blocking=0,
        blocked=0,
        blocked_blocking=0,
        next_blocking_due_at=DUE,
        slip_days=0,
        slip_phase=None,
        next_gate_phase=Phase.INTERNAL,
        next_gate_at=BASE,
        timezone="Europe/Berlin",
    )


def test_an_overdue_blocking_item_makes_the_launch_red(seeded, actor):
    launch(seeded, actor, item("press_kit"), item("faq", team="support", offset=-3))

    found = only_launch(seeded, DUE + timedelta(hours=1))

    assert (found.rag, found.reason) == (Rag.RED, "EU: 1 blocking item overdue")
    (eu,) = found.regions
    assert (eu.open_blocking, eu.overdue_blocking) == (2, 1)
    assert eu.next_blocking_due_at == datetime(2027, 2, 26, 8, 0, tzinfo=UTC)  # faq, not yet late


def test_a_blocked_blocking_item_makes_the_launch_red_but_an_advisory_one_does_not(seeded, actor):
    created = launch(seeded, actor, item("press_kit"), item("briefing", blocking=False, offset=-15))
    with freeze_time(KICKOFF + timedelta(days=1)):
        block_item(session=seeded, item_id=item_id(seeded, created, "briefing"), actor=actor, reason="no slot")

    advisory_only = only_launch(seeded, KICKOFF + timedelta(days=1, hours=1))
    assert advisory_only.rag == Rag.GREEN  # the advisory item is blocked and overdue, yet green
    (eu,) = advisory_only.regions
    assert (eu.open_blocking, eu.overdue_blocking, eu.blocked, eu.blocked_blocking) == (1, 0, 1, 0)

    with freeze_time(KICKOFF + timedelta(days=2)):
        block_item(session=seeded, item_id=item_id(seeded, created, "press_kit"), actor=actor, reason="legal")
    found = only_launch(seeded, KICKOFF + timedelta(days=2, hours=1))
    assert (found.rag, found.reason) == (Rag.RED, "EU: 1 blocking item blocked")
    assert (found.regions[0].blocked, found.regions[0].blocked_blocking) == (2, 1)


@pytest.mark.parametrize(("brake", "words"), [(halt_region, "halted"), (roll_back_region, "rolled back")])
def test_a_halted_or_rolled_back_region_makes_the_launch_red(seeded, actor, brake, words):
    created = launch(seeded, actor, item("press_kit", region="EU"), regions=("EU", "NA"))
    with freeze_time(KICKOFF + timedelta(days=1)):
        brake(session=seeded, rollout_id=rollout_id(seeded, created, "NA"), actor=actor, reason="incident")

    found = only_launch(seeded, KICKOFF + timedelta(days=1, hours=1))

    assert (found.rag, found.reason) == (Rag.RED, f"NA: {words}")
    assert [(r.region, r.state) for r in found.regions] == [
        ("EU", RolloutState.GATED),
        ("NA", RolloutState.HALTED if brake is halt_region else RolloutState.ROLLED_BACK),
    ]


def test_a_blocking_item_due_within_three_days_makes_the_launch_amber(seeded, actor):
    launch(seeded, actor, item("press_kit"))

    assert only_launch(seeded, DUE - timedelta(days=3, minutes=1)).rag == Rag.GREEN
    found = only_launch(seeded, DUE - timedelta(days=2))
    assert (found.rag, found.reason) == (Rag.AMBER, "EU: blocking item due 2027-02-22 08:00 UTC")


def test_a_phase_that_slipped_more_than_a_week_makes_the_launch_amber(seeded, actor):
    created = launch(seeded, actor)
    rollout = rollout_id(seeded, created, "EU")
    with freeze_time(KICKOFF + timedelta(days=1)):
        reschedule_phase(
            session=seeded,
            rollout_id=rollout,
            phase=Phase.INTERNAL,
            new_at=BASE + timedelta(days=5),
            actor=actor,
            reason="waiting for the DPA",
        )
    five = only_launch(seeded, KICKOFF + timedelta(days=2))
    assert (five.rag, five.regions[0].slip_days, five.regions[0].slip_phase) == (Rag.GREEN, 5, Phase.INTERNAL)
    assert five.regions[0].next_gate_at == BASE + timedelta(days=5)

    with freeze_time(KICKOFF + timedelta(days=2)):
        reschedule_phase(
            session=seeded,
            rollout_id=rollout,
            phase=Phase.INTERNAL,
            new_at=BASE + timedelta(days=8),
            actor=actor,
            reason="DPA still unsigned",
        )
    found = only_launch(seeded, KICKOFF + timedelta(days=3))
    assert (found.rag, found.reason) == (Rag.AMBER, "EU: internal slipped 8 days")
    assert found.regions[0].slip_days == 8


def test_slip_is_the_largest_over_the_current_and_later_phases(seeded, actor):
    created = launch(seeded, actor)
    with freeze_time(KICKOFF + timedelta(days=1)):
        reschedule_phase(
            session=seeded,
            rollout_id=rollout_id(seeded, created, "EU"),
            phase=Phase.GA,
            new_at=BASE + timedelta(days=42 + 10),
            actor=actor,
            reason="pricing review",
        )

    (eu,) = only_launch(seeded, KICKOFF + timedelta(days=2)).regions

    assert (eu.phase, eu.slip_phase, eu.slip_days) == (Phase.INTERNAL, Phase.GA, 10)


def test_the_next_gate_moves_on_once_a_phase_passes_its_gates(seeded, actor):
    launch(seeded, actor, kick_off_at=BASE + timedelta(hours=1))  # nothing to do, date reached

    (eu,) = only_launch(seeded, BASE + timedelta(hours=2)).regions

    assert (eu.state, eu.phase) == (RolloutState.READY, Phase.INTERNAL)
    assert (eu.next_gate_phase, eu.next_gate_at) == (Phase.PRIVATE_BETA, BASE + timedelta(days=14))


def test_only_active_launches_are_reported_red_first(seeded, actor):
    launch(seeded, actor, slug="draft-launch", kick_off_at=None)
    launch(seeded, actor, item("press_kit", offset=30), slug="a-green-launch")
    launch(seeded, actor, item("press_kit"), slug="z-red-launch")

    found = digest_at(seeded, DUE + timedelta(hours=1))

    assert [(launch.slug, launch.rag) for launch in found.launches] == [
        ("z-red-launch", Rag.RED),
        ("a-green-launch", Rag.GREEN),
    ]
    assert (found.count(Rag.RED), found.count(Rag.AMBER), found.count(Rag.GREEN)) == (1, 0, 1)
    assert found.generated_at == DUE + timedelta(hours=1)


def test_a_long_lived_session_reports_what_another_session_changed(engine, seeded, actor):
    created = launch(seeded, actor, item("press_kit"))
    cached = seeded.get(RegionRollout, rollout_id(seeded, created, "EU"))  # held in `seeded`'s identity map
    assert cached.state == RolloutState.GATED
    seeded.commit()  # end the read; the object stays in the identity map while `cached` holds it
    with Session(engine, expire_on_commit=False) as other, freeze_time(NOW):
        halt_region(session=other, rollout_id=cached.id, actor=actor, reason="incident")

    found = only_launch(seeded, NOW + timedelta(minutes=1))

    assert (found.rag, found.regions[0].state) == (Rag.RED, RolloutState.HALTED)


def test_no_active_launches_is_an_empty_digest(seeded, actor):
    assert digest_at(seeded, NOW) == Digest(generated_at=NOW, launches=())


def test_the_number_of_statements_does_not_grow_with_launches(engine, seeded, actor):
    def statements_for_digest():
        seen = []

        def count(*_args):
            seen.append(1)

        event.listen(engine, "before_cursor_execute", count)
        try:
            found = digest_at(seeded, DUE + timedelta(hours=1))
        finally:
            event.remove(engine, "before_cursor_execute", count)
        return len(seen), len(found.launches)

    def add(index):
        launch(
            seeded,
            actor,
            item("press_kit", region="EU"),
            item("press_kit", region="NA"),
            item("faq", region="NA", team="support", offset=20),
            slug=f"launch-{index:02d}",
            regions=("EU", "NA"),
        )

    for index in range(2):
        add(index)
    two, launches = statements_for_digest()
    assert launches == 2
    for index in range(2, 10):
        add(index)
    ten, launches = statements_for_digest()
    assert launches == 10

    assert two == ten


def test_the_next_gate_shows_its_beta_exit_criteria_wherever_the_digest_goes(seeded, actor):
    """A region waiting at a beta exit gate: the digest carries each criterion's value, threshold
    and verdict (the same as the gate's own read), and the Slack message, the Markdown artifact and
    the Outbox payload all show them."""
    created = launch(seeded, actor, item("press_kit"))
    with freeze_time(KICKOFF):
        set_exit_criteria(
            session=seeded,
            launch_id=created.id,
            phase=Phase.PRIVATE_BETA,
            thresholds={ExitMetric.OPEN_SEVERITY_1: 0, ExitMetric.ACTIVE_ACCOUNTS: 1},
            actor=actor,
        )
        severity_1_bug(seeded, actor, launch_id=created.id)
    eu = rollout_id(seeded, created, "EU")
    order = Phase.ordered()
    for gate in seeded.execute(select(Gate).where(Gate.rollout_id == eu)).scalars():
        if order.index(gate.phase) < order.index(Phase.PUBLIC_BETA):
            gate.status = GateStatus.PASSED  # the region got as far as private beta
    seeded.commit()

    digest = digest_at(seeded, NOW)
    (region_digest,) = digest.launches[0].regions

    assert region_digest.next_gate_phase == Phase.PUBLIC_BETA
    expected = tuple(beta_exit_status(session=seeded, rollout_id=eu, phase=Phase.PUBLIC_BETA, now=NOW))
    seeded.commit()
    assert region_digest.next_gate_criteria == expected
    assert [(status.metric, status.value, status.met) for status in expected] == [
        (ExitMetric.OPEN_SEVERITY_1, 1, False),
        (ExitMetric.ACTIVE_ACCOUNTS, 0, False),
    ]
    slack_text = json.dumps([message.blocks for message in leadership_digest(DigestMessage(digest=digest))])
    assert ":x: open_severity_1: 1 (needs &lt;= 0), :x: active_accounts: 0 (needs &gt;= 1)" in slack_text
    assert "(open_severity_1: 1 (needs <= 0) ✗; active_accounts: 0 (needs >= 1) ✗)" in digest_markdown(digest)
    shown = [
        {"metric": "open_severity_1", "comparator": "<=", "threshold": 0, "value": 1, "met": False},
        {"metric": "active_accounts", "comparator": ">=", "threshold": 1, "value": 0, "met": False},
    ]
    assert digest.to_payload()["launches"][0]["regions"][0]["next_gate_criteria"] == shown
    rollup = RegionRollupOut.model_validate(region_digest, from_attributes=True)  # GET /api/v1/rollup
    assert rollup.model_dump(mode="json")["next_gate_criteria"] == shown


def test_skipped_phases_show_wherever_the_digest_goes_and_colour_nothing(seeded, actor):
    """A region that skips both betas and has moved on to GA: the skipped phases are named as
    skipped in the Slack message, the Markdown artifact, the Outbox payload and the API rollup,
    and the launch is green for what was checked, not for the skipped phases."""
    dates = {Phase.INTERNAL: BASE, Phase.GA: BASE + timedelta(days=42)}
    created = make_launch(seeded, actor, dates=dates, items=[item("press_kit", phase=Phase.GA)])
    with freeze_time(KICKOFF):
        kick_off_launch(session=seeded, launch_id=created.id, actor=actor)

    digest = digest_at(seeded, KICKOFF + timedelta(hours=1))
    (launch_digest,) = digest.launches
    (region_digest,) = launch_digest.regions

    assert region_digest.skipped_phases == (Phase.PRIVATE_BETA, Phase.PUBLIC_BETA)
    assert (launch_digest.rag, launch_digest.reason) == (Rag.GREEN, GREEN_REASON)
    slack_text = json.dumps([message.blocks for message in leadership_digest(DigestMessage(digest=digest))])
    assert "skips Private beta, Public beta" in slack_text
    assert "| private_beta, public_beta |" in digest_markdown(digest)
    assert digest.to_payload()["launches"][0]["regions"][0]["skipped_phases"] == ["private_beta", "public_beta"]
    rollup = RegionRollupOut.model_validate(region_digest, from_attributes=True)  # GET /api/v1/rollup
    assert rollup.model_dump(mode="json")["skipped_phases"] == ["private_beta", "public_beta"]


def test_a_naive_now_is_refused(seeded):
    with pytest.raises(InvalidInput, match="now"):
        build_leadership_digest(session=seeded, now=datetime(2027, 2, 10, 9, 0))


# ---- queue_leadership_digest -----------------------------------------------------------------


def outbox(session):
    found = list(session.execute(select(Outbox).where(Outbox.topic == DIGEST_TOPIC).order_by(Outbox.id)).scalars())
    session.commit()
    return found


def test_the_digest_is_queued_once_per_utc_day(seeded, actor):
    launch(seeded, actor, item("press_kit"))
    morning = datetime(2027, 2, 23, 7, 0, tzinfo=UTC)

    assert queue_leadership_digest(session=seeded, now=morning, actor=actor) is True
    assert queue_leadership_digest(session=seeded, now=morning + timedelta(hours=16), actor=actor) is False
    assert queue_leadership_digest(session=seeded, now=morning + timedelta(days=1), actor=actor) is True

    first, second = outbox(seeded)
    assert (first.key, second.key) == ("digest:daily:2027-02-23", "digest:daily:2027-02-24")
    assert first.launch_id is None
    assert first.payload == json.loads(json.dumps(digest_at(seeded, morning).to_payload()))
    assert first.payload["counts"] == {"red": 1, "amber": 0, "green": 0}
    (launch_payload,) = first.payload["launches"]
    assert launch_payload["reason"] == "EU: 1 blocking item overdue"
    assert launch_payload["regions"][0]["next_gate_at"] == BASE.isoformat()
    events = list(
        seeded.execute(select(AuditEvent).where(AuditEvent.action == "digest.queued").order_by(AuditEvent.id)).scalars()
    )
    seeded.commit()
    assert [event.after["key"] for event in events] == ["digest:daily:2027-02-23", "digest:daily:2027-02-24"]
    assert events[0].after == {"key": "digest:daily:2027-02-23", "launches": 1, "red": 1, "amber": 0, "green": 0}


def test_a_digest_built_earlier_can_be_queued_as_is_but_not_for_another_time(seeded, actor):
    launch(seeded, actor, item("press_kit"))
    built = digest_at(seeded, NOW)

    with pytest.raises(InvalidInput, match="digest"):
        queue_leadership_digest(session=seeded, now=NOW + timedelta(minutes=1), actor=actor, digest=built)
    assert queue_leadership_digest(session=seeded, now=NOW, actor=actor, digest=built) is True
    (row,) = outbox(seeded)
    assert row.payload == json.loads(json.dumps(built.to_payload()))
