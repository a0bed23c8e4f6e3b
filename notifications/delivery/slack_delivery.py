"""Slack delivery of queued notification intents: each outbox row becomes its Slack messages once.

Every message part is recorded (channel + ts) as soon as Slack accepts it, so a retry of the same
intent updates what was already posted instead of posting twice; a check-off edits the gate
message that listed the item. Failures back off and, after a number of attempts (or at once when
retrying cannot help), the intent is parked as dead for `launchdeck outbox retry`.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from notifications.delivery import approval_reminders, composer
from notifications.delivery.approval_envelopes import APPROVAL_UPDATE_TOPICS, approval_envelopes
from notifications.delivery.approval_envelopes import audience as approval_audience
from notifications.delivery.composer import Envelope
from notifications.delivery.homes import refresh_homes
from notifications.delivery.transport import DeliveryFailed, DeliveryMarker, MessageRef, Transport, ViewPublisher
from notifications.messages.layout import Message
from orchestrator.beta.digest import build_beta_digest
from orchestrator.core.clock import as_utc
from orchestrator.core.enums import Phase
from orchestrator.core.models import ChecklistItem, Outbox, SlackMessage
from orchestrator.core.outbox import claim_outbox, mark_delivered, mark_failed, release_claims, while_claimed
from orchestrator.core.settings import get_settings
from orchestrator.core.topics import Topic
from orchestrator.core.unit import transaction
from orchestrator.reporting.digest import build_leadership_digest

log = logging.getLogger("launchdeck.notifications")

CLOCK_SKEW = timedelta(minutes=5)


@dataclass
class DispatchRun:
    delivered: int = 0
    failed: int = 0
    dead: int = 0
    skipped: list[str] = field(default_factory=list)
    homes: int = 0  # App Homes republished
    unreachable: str | None = None  # why Slack could not be reached: the pass stopped there


def dispatch_notifications(
    *,
    session: Session,
    transport: Transport,
    now: datetime,
    leadership_channel: str,
    limit: int = 50,
    claim_seconds: int = 60,
    stop: Callable[[], bool] | None = None,
) -> DispatchRun:
    """Deliver up to ``limit`` due intents. ``stop`` is asked before each one: a worker shutting
    down finishes the intent in flight and gives the rest back at once, rather than spending
    minutes of Slack pacing and timeouts on them or leaving them claimed until the lease ends
    (``while_claimed`` also gives back what a slow pass would reach after half its claim)."""
    run = DispatchRun()
    rows = claim_outbox(session, topics=sorted(composer.TOPICS), now=now, limit=limit, claim_seconds=claim_seconds)
    for index, row in enumerate(while_claimed(session, rows, now=now, claim_seconds=claim_seconds, stop=stop)):
        assert row.id is not None
        try:
            envelopes = _envelopes(session, row=row, now=now, leadership_channel=leadership_channel)
            session.commit()
            for envelope in envelopes:
                _deliver(session, row=row, envelope=envelope, transport=transport)
        except DeliveryFailed as exc:
            if exc.unreachable:
                # Slack, not this message: give it and the rest back untried (no attempt counted,
                # so no outage parks anything as dead) and let the worker wait for Slack.
                release_claims(session, outbox_ids=[other.id for other in rows[index:] if other.id], now=now)
                run.unreachable = f"{transport.name}: {exc.message}"
                return run
            status = mark_failed(
                session,
                outbox_id=row.id,
                now=now,
                error=f"{transport.name}: {exc.message}",
                permanent=not exc.retryable,
            )
            run.failed += 1
            run.dead += int(status.value == "dead")
            continue
        mark_delivered(session, outbox_id=row.id, now=now)
        run.delivered += 1
    if isinstance(transport, ViewPublisher) and not (stop is not None and stop()):
        run.homes = refresh_homes(session, publisher=transport, now=now)  # after the messages they follow
    return run


def _envelopes(session: Session, *, row: Outbox, now: datetime, leadership_channel: str) -> list[Envelope]:
    payload = row.payload
    if row.topic == Topic.APPROVAL_REQUESTED:
        return approval_envelopes(session, gate_id=int(payload["gate_id"]))
    if row.topic in approval_reminders.TOPICS:
        return approval_reminders.reminder_envelopes(session, row=row, now=now)
    if row.topic in APPROVAL_UPDATE_TOPICS or (row.topic == Topic.GATE_PASSED and payload.get("kind") == "approval"):
        updates = _approval_updates(session, gate_id=int(payload["gate_id"]), now=now)
        events = [] if row.topic not in composer.EVENT_KINDS else _event_envelopes(session, row=row)
        return events + updates
    return _other_envelopes(session, row=row, now=now, leadership_channel=leadership_channel)


def _event_envelopes(session: Session, *, row: Outbox) -> list[Envelope]:
    return [composer.event_envelope(session, row=row, kind=composer.EVENT_KINDS[row.topic])]


def _approval_updates(session: Session, *, gate_id: int, now: datetime) -> list[Envelope]:
    """After a vote, a void or the gate passing: the approvers' requests and reminders, re-rendered
    in place (only those already posted: a vote cast before the request went out has nothing to edit)."""
    posted = set(
        session.exec(
            select(SlackMessage.audience).where(
                SlackMessage.kind == Topic.APPROVAL_REQUESTED,
                col(SlackMessage.audience).startswith(approval_audience(gate_id, "")),
            )
        ).all()
    )
    requests = [envelope for envelope in approval_envelopes(session, gate_id=gate_id) if envelope.audience in posted]
    return requests + approval_reminders.reminder_updates(session, gate_id=gate_id, now=now)


def _other_envelopes(session: Session, *, row: Outbox, now: datetime, leadership_channel: str) -> list[Envelope]:
    payload = row.payload
    if row.topic in composer.GATE_TOPICS:
        return composer.gate_envelopes(session, rollout_id=int(payload["rollout_id"]), phase=Phase(payload["phase"]))
    if row.topic in composer.UPDATE_TOPICS:
        return _item_update_envelopes(session, item_id=int(payload["item_id"]))
    if row.topic in composer.REMINDER_TOPICS:
        envelope = composer.reminder_envelope(session, row=row, now=now)
        return [envelope] if envelope is not None else []
    if row.topic == composer.GUARDRAIL_TOPIC:
        return composer.guardrail_envelopes(session, row=row)
    if row.topic == composer.BETA_DIGEST_TOPIC:
        channel = get_settings().slack_beta_digest_channel or leadership_channel
        return [composer.beta_digest_envelope(digest=build_beta_digest(session=session, now=now), channel=channel)]
    if row.topic == composer.DIGEST_TOPIC:
        return [
            composer.digest_envelope(
                digest=build_leadership_digest(session=session, now=now, with_collisions=True),
                channel=leadership_channel,
            )
        ]
    return _event_envelopes(session, row=row)


def _item_update_envelopes(session: Session, *, item_id: int) -> list[Envelope]:
    """A changed item re-renders the gate messages of its team, region and phase (only if they were
    posted: an item changed before its gate opened has no message to edit)."""
    item = session.get(ChecklistItem, item_id)
    if item is None:
        return []
    posted = session.exec(
        select(SlackMessage.id).where(
            SlackMessage.rollout_id == item.rollout_id,
            SlackMessage.phase == item.phase,
            SlackMessage.team_id == item.owner_team_id,
        )
    ).first()
    if posted is None:
        return []
    return [
        envelope
        for envelope in composer.gate_envelopes(session, rollout_id=item.rollout_id, phase=item.phase)
        if envelope.team_id == item.owner_team_id
    ]


def _deliver(session: Session, *, row: Outbox, envelope: Envelope, transport: Transport) -> None:
    destination = envelope.destination
    if destination.channel is None and destination.dm_user is None:
        log.warning(
            "no Slack channel configured for %s (outbox %s); set the team's or region's channel", row.topic, row.id
        )
        return
    channel = destination.channel or transport.open_dm(user_id=destination.dm_user or "")
    for part, message in enumerate(envelope.messages):
        assert row.id is not None
        marker = DeliveryMarker(outbox_id=row.id, key=row.key, audience=envelope.audience, part=part)
        known = _existing(session, row=row, envelope=envelope, part=part)
        existing = MessageRef(channel=known.channel, ts=known.ts) if known is not None else None
        if existing is None and row.claims > 1:
            # An earlier attempt may have posted this part and died (or lost Slack's answer) before
            # storing its ts: look for it rather than post a second copy.
            existing = transport.find_posted(channel=channel, marker=marker, since=_posted_no_earlier_than(row))
        item_ids = envelope.item_ids[part] if part < len(envelope.item_ids) else []
        if existing is not None:
            ref = transport.update(ref=existing, text=message.text, blocks=message.blocks)
        else:
            ref = transport.post(channel=channel, text=message.text, blocks=message.blocks, marker=marker)
        _remember(session, row=row, envelope=envelope, part=part, ref=ref, message=message, item_ids=item_ids)


def _posted_no_earlier_than(row: Outbox) -> datetime:
    """Where a history search can start: the intent's creation, less a margin for clock skew
    between this machine and Slack's."""
    return as_utc(row.created_at) - CLOCK_SKEW


