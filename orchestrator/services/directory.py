"""Teams, regions and members: created or updated by key, never deleted by a seed, audited."""

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from orchestrator.actors import Actor
from orchestrator.ledger import record, snapshot
from orchestrator.models import Member, Region, Team
from orchestrator.seed import SeedConfig
from orchestrator.services._unit import transaction


@dataclass(frozen=True)
class SeedResult:
    created: int
    updated: int
    unchanged: int


def apply_seed(*, session: Session, config: SeedConfig, actor: Actor) -> SeedResult:
    """Upsert the whole directory in one transaction: a bad row leaves the database as it was."""
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    with transaction(session):
        teams: dict[str, Team] = {team.key: team for team in session.execute(select(Team)).scalars()}
        for seed in config.teams:
            outcome, team = _upsert(
                session,
                teams.get(seed.key),
                Team,
                {"key": seed.key, **seed.model_dump(exclude={"key"})},
                actor,
                "team",
            )
            teams[seed.key] = team
            counts[outcome] += 1
        regions: dict[str, Region] = {
            region.code: region for region in session.execute(select(Region)).scalars()
        }
        # Parents first, so a sub-region can point at a parent created in this same run.
        for seed in sorted(config.regions, key=lambda region: region.parent is not None):
            values = seed.model_dump(exclude={"parent"})
            values["parent_id"] = regions[seed.parent].id if seed.parent else None
            outcome, region = _upsert(session, regions.get(seed.code), Region, values, actor, "region")
            regions[seed.code] = region
            counts[outcome] += 1
        members = {member.email: member for member in session.execute(select(Member)).scalars()}
        for seed in config.members:
            values = seed.model_dump(exclude={"team"})
            values["team_id"] = teams[seed.team].id if seed.team else None
            outcome, _member = _upsert(session, members.get(seed.email), Member, values, actor, "member")
            counts[outcome] += 1
    return SeedResult(**counts)


def _upsert(
    session: Session, existing: Any, model: type[Any], values: dict[str, Any], actor: Actor, entity: str
) -> tuple[str, Any]:
    fields = tuple(values)
    if existing is None:
        row = model(**values)
        session.add(row)
        session.flush()
        record(
            session,
            actor=actor,
            entity=entity,
            entity_id=row.id,
            action=f"{entity}.created",
            launch_id=None,
            after=snapshot(row, *fields),
        )
        return "created", row
    before = snapshot(existing, *fields)
    for name, value in values.items():
        setattr(existing, name, value)
    after = snapshot(existing, *fields)
    if after == before:
        return "unchanged", existing
    session.flush()
    record(
        session,
        actor=actor,
        entity=entity,
        entity_id=existing.id,
        action=f"{entity}.updated",
        launch_id=None,
        before=before,
        after=after,
    )
    return "updated", existing
