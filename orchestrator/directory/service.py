"""Teams, regions and members: created or updated by key, never deleted by a seed, audited."""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from orchestrator.core.actors import Actor
from orchestrator.core.errors import AlreadyExists, InvalidInput
from orchestrator.core.ledger import record, snapshot
from orchestrator.core.models import Member, Region, Team
from orchestrator.core.unit import transaction
from orchestrator.directory.seed import MemberSeed, RegionSeed, SeedConfig, TeamSeed


@dataclass(frozen=True)
class SeedResult:
    created: int
    updated: int
    unchanged: int


def apply_seed(*, session: Session, config: SeedConfig, actor: Actor) -> SeedResult:
    """Upsert the whole directory in one transaction: a bad row leaves the database as it was.

    New rows are inserted a kind at a time (one flush for all new teams, one per region level, one
    for members), not a flush per row: a first seed of 48 rows took 96 round trips before."""
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    with transaction(session):
        team_values = [{"key": seed.key, **seed.model_dump(exclude={"key"})} for seed in config.teams]
        teams = _upsert_kind(session, Team, "team", "key", team_values, actor, counts)
        regions: dict[str, Any] = {}
        # Parents first, so a sub-region can point at a parent created in this same run.
        for level in (False, True):
            level_values = []
            for region_seed in config.regions:
                if (region_seed.parent is not None) is level:
                    values = region_seed.model_dump(exclude={"parent"})
                    values["parent_id"] = regions[region_seed.parent].id if region_seed.parent else None
                    level_values.append(values)
            regions |= _upsert_kind(session, Region, "region", "code", level_values, actor, counts)
        member_values = []
        for member_seed in config.members:
            values = member_seed.model_dump(exclude={"team"})
            values["team_id"] = teams[member_seed.team].id if member_seed.team else None
            member_values.append(values)
        members = _upsert_kind(session, Member, "member", "email", member_values, actor, counts)
        for index, seed in enumerate(config.teams):
            if seed.lead is not None and seed.lead not in members:
                raise InvalidInput(f"teams.{index}.lead", _unknown_lead(seed))
    return SeedResult(**counts)


def _upsert_kind(
    session: Session,
    model: type[Any],
    entity: str,
    key: str,
    rows: list[dict[str, Any]],
    actor: Actor,
    counts: dict[str, int],
) -> dict[str, Any]:
    """Upsert rows of one kind by ``key``; every row of that kind in the database, by key."""
    known: dict[str, Any] = {getattr(row, key): row for row in session.exec(select(model))}
    created: list[tuple[Any, tuple[str, ...]]] = []
    for values in rows:
        existing = known.get(values[key])
        if existing is None:
            row = model(**values)
            session.add(row)
            created.append((row, tuple(values)))
            known[values[key]] = row
        else:
            counts[_update(session, existing, values, actor, entity)] += 1
    if created:
        session.flush()  # every new row of this kind in one go; their ids are needed below
    for row, fields in created:
        _record_created(session, row, fields, actor, entity)
        counts["created"] += 1
    return known


def _unknown_lead(seed: TeamSeed) -> str:
    return f"team {seed.key}'s lead {seed.lead} is not a member; list them under members first"


def upsert_team(*, session: Session, seed: TeamSeed, actor: Actor) -> tuple[str, Team]:
    """Create or update one team by key; returns the outcome ("created", "updated",
    "unchanged") and the row, so an API can answer 201 only when something new exists."""
    with _one_row(session, "team", seed.key):
        if seed.lead is not None and session.exec(select(Member.id).where(Member.email == seed.lead)).first() is None:
            raise InvalidInput("lead", _unknown_lead(seed))
        existing = session.exec(select(Team).where(Team.key == seed.key).with_for_update()).first()
        outcome, team = _upsert(session, existing, Team, seed.model_dump(), actor, "team")
    return outcome, team


