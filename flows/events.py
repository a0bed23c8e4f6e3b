"""Prefect events for what happened in launches, so users can build Prefect automations on
"gate passed", "region advanced", "region halted"...

Events are fire-and-forget (Prefect's own guarantee); the database stays the record. A cursor in
the database remembers how far the outbox has been published, so a restart does not re-announce
history and several workers take turns instead of publishing twice.
"""

from typing import Any

from prefect.events import emit_event
from sqlmodel import Session, col, select

from orchestrator.core.models import DeliveryCursor, Launch, Outbox, Region, RegionRollout
from orchestrator.core.outbox import EVENTS_CURSOR
from orchestrator.core.topics import PUBLISHED_AS_EVENTS
from orchestrator.core.unit import transaction

CURSOR = EVENTS_CURSOR
PUBLISHED_TOPICS = PUBLISHED_AS_EVENTS  # declared in core, where the outbox listing reads it too


def publish_outbox_events(session: Session, *, limit: int = 200) -> int:
    """Emit one Prefect event per new outbox row of a published topic; returns how many."""
    emitted = 0
    with transaction(session):
        cursor = session.get(DeliveryCursor, CURSOR, with_for_update=True)
        if cursor is None:
            cursor = DeliveryCursor(name=CURSOR, last_outbox_id=0)
            session.add(cursor)
            session.flush()
        rows = session.exec(
            select(Outbox).where(col(Outbox.id) > cursor.last_outbox_id).order_by(col(Outbox.id)).limit(limit)
        ).all()
        slugs = _slugs(session, {row.launch_id for row in rows if row.launch_id is not None})
        regions = _regions(session, {int(row.payload["rollout_id"]) for row in rows if "rollout_id" in row.payload})
        for row in rows:
            assert row.id is not None
            cursor.last_outbox_id = row.id
            if row.topic not in PUBLISHED_TOPICS:
                continue
            slug = slugs.get(row.launch_id or 0, "unknown")
            resource = {"prefect.resource.id": f"launchdeck.launch.{slug}", "prefect.resource.name": slug}
            related: list[dict[str, str]] = []
            region = regions.get(int(row.payload.get("rollout_id", 0)))
            if region is not None:
                resource = {
                    "prefect.resource.id": f"launchdeck.launch.{slug}.region.{region}",
                    "prefect.resource.name": f"{slug} {region}",
                }
                related.append({"prefect.resource.id": f"launchdeck.launch.{slug}", "prefect.resource.role": "launch"})
            emit_event(
                event=f"launchdeck.{row.topic}",
                resource=resource,
                related=related,
                occurred=row.created_at,
                payload=_json_safe(row.payload),
            )
            emitted += 1
    return emitted


def _slugs(session: Session, launch_ids: set[int]) -> dict[int, str]:
    if not launch_ids:
        return {}
    rows = session.exec(select(Launch.id, Launch.slug).where(col(Launch.id).in_(launch_ids))).all()
    return {launch_id: slug for launch_id, slug in rows if launch_id is not None}


def _regions(session: Session, rollout_ids: set[int]) -> dict[int, str]:
    if not rollout_ids:
        return {}
    rows = session.exec(
        select(RegionRollout.id, Region.code)
        .join(Region, col(Region.id) == col(RegionRollout.region_id))
        .where(col(RegionRollout.id).in_(rollout_ids))
    ).all()
    return {rollout_id: code for rollout_id, code in rows if rollout_id is not None}


def _json_safe(payload: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in payload.items() if isinstance(value, str | int | float | bool | type(None))}
