"""Scheduled flows: the overdue-reminder sweep (with the approval reminders of the day before a
phase date), the daily leadership digest and the weekly beta feedback digest.

Both only queue notification intents (Outbox rows) through orchestrator services; posting them
to Slack is the notifications side's job. Both are safe to run as often as a schedule or a retry
likes: the reminder throttle and the digest's per-day key live in the database, so a repeated
run queues nothing new.
"""

from datetime import timedelta

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact

from flows.resources import FLOW_ACTOR, engine
from flows.rollout import transient
from orchestrator.beta.digest import queue_beta_digest
from orchestrator.core.clock import utcnow
from orchestrator.core.db import session_scope
from orchestrator.forecasts.service import RecordRun, record_forecasts
from orchestrator.gates.reminders import ApprovalReminderRun, queue_approval_reminders
from orchestrator.items.reminders import ReminderRun, queue_overdue_reminders
from orchestrator.reporting.digest import Digest, LaunchDigest, build_leadership_digest, queue_leadership_digest
from orchestrator.reporting.rag import Rag, RegionDigest
from orchestrator.reporting.rag_history import record_rag_snapshots

DIGEST_ARTIFACT_KEY = "leadership-digest"


@task(name="queue-overdue-reminders", retries=3, retry_delay_seconds=[1, 5, 15], retry_condition_fn=transient)
def queue_reminders(remind_every_hours: float, escalate_after_days: float) -> ReminderRun:
    with session_scope(engine()) as session:
        return queue_overdue_reminders(
            session=session,
            now=utcnow(),
            remind_every=timedelta(hours=remind_every_hours),
            escalate_after=timedelta(days=escalate_after_days),
            actor=FLOW_ACTOR,
        )


@task(name="queue-approval-reminders", retries=3, retry_delay_seconds=[1, 5, 15], retry_condition_fn=transient)
def queue_vote_reminders(remind_before_hours: float) -> ApprovalReminderRun:
    with session_scope(engine()) as session:
        return queue_approval_reminders(
            session=session, now=utcnow(), actor=FLOW_ACTOR, remind_before=timedelta(hours=remind_before_hours)
        )


@task(name="record-forecasts", retries=3, retry_delay_seconds=[1, 5, 15], retry_condition_fn=transient)
def record_todays_forecasts() -> RecordRun:
    """Every active launch's readiness forecasts, recorded (once per forecast and day) so the RAG
    reads a fresh one and their accuracy can be shown once each gate has passed."""
    with session_scope(engine()) as session:
        return record_forecasts(session=session, now=utcnow(), actor=FLOW_ACTOR)


@task(name="queue-leadership-digest", retries=3, retry_delay_seconds=[1, 5, 15], retry_condition_fn=transient)
def queue_todays_digest() -> tuple[Digest, bool]:
    """Build the digest once and queue that same one, so the artifact and the Slack post agree.
    Today's forecasts are recorded first, so its colours and forecast misses are this morning's."""
    now = utcnow()
    with session_scope(engine()) as session:
        record_forecasts(session=session, now=now, actor=FLOW_ACTOR)
        digest = build_leadership_digest(session=session, now=now, with_collisions=True)
        queued = queue_leadership_digest(session=session, now=now, actor=FLOW_ACTOR, digest=digest)
        # The same digest becomes today's RAG history, so next week's dashboard can show the trend.
        record_rag_snapshots(session=session, digest=digest, actor=FLOW_ACTOR)
    return digest, queued


@task(name="queue-beta-digest", retries=3, retry_delay_seconds=[1, 5, 15], retry_condition_fn=transient)
def queue_weekly_beta_digest() -> bool:
    with session_scope(engine()) as session:
        return queue_beta_digest(session=session, now=utcnow(), actor=FLOW_ACTOR)


@flow(name="beta-feedback-digest", log_prints=False)
def beta_feedback_digest() -> dict[str, bool]:
    """Queue this week's ranked beta feedback for Slack (once per ISO week)."""
    queued = queue_weekly_beta_digest()
    if not queued:
        get_run_logger().info("this week's beta digest was already queued, or no launch has open feedback")
    return {"queued": queued}