def _existing(session: Session, *, row: Outbox, envelope: Envelope, part: int) -> SlackMessage | None:
    """The message this part replaces: the same intent's earlier attempt, or, for item updates,
    the gate message already posted for that team, region and phase."""
    found = session.exec(
        select(SlackMessage).where(
            SlackMessage.outbox_id == row.id, SlackMessage.audience == envelope.audience, SlackMessage.part == part
        )
    ).first()
    if found is None and envelope.kind == Topic.APPROVAL_REQUESTED:
        found = session.exec(
            select(SlackMessage)
            .where(SlackMessage.audience == envelope.audience, SlackMessage.part == part)
            .order_by(col(SlackMessage.id))
        ).first()
    if found is None and envelope.kind == Topic.APPROVAL_REMINDER and row.topic != Topic.APPROVAL_REMINDER:
        found = session.exec(
            select(SlackMessage)
            .where(SlackMessage.audience == envelope.audience, SlackMessage.part == part)
            .order_by(col(SlackMessage.id).desc())
        ).first()
    if found is None and envelope.kind == Topic.GATE_OPENED and row.topic in composer.UPDATE_TOPICS:
        found = session.exec(
            select(SlackMessage)
            .where(
                SlackMessage.rollout_id == envelope.rollout_id,
                SlackMessage.phase == envelope.phase,
                SlackMessage.team_id == envelope.team_id,
                SlackMessage.part == part,
            )
            .order_by(col(SlackMessage.id))
        ).first()
    session.commit()
    return found


def _remember(
    session: Session,
    *,
    row: Outbox,
    envelope: Envelope,
    part: int,
    ref: MessageRef,
    message: Message,
    item_ids: list[int],
) -> None:
    with transaction(session):
        found = session.exec(
            select(SlackMessage).where(SlackMessage.channel == ref.channel, SlackMessage.ts == ref.ts)
        ).first()
        if found is None:
            found = SlackMessage(
                outbox_id=row.id,  # type: ignore[arg-type]
                audience=envelope.audience,
                part=part,
                kind=envelope.kind,
                launch_id=row.launch_id,
                rollout_id=envelope.rollout_id,
                phase=envelope.phase,
                team_id=envelope.team_id,
                channel=ref.channel,
                ts=ref.ts,
            )
            session.add(found)
        found.item_ids = item_ids
        found.text = message.text
        found.blocks = message.blocks
