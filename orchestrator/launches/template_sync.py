"""Bringing a running launch's items up to a newer checklist template, explicitly.

Launches keep the items they were created with; template edits reach a launch only through this
service, which prodops runs (and can dry-run) on purpose. Done work is never touched.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from orchestrator.core.actors import Actor
from orchestrator.core.clock import as_utc, due_at, utcnow
from orchestrator.core.enums import SATISFYING_STATUSES, ItemStatus, Phase
from orchestrator.core.errors import InvalidInput
from orchestrator.core.ledger import record
from orchestrator.core.models import ChecklistItem, Launch, PhaseDate, Region, RegionRollout, Team
from orchestrator.core.outbox import enqueue
from orchestrator.core.topics import Topic
from orchestrator.core.unit import compare_and_set, lock, transaction
from orchestrator.gates.service import evaluate_gates
from orchestrator.launches.service import teams_by_key
from orchestrator.launches.spec import ItemSpec


@dataclass
class TemplateSync:
    """What applying a template changes (or would change, on a dry run); values are
    "REGION/phase/key"."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    retired: list[str] = field(default_factory=list)
    kept_done: list[str] = field(default_factory=list)

    @property
    def changes(self) -> int:
        return len(self.added) + len(self.updated) + len(self.retired)


_Ident = tuple[str, Phase, str]  # (region code, phase, item key): an item's place in a launch


def sync_launch_items(
    *,
    session: Session,
    launch_id: int,
    desired: Sequence[ItemSpec],
    template_version: str,
    actor: Actor,
    dry_run: bool = False,
) -> TemplateSync:
    result = TemplateSync()
    now = utcnow()
    with transaction(session):
        launch = lock(session, Launch, launch_id, "launch")
        layout = _read_layout(session, launch_id=launch_id)
        teams = teams_by_key(session, sorted({spec.owner_team for spec in desired}))
        existing = {
            (layout.region_of[item.rollout_id], item.phase, item.key): item
            for item in session.exec(select(ChecklistItem).where(ChecklistItem.launch_id == launch_id))
        }
        wanted: dict[_Ident, ItemSpec] = {}
        for spec in desired:
            if spec.region not in layout.rollouts:
                raise InvalidInput("items", f"{spec.key}: region {spec.region} is not in launch {launch.slug}")
            wanted[(spec.region, spec.phase, spec.key)] = spec
        for ident, spec in wanted.items():
            _sync_item(
                session,
                spec=spec,
                item=existing.get(ident),
                launch_id=launch_id,
                layout=layout,
                teams=teams,
                result=result,
                dry_run=dry_run,
                now=now,
            )
        _retire_unwanted(
            session, existing=existing, wanted=wanted, result=result, dry_run=dry_run, actor=actor, now=now
        )
        if dry_run:
            session.rollback()
            return result
        _record_applied(session, launch=launch, template_version=template_version, result=result, actor=actor, now=now)
        session.flush()
        for rollout in layout.rollouts.values():
            evaluate_gates(session, rollout=rollout, now=now, actor=actor)
    return result


@dataclass(frozen=True)
class _Layout:
    """The launch's regions as the sync needs them, read with the regions locked."""

    rollouts: dict[str, RegionRollout]  # region code -> its rollout
    region_of: dict[int, str]  # rollout id -> region code
    timezones: dict[str, str]  # region code -> timezone
    phase_dates: dict[tuple[str, Phase], datetime]  # (region code, phase) -> current date


def _read_layout(session: Session, *, launch_id: int) -> _Layout:
    """The launch's regions, locked in the sync's transaction, with their timezones and phase dates."""
    rollouts = {
        region.code: rollout
        for rollout, region in session.exec(
            select(RegionRollout, Region)
            .join(Region, col(Region.id) == col(RegionRollout.region_id))
            .where(RegionRollout.launch_id == launch_id)
            .with_for_update(of=RegionRollout, key_share=True)
        )
    }
    region_of = {rollout.id: code for code, rollout in rollouts.items() if rollout.id is not None}
    timezones = {
        code: tz
        for code, tz in session.exec(select(Region.code, Region.timezone).where(col(Region.code).in_(list(rollouts))))
    }
    phase_dates = {
        (region_of[row.rollout_id], row.phase): as_utc(row.current_at)
        for row in session.exec(
            select(PhaseDate).where(col(PhaseDate.rollout_id).in_([r.id for r in rollouts.values()]))
        )
    }
    return _Layout(rollouts=rollouts, region_of=region_of, timezones=timezones, phase_dates=phase_dates)