@flow(name="overdue-reminders", log_prints=False)
def overdue_reminders(
    remind_every_hours: float = 24, escalate_after_days: float = 3, approval_remind_before_hours: float = 24
) -> dict[str, int]:
    """Nudge the owners of late checklist items (at most once per interval), and escalate items
    late by several days to the owning team's channel once. And, within a day of a phase date,
    remind the approvers who have not voted and tell prod ops who is missing (once per date).
    Hourly, it also records the readiness forecasts (a row only when one is new that day)."""
    run = queue_reminders(remind_every_hours, escalate_after_days)
    votes = queue_vote_reminders(approval_remind_before_hours)
    forecasts = record_todays_forecasts()
    get_run_logger().info("made %d readiness forecast(s), %d new today", forecasts.made, forecasts.new)
    get_run_logger().info(
        "queued %d reminder(s) and %d escalation(s); %d overdue item(s) reminded recently; "
        "%d approver reminder(s), %d missing-votes note(s)",
        run.reminded,
        run.escalated,
        run.skipped,
        votes.reminded,
        votes.told,
    )
    return {
        "reminded": run.reminded,
        "escalated": run.escalated,
        "skipped": run.skipped,
        "approvers_reminded": votes.reminded,
        "votes_missing_told": votes.told,
    }


@flow(name="leadership-digest", log_prints=False)
def leadership_digest() -> dict[str, int | bool]:
    """Queue today's leadership digest (once per UTC day) and show it in the Prefect UI."""
    digest, queued = queue_todays_digest()
    create_markdown_artifact(
        markdown=digest_markdown(digest),
        key=DIGEST_ARTIFACT_KEY,
        description=f"Leadership digest for {digest.generated_at:%Y-%m-%d} (UTC)",
    )
    if not queued:
        get_run_logger().info("today's digest was already queued; nothing new to post")
    return {"queued": queued, "launches": len(digest.launches), **{rag.value: digest.count(rag) for rag in Rag}}


def digest_markdown(digest: Digest) -> str:
    """The digest as Markdown tables: one row per launch (RAG and why), then one per region."""
    lines = [f"## Leadership digest, {digest.generated_at:%Y-%m-%d}", ""]
    if not digest.launches:
        lines.append("No active launches.")
        return "\n".join(lines)
    counts = ", ".join(f"{digest.count(rag)} {rag.value}" for rag in Rag)
    lines += [
        f"{len(digest.launches)} active launch(es): {counts}. Generated {digest.generated_at:%Y-%m-%d %H:%M} UTC.",
        "",
        "| RAG | launch | tier | owner | why |",
        "| --- | --- | --- | --- | --- |",
    ]
    lines += [_launch_row(launch) for launch in digest.launches]
    lines += [
        "",
        "### Regions",
        "",
        "| launch | region | state | phase | exposure | open blocking | overdue blocking | blocked "
        "| slipped (days) | next gate | skipped phases |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    lines += [_region_row(launch, region) for launch in digest.launches for region in launch.regions]
    if digest.forecast_misses:
        lines += ["", "### Forecast misses of the week", ""]
        lines += [
            f"- {_cell(miss.slug)}: {miss.reason} (forecast of {miss.made_at:%Y-%m-%d})"
            for miss in digest.forecast_misses
        ]
    return "\n".join(lines)


def _launch_row(launch: LaunchDigest) -> str:
    cells = [
        f"**{launch.rag.value.upper()}**",
        f"{_cell(launch.slug)} ({_cell(launch.name)})",
        str(launch.tier),
        _cell(launch.owner),
        _cell(launch.reason),
    ]
    return "| " + " | ".join(cells) + " |"


def _region_row(launch: LaunchDigest, region: RegionDigest) -> str:
    if region.next_gate_phase is None:
        next_gate = "-"
    elif region.next_gate_at is None:
        next_gate = region.next_gate_phase.value
    else:
        next_gate = f"{region.next_gate_phase.value} {region.next_gate_at:%Y-%m-%d}"
    if region.next_gate_criteria:
        shown = "; ".join(f"{status.label} {'✓' if status.met else '✗'}" for status in region.next_gate_criteria)
        next_gate += f" ({shown})"
    cells = [
        _cell(launch.slug),
        _cell(region.region),
        region.state.value,
        region.phase.value if region.phase else "-",
        f"{region.percent}%",
        str(region.open_blocking),
        str(region.overdue_blocking),
        str(region.blocked),
        str(region.slip_days),
        _cell(next_gate),
        ", ".join(phase.value for phase in region.skipped_phases) or "-",
    ]
    return "| " + " | ".join(cells) + " |"


def _cell(text: str) -> str:
    """Keep user text from breaking the table: no pipes, no line breaks."""
    return " ".join(text.replace("|", "/").split())
