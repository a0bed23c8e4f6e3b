"""Handing queued exposure changes to the rollout target, each once.

A change is marked delivered only after the target took it; a crash in between means the target
sees it again, with the same idempotency key, which targets treat as one change.

Once the target took a change, the delivery checks it (``checker``, see
``orchestrator.rollouts.exposure_checks``): synthetic users are evaluated against the target and a
share too far from the intended one halts the region.

A region's changes reach the target in the order they were made: a change waits while an earlier
one of the same region is still pending. Otherwise a worker killed holding the claim on a 5% step
lets its successor send 25% first and the stale 5% after it, when the claim runs out, and the
feature flag would end a ramp step behind. For the same reason a change is never sent once a later
change of its region reached the target: a dead 25% sent again by hand (`launchdeck outbox retry`)
after 100% went through would set the flag back to 25%. It is parked again, saying so.
"""

from collections.abc import Callable
from datetime import datetime

from sqlmodel import Session, col, select

from orchestrator.core.enums import OutboxStatus, Phase
from orchestrator.core.models import Launch, Outbox, Region, RegionRollout
from orchestrator.core.outbox import claim_outbox, mark_delivered, mark_failed, release_claims, while_claimed
from orchestrator.rollouts.exposure_checks import ExposureChecker
from orchestrator.rollouts.service import TARGET_TOPIC
from orchestrator.rollouts.target import (
    ExposureRequest,
    RolloutTarget,
    TargetRejected,
    TargetUnavailable,
    effective,
)


def deliver_exposures(
    *,
    session: Session,
    target: RolloutTarget,
    now: datetime,
    limit: int = 50,
    claim_seconds: int = 60,
    stop: Callable[[], bool] | None = None,
    checker: ExposureChecker | None = None,
) -> int:
    """Deliver due exposure changes; returns how many the target took.

    A crashed deliverer's claim expires after ``claim_seconds``; if a slow target outlives the
    claim, another worker may deliver the same change too, which its idempotency key absorbs.
    ``stop`` is asked before each change: a worker shutting down gives the rest back at once
    instead of leaving them claimed until the lease ends. ``checker`` (None: no check) checks
    each change the target took, after it is marked delivered.
    """
    delivered = 0
    rows = claim_outbox(session, topics=[TARGET_TOPIC], now=now, limit=limit, claim_seconds=claim_seconds)
    for row in while_claimed(session, rows, now=now, claim_seconds=claim_seconds, stop=stop):
        assert row.id is not None
        rollout_id = int(row.payload["rollout_id"])
        if _earlier_change_pending(session, row=row, rollout_id=rollout_id):
            release_claims(session, outbox_ids=[row.id], now=now)
            continue
        request = exposure_request(session, row=row, rollout_id=rollout_id)
        name = request.target or target.name
        newer = _later_change_sent(session, row=row, rollout_id=rollout_id)
        if newer is not None:
            mark_failed(
                session, outbox_id=row.id, now=now, error=f"{name}: {_superseded(request, newer)}", permanent=True
            )
            continue
        try:
            target.apply(request)
        except TargetUnavailable as exc:
            mark_failed(session, outbox_id=row.id, now=now, error=f"{name}: {exc}")
            continue
        except TargetRejected as exc:
            mark_failed(session, outbox_id=row.id, now=now, error=f"{name}: {exc.message}", permanent=True)
            continue
        mark_delivered(session, outbox_id=row.id, now=now)
        delivered += 1
        if checker is not None:
            checker.check(session, request, now=now)
    return delivered


def exposure_request(session: Session, *, row: Outbox, rollout_id: int) -> ExposureRequest:
    """The change as the target takes it, with the target and flag key the launch (or this
    region) names, read at delivery so the worker's registry picks the right target."""
    slug, region, launch_target, launch_flag, region_target, region_flag = session.exec(
        select(  # type: ignore[call-overload]  # sqlmodel types select() for at most four columns
            Launch.slug,
            Region.code,
            Launch.rollout_target,
            Launch.flag_key,
            RegionRollout.rollout_target,
            RegionRollout.flag_key,
        )
        .join(RegionRollout, col(RegionRollout.launch_id) == col(Launch.id))
        .join(Region, col(Region.id) == col(RegionRollout.region_id))
        .where(RegionRollout.id == rollout_id)
    ).one()
    session.commit()
    return ExposureRequest(
        launch_id=row.launch_id or 0,
        launch_slug=slug,
        rollout_id=rollout_id,
        region=region,
        phase=Phase(row.payload["phase"]),
        percent=int(row.payload["percent"]),
        idempotency_key=row.key,
        requested_at=row.created_at,
        target=effective(region_target, launch_target, None),
        flag_key=effective(region_flag, launch_flag, None),
    )


def _earlier_change_pending(session: Session, *, row: Outbox, rollout_id: int) -> bool:
    """Whether an older change of the same region is still undelivered (claimed elsewhere, or
    backing off). A dead one does not hold the newer ones back: they supersede it."""
    earlier = session.exec(
        select(Outbox.payload).where(
            Outbox.topic == row.topic,
            Outbox.launch_id == row.launch_id,
            Outbox.status == OutboxStatus.PENDING,
            col(Outbox.id) < row.id,
        )
    ).all()
    session.commit()
    return any(int(payload["rollout_id"]) == rollout_id for payload in earlier)


def _later_change_sent(session: Session, *, row: Outbox, rollout_id: int) -> Outbox | None:
    """The newest change of the same region made after ``row`` that the target already took."""
    later = session.exec(
        select(Outbox)
        .where(
            Outbox.topic == row.topic,
            Outbox.launch_id == row.launch_id,
            Outbox.status == OutboxStatus.SENT,
            col(Outbox.id) > row.id,
        )
        .order_by(col(Outbox.id).desc())
    ).all()
    session.commit()
    return next((other for other in later if int(other.payload["rollout_id"]) == rollout_id), None)


def _superseded(request: ExposureRequest, newer: Outbox) -> str:
    return (
        f"not sent: {request.region} {request.phase.value} {request.percent}% was superseded by a later change "
        f"({newer.payload['phase']} {newer.payload['percent']}%, outbox #{newer.id}) the target already took; "
        "sending this older one would undo it, so there is nothing to retry"
    )


def last_sent(session: Session, *, launch_id: int) -> dict[str, ExposureRequest]:
    """Per region code, the newest change of a launch its target took: what the target should
    show now (a check run by hand compares against this, not against a step still queued)."""
    rows = session.exec(
        select(Outbox)
        .where(Outbox.topic == TARGET_TOPIC, Outbox.launch_id == launch_id, Outbox.status == OutboxStatus.SENT)
        .order_by(col(Outbox.id).desc())
    ).all()
    newest: dict[int, Outbox] = {}
    for row in rows:
        newest.setdefault(int(row.payload["rollout_id"]), row)
    requests = [exposure_request(session, row=row, rollout_id=rollout_id) for rollout_id, row in newest.items()]
    return {request.region: request for request in requests}
