"""Beta notifications: the guardrail alert reaches the region's channel and the owner by DM, and
the weekly ranked digest is queued once per week and posted within Slack's limits, through the
real WebClient against the fake Slack Web API."""

from datetime import UTC, datetime, timedelta

from freezegun import freeze_time
from sqlmodel import select

from notifications.delivery.slack_delivery import dispatch_notifications
from notifications.messages.beta import beta_digest, guardrail_alert
from notifications.messages.layout import MAX_BLOCKS
from notifications.messages.snapshots import GuardrailAlert
from orchestrator.beta.digest import BetaDigest, BetaLaunchDigest, build_beta_digest, queue_beta_digest
from orchestrator.beta.scoring import RankedFeedback
from orchestrator.core.enums import FeedbackType, OutboxStatus, Phase, Role
from orchestrator.core.models import Outbox
from orchestrator.directory.seed import MemberSeed
from orchestrator.directory.service import upsert_member
from orchestrator.launches.service import kick_off_launch
from orchestrator.rollouts.service import set_exposure
from tests.support.beta import feedback as report
from tests.support.factories import make_launch, phase_dates
from tests.support.fake_slack import transport

NOW = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)  # a Monday


def dispatch(session, fake, when=NOW):
    return dispatch_notifications(session=session, transport=transport(fake), now=when, leadership_channel="#leaders")


def test_the_guardrail_alert_goes_to_the_region_channel_and_the_owner_by_dm(seeded, actor, fake_slack):
    owner = MemberSeed(email="owner@example.com", name="Owner", team=None, role=Role.PRODOPS, slack_user_id="U0OWNER")
    upsert_member(session=seeded, seed=owner, actor=actor)
    past = phase_dates(datetime.now(UTC).replace(microsecond=0) - timedelta(days=60), step_days=7)
    launch = make_launch(seeded, actor, dates=past)
    kick_off_launch(session=seeded, launch_id=launch.id, actor=actor)
    rollout_id = seeded.exec(select(Outbox.payload).where(Outbox.topic == "gate.opened")).first()["rollout_id"]
    set_exposure(session=seeded, rollout_id=rollout_id, phase=Phase.INTERNAL, percent=25, actor=actor)
    blocker = report(seeded, actor, launch, severity=1, text="Deletes the workspace on save")

    dispatch(seeded, fake_slack)

    alerts = [
        call
        for call in fake_slack.calls_to("chat.postMessage")
        if "halted in EU: severity-1" in call.body.get("text", "")
    ]
    assert sorted(call.body["channel"] for call in alerts) == ["#launch-eu", "DU0OWNER"]
    assert all(f"#{blocker.id}" in str(call.body["blocks"]) for call in alerts)
    row = seeded.exec(select(Outbox).where(Outbox.topic == "beta.guardrail_halted")).one()
    seeded.commit()
    assert row.status == OutboxStatus.SENT
    dispatch(seeded, fake_slack)
    again = [
        call
        for call in fake_slack.calls_to("chat.postMessage")
        if "halted in EU: severity-1" in call.body.get("text", "")
    ]
    assert len(again) == 2, "an alert is posted once"


def test_the_weekly_digest_is_queued_once_per_week_and_posted_ranked(seeded, actor, fake_slack):
    launch = make_launch(seeded, actor)
    kick_off_launch(session=seeded, launch_id=launch.id, actor=actor)
    report(seeded, actor, launch, severity=4, text="Typo on the banner")
    report(seeded, actor, launch, severity=2, text="Export times out")

    with freeze_time(NOW):
        assert queue_beta_digest(session=seeded, now=NOW, actor=actor) is True
        assert queue_beta_digest(session=seeded, now=NOW + timedelta(days=2), actor=actor) is False
        assert queue_beta_digest(session=seeded, now=NOW + timedelta(days=7), actor=actor) is True
        dispatch(seeded, fake_slack)

    digests = [call for call in fake_slack.calls_to("chat.postMessage") if "Beta feedback, week" in call.body["text"]]
    assert len(digests) == 2
    assert {call.body["channel"] for call in digests} == {"#leaders"}
    text = str(digests[0].body["blocks"])
    assert text.index("Export times out") < text.index("Typo on the banner")


