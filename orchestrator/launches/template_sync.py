"""Bringing a running launch's items up to a newer checklist template, explicitly.

Launches keep the items they were created with; template edits reach a launch only through this
service, which prodops runs (and can dry-run) on purpose. Done work is never touched.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlmodel import Session, col, select

from orchestrator.core.actors import Actor
from orchestrator.core.clock import as_utc, due_at, utcnow
from orchestrator.core.enums import SATISFYING_STATUSES, ItemStatus
from orchestrator.core.errors import InvalidInput
from orchestrator.core.ledger import record
from orchestrator.core.models import ChecklistItem, Launch, PhaseDate, Region, RegionRollout
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
        rollouts = {
            region.code: rollout
            for rollout, region in session.exec(
                select(RegionRollout, Region)
                .join(Region, col(Region.id) == col(RegionRollout.region_id))
                .where(RegionRollout.launch_id == launch_id)
                .with_for_update(of=RegionRollout, key_share=True)
            )
        }
        by_rollout_id = {rollout.id: code for code, rollout in rollouts.items()}
        timezones = {
            code: tz
            for code, tz in session.exec(
                select(Region.code, Region.timezone).where(col(Region.code).in_(list(rollouts)))
            )
        }
        phase_dates = {
            (by_rollout_id[row.rollout_id], row.phase): as_utc(row.current_at)
            for row in session.exec(
                select(PhaseDate).where(col(PhaseDate.rollout_id).in_([r.id for r in rollouts.values()]))
            )
        }
        teams = teams_by_key(session, sorted({spec.owner_team for spec in desired}))
        existing = {
            (by_rollout_id[item.rollout_id], item.phase, item.key): item
            for item in session.exec(select(ChecklistItem).where(ChecklistItem.launch_id == launch_id))
        }
        wanted: dict[tuple[str, object, str], ItemSpec] = {}
        for spec in desired:
            if spec.region not in rollouts:
                raise InvalidInput("items", f"{spec.key}: region {spec.region} is not in launch {launch.slug}")
            wanted[(spec.region, spec.phase, spec.key)] = spec
        for ident, spec in wanted.items():
            label = f"{spec.region}/{spec.phase.value}/{spec.key}"
            phase_at = phase_dates.get((spec.region, spec.phase))
            if phase_at is None:
                continue  # the region skips this phase
            values = {
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
                else due_at(phase_at=phase_at, offset_days=spec.due_offset_days, timezone=timezones[spec.region])
            )
            item = existing.get(ident)  # type: ignore[arg-type]
            if item is None:
                result.added.append(label)
                if not dry_run:
                    session.add(
                        ChecklistItem(
                            launch_id=launch_id,
                            rollout_id=rollouts[spec.region].id,  # type: ignore[arg-type]
                            phase=spec.phase,
                            key=spec.key,
                            due_at=due,
                            **values,  # type: ignore[arg-type]
                        )
                    )
            elif item.status in SATISFYING_STATUSES:
                if any(getattr(item, name) != value for name, value in values.items()):
                    result.kept_done.append(label)
            elif any(getattr(item, name) != value for name, value in values.items()):
                result.updated.append(label)
                if not dry_run:
                    compare_and_set(session, item, "checklist item", due_at=due, updated_at=now, **values)
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
        if dry_run:
            session.rollback()
            return result
        before = {"template_version": launch.template_version}
        compare_and_set(session, launch, "launch", template_version=template_version, updated_at=now)
        record(
            session,
            actor=actor,
            entity="launch",
            entity_id=launch_id,
            action="launch.template_applied",
            launch_id=launch_id,
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
            key=f"launch:{launch_id}:template:{template_version}:v{launch.version}",
            topic=Topic.LAUNCH_TEMPLATE_APPLIED,
            launch_id=launch_id,
            payload={"launch_id": launch_id, "template_version": template_version, "changes": result.changes},
        )
        session.flush()
        for rollout in rollouts.values():
            evaluate_gates(session, rollout=rollout, now=now, actor=actor)
    return result