def upsert_region(*, session: Session, seed: RegionSeed, actor: Actor) -> tuple[str, Region]:
    """Create or update one region by code. The parent must exist already (one row at a time
    has no "later in the same file"), and a sub-region (``NA:CA-QC``) must name one."""
    with _one_row(session, "region", seed.code):
        parent_id = None
        if seed.parent is not None:
            if seed.parent == seed.code:
                raise InvalidInput("parent", f"region {seed.code} cannot be its own parent")
            parent = session.exec(select(Region).where(Region.code == seed.parent)).first()
            if parent is None:
                known = ", ".join(session.exec(select(Region.code).order_by(col(Region.code))).all()) or "none"
                raise InvalidInput("parent", f"unknown region {seed.parent!r}; known regions: {known}")
            if parent.parent_id is not None:  # one level only, as codes are (NA:CA-QC); no cycles
                raise InvalidInput("parent", f"{seed.parent} is itself a sub-region; name a top-level region")
            parent_id = parent.id
        elif ":" in seed.code:
            raise InvalidInput("parent", f"sub-region {seed.code} needs parent: {seed.code.split(':')[0]}")
        existing = session.exec(select(Region).where(Region.code == seed.code).with_for_update()).first()
        if existing is not None and parent_id is not None:
            child = session.exec(select(Region.code).where(Region.parent_id == existing.id)).first()
            if child is not None:
                raise InvalidInput("parent", f"{seed.code} has sub-regions (e.g. {child}); it cannot become one")
        values = {**seed.model_dump(exclude={"parent"}), "parent_id": parent_id}
        outcome, region = _upsert(session, existing, Region, values, actor, "region")
    return outcome, region


def upsert_member(*, session: Session, seed: MemberSeed, actor: Actor) -> tuple[str, Member]:
    """Create or update one member by email. Their team must exist; a Slack user id already
    linked to someone else is refused (it identifies who clicked a Slack button)."""
    with _one_row(session, "member", seed.email):
        team_id = None
        if seed.team is not None:
            team_id = session.exec(select(Team.id).where(Team.key == seed.team)).first()
            if team_id is None:
                known = ", ".join(session.exec(select(Team.key).order_by(col(Team.key))).all()) or "none"
                raise InvalidInput("team", f"unknown team {seed.team!r}; known teams: {known}")
        if seed.slack_user_id is not None:
            holder = session.exec(
                select(Member.email).where(Member.slack_user_id == seed.slack_user_id, Member.email != seed.email)
            ).first()
            if holder is not None:
                raise AlreadyExists("member with slack_user_id", f"{seed.slack_user_id} ({holder})")
        existing = session.exec(select(Member).where(Member.email == seed.email).with_for_update()).first()
        values = {**seed.model_dump(exclude={"team"}), "team_id": team_id}
        outcome, member = _upsert(session, existing, Member, values, actor, "member")
    return outcome, member


@contextmanager
def _one_row(session: Session, entity: str, key: str) -> Iterator[None]:
    """One upsert's transaction. Two callers creating the same new key at once both find no
    row (there is nothing to lock yet); the unique index stops the second, answered as a 409
    (a retry then updates) instead of a server error."""
    try:
        with transaction(session):
            yield
    except IntegrityError:
        raise AlreadyExists(entity, key) from None


def _upsert(
    session: Session, existing: Any, model: type[Any], values: dict[str, Any], actor: Actor, entity: str
) -> tuple[str, Any]:
    if existing is None:
        row = model(**values)
        session.add(row)
        session.flush()
        _record_created(session, row, tuple(values), actor, entity)
        return "created", row
    return _update(session, existing, values, actor, entity), existing


def _record_created(session: Session, row: Any, fields: tuple[str, ...], actor: Actor, entity: str) -> None:
    _record(session, row, actor, f"{entity}.created", after=snapshot(row, *fields), before=None)


def _update(session: Session, existing: Any, values: dict[str, Any], actor: Actor, entity: str) -> str:
    """Change ``existing`` to ``values``; "unchanged" (and no audit event) when nothing differs."""
    fields = tuple(values)
    before = snapshot(existing, *fields)
    for name, value in values.items():
        setattr(existing, name, value)
    after = snapshot(existing, *fields)
    if after == before:
        return "unchanged"
    _record(session, existing, actor, f"{entity}.updated", before=before, after=after)
    return "updated"


def _record(
    session: Session, row: Any, actor: Actor, action: str, *, after: dict[str, Any], before: dict[str, Any] | None
) -> None:
    """The directory's audit event: ``action`` is "<entity>.<verb>", as the ledger's readers expect."""
    entity, _verb = action.split(".")
    record(
        session, actor=actor, entity=entity, entity_id=row.id, action=action, launch_id=None, before=before, after=after
    )