def test_no_open_feedback_queues_no_digest(seeded, actor):
    make_launch(seeded, actor)
    assert queue_beta_digest(session=seeded, now=NOW, actor=actor) is False
    assert build_beta_digest(session=seeded, now=NOW).launches == ()


def ranked(number: int, text: str = "Something is off") -> RankedFeedback:
    return RankedFeedback(
        rank=number,
        score=100.0 / number,
        feedback_id=number,
        region="EU",
        phase=Phase.PUBLIC_BETA,
        type=FeedbackType.BUG,
        severity=1 + number % 4,
        reports=number,
        accounts=1,
        text=text,
        link=None,
    )


def test_a_huge_digest_splits_within_slacks_limits_and_lists_every_report_once():
    launches = tuple(
        BetaLaunchDigest(
            slug=f"launch-{index}",
            name=f"Launch {index}",
            owner="o@example.com",
            open_reports=10,
            open_severity_1=0,
            top=tuple(ranked(number, text="x" * 400) for number in range(1, 11)),
        )
        for index in range(40)
    )
    messages = beta_digest(BetaDigest(generated_at=NOW, week="2027-W09", launches=launches))
    assert len(messages) > 1
    assert all(len(message.blocks) <= MAX_BLOCKS for message in messages)
    shown = " ".join(str(message.blocks) for message in messages)
    for index in range(40):
        assert shown.count(f"`launch-{index}`") == 1
    assert shown.count("#10 ") == 40


def test_the_guardrail_alert_survives_hostile_text():
    message = guardrail_alert(
        GuardrailAlert(
            launch="acme",
            region="EU",
            phase="public_beta",
            percent=10,
            account="<!channel>",
            text="*bold* <https://evil|x> " + "y" * 5000,
            link="https://tickets.example.com/1",
            feedback_id=7,
            owner="owner@example.com",
        )
    )
    assert "<!channel>" not in str(message.blocks)
    assert len(message.text) < 200


def test_the_gate_message_shows_each_exit_criterion_with_value_and_threshold(seeded, actor):
    from notifications.delivery.composer import gate_envelopes
    from orchestrator.core.enums import ExitMetric
    from orchestrator.core.models import RegionRollout
    from orchestrator.launches.service import create_launch
    from orchestrator.launches.spec import LaunchSpec, RegionPlan
    from tests.support.factories import item

    spec = LaunchSpec(
        slug="gated-beta",
        name="Gated beta",
        tier=3,
        owner="owner@example.com",
        approvers=["vp@example.com"],
        regions=[RegionPlan(region="EU", dates=phase_dates())],
        beta_exit_criteria={Phase.PRIVATE_BETA: {ExitMetric.OPEN_SEVERITY_1: 0, ExitMetric.ACTIVE_ACCOUNTS: 5}},
    )
    launch = create_launch(session=seeded, spec=spec, items=[item("launch_blog", phase=Phase.PUBLIC_BETA)], actor=actor)
    report(seeded, actor, launch, severity=1, text="Crash on login")
    rollout_id = seeded.exec(select(RegionRollout.id).where(RegionRollout.launch_id == launch.id)).one()

    (envelope,) = gate_envelopes(seeded, rollout_id=rollout_id, phase=Phase.PUBLIC_BETA)

    (criteria,) = [block for block in envelope.messages[0].blocks if block.get("block_id") == "gate:beta-exit"]
    text = criteria["elements"][0]["text"]
    assert "open_severity_1: 1 (needs &lt;= 0)" in text
    assert "active_accounts: 0 (needs &gt;= 5)" in text
