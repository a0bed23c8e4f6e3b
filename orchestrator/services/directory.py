"""Teams, regions and members: created or updated by key, never deleted by a seed, audited."""

from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, select

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
        teams: dict[str, Team] = {team.key: team for team in session.exec(select(Team))}
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
        regions: dict[str, Region] = {region.code: region for region in session.exec(select(Region))}
        # Parents first, so a sub-region can point at a parent created in this same run.
        for region_seed in sorted(config.regions, key=lambda region: region.parent is not None):
            values = region_seed.model_dump(exclude={"parent"})
            values["parent_id"] = regions[region_seed.parent].id if region_seed.parent else None
            outcome, region = _upsert(session, regions.get(region_seed.code), Region, values, actor, "region")
            regions[region_seed.code] = region
            counts[outcome] += 1
        members = {member.email: member for member in session.exec(select(Member))}
        for member_seed in config.members:
            values = member_seed.model_dump(exclude={"team"})
            values["team_id"] = teams[member_seed.team].id if member_seed.team else None
            outcome, _member = _upsert(session, members.get(member_seed.email), Member, values, actor, "member")
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