def _sync_item(
    session: Session,
    *,
    spec: ItemSpec,
    item: ChecklistItem | None,
    launch_id: int,
    layout: _Layout,
    teams: Mapping[str, Team],
    result: TemplateSync,
    dry_run: bool,
    now: datetime,
) -> None:
    """Add the template's item, or bring an open one up to it; a done item is left as it is
    (listed in ``kept_done`` when the template changed it). Regions that skip the phase get none."""
    phase_at = layout.phase_dates.get((spec.region, spec.phase))
    if phase_at is None:
        return  # the region skips this phase
    label = f"{spec.region}/{spec.phase.value}/{spec.key}"
    values: dict[str, Any] = {
        "title": spec.title,
        "description": spec.description,
        "owner_team_id": teams[spec.owner_team].id,
        "blocking": spec.blocking,
        "evidence_required": spec.evidence_required,
        "due_offset_days": spec.due_offset_days,
        "depends_on": list(spec.depends_on),
    }
    due = (
        None
        if spec.due_offset_days is None
        else due_at(phase_at=phase_at, offset_days=spec.due_offset_days, timezone=layout.timezones[spec.region])
    )
    if item is None:
        result.added.append(label)
        if not dry_run:
            session.add(
                ChecklistItem(
                    launch_id=launch_id,
                    rollout_id=layout.rollouts[spec.region].id,  # type: ignore[arg-type]
                    phase=spec.phase,
                    key=spec.key,
                    due_at=due,
                    **values,
                )
            )
        return
    if not any(getattr(item, name) != value for name, value in values.items()):
        return
    if item.status in SATISFYING_STATUSES:
        result.kept_done.append(label)
    else:
        result.updated.append(label)
        if not dry_run:
            compare_and_set(session, item, "checklist item", due_at=due, updated_at=now, **values)


def _retire_unwanted(
    session: Session,
    *,
    existing: Mapping[_Ident, ChecklistItem],
    wanted: Mapping[_Ident, ItemSpec],
    result: TemplateSync,
    dry_run: bool,
    actor: Actor,
    now: datetime,
) -> None:
    """Open items the template no longer has become n/a; done ones are kept as history."""
    for ident, item in existing.items():
        if ident in wanted or item.status in SATISFYING_STATUSES:
            continue
        result.retired.append(f"{ident[0]}/{item.phase.value}/{item.key}")
        if not dry_run:
            compare_and_set(
                session,
                item,
                "checklist item",
                status=ItemStatus.NOT_APPLICABLE,
                checked_by=actor.name,
                checked_at=now,
                updated_at=now,
            )


def _record_applied(
    session: Session, *, launch: Launch, template_version: str, result: TemplateSync, actor: Actor, now: datetime
) -> None:
    """Move the launch to the template version, with its audit event and outbox row."""
    assert launch.id is not None
    before = {"template_version": launch.template_version}
    compare_and_set(session, launch, "launch", template_version=template_version, updated_at=now)
    record(
        session,
        actor=actor,
        entity="launch",
        entity_id=launch.id,
        action="launch.template_applied",
        launch_id=launch.id,
        before=before,
        after={
            "template_version": template_version,
            "added": result.added,
            "updated": result.updated,
            "retired": result.retired,
        },
        reason=f"template {template_version} applied",
    )
    enqueue(
        session,
        key=f"launch:{launch.id}:template:{template_version}:v{launch.version}",
        topic=Topic.LAUNCH_TEMPLATE_APPLIED,
        launch_id=launch.id,
        payload={"launch_id": launch.id, "template_version": template_version, "changes": result.changes},
    )
