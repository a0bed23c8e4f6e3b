"""What an audit sentence names besides the event itself: people by their directory name and
team, items by title, regions by code. ``AuditFacts`` is plain data so the sentence builder
(``audit_sentences``) stays a pure function; ``read_audit_facts`` fills it for a page of events
with one statement per kind of thing the page mentions (at most nine, whatever its length)."""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import or_
from sqlalchemy import select as select_columns
from sqlmodel import Session, col

from orchestrator.core.enums import Phase, Role
from orchestrator.core.models import (
    ApiToken,
    AuditEvent,
    BetaCohort,
    BetaEnrollment,
    BetaFeedback,
    ChecklistItem,
    Decision,
    Gate,
    Member,
    PhaseDate,
    Region,
    RegionRollout,
    Team,
)

TOKEN_ACTOR_PREFIX = "token:"  # how an API token's actor is named (orchestrator.directory.tokens)
# Roles worth saying next to a name when the member belongs to no team.
_TOLD_ROLES = frozenset({Role.PRODOPS, Role.ADMIN, Role.LEADERSHIP})


@dataclass(frozen=True)
class Person:
    name: str
    team: str | None = None  # the team's name, or a role worth telling when in no team

    @property
    def label(self) -> str:
        return f"{self.name} ({self.team})" if self.team else self.name


@dataclass(frozen=True)
class Place:
    """Where something happened: a region code and a phase, either unknown."""

    region: str | None = None
    phase: Phase | None = None


@dataclass(frozen=True)
class Thing:
    """A named thing at a place: an item (its title), a beta enrollment or feedback (its account)."""

    name: str
    place: Place


@dataclass(frozen=True)
class AuditFacts:
    people: Mapping[str, Person] = field(default_factory=dict)  # by email, and by "token:<name>"
    members: Mapping[int, Person] = field(default_factory=dict)  # by member id (assignees)
    items: Mapping[int, Thing] = field(default_factory=dict)
    rollouts: Mapping[int, str] = field(default_factory=dict)  # region code
    gates: Mapping[int, Place] = field(default_factory=dict)
    decisions: Mapping[int, Place] = field(default_factory=dict)
    phase_dates: Mapping[int, str] = field(default_factory=dict)  # region code
    cohorts: Mapping[int, Place] = field(default_factory=dict)
    enrollments: Mapping[int, Thing] = field(default_factory=dict)
    feedback: Mapping[int, Thing] = field(default_factory=dict)


def read_audit_facts(session: Session, events: Sequence[AuditEvent]) -> AuditFacts:
    """The facts ``events`` need, read in one statement per kind mentioned."""
    ids = _ids_by_entity(events)
    emails, tokens, member_ids = _people_mentioned(events)
    people, members = _people(session, emails=emails, member_ids=member_ids)
    people.update(_token_people(session, tokens))
    return AuditFacts(
        people=people,
        members=members,
        items=_items(session, ids.get("item", set())),
        rollouts=_rollouts(session, ids.get("rollout", set())),
        gates=_gates(session, ids.get("gate", set())),
        decisions=_decisions(session, ids.get("decision", set())),
        phase_dates=_phase_dates(session, ids.get("phase_date", set())),
        cohorts=_cohorts(session, ids.get("beta_cohort", set())),
        enrollments=_enrollments(session, ids.get("beta_enrollment", set())),
        feedback=_feedback(session, ids.get("beta_feedback", set())),
    )


def _ids_by_entity(events: Iterable[AuditEvent]) -> dict[str, set[int]]:
    found: dict[str, set[int]] = {}
    for event in events:
        if event.entity_id is not None:
            found.setdefault(event.entity, set()).add(event.entity_id)
    return found


def _people_mentioned(events: Iterable[AuditEvent]) -> tuple[set[str], set[str], set[int]]:
    """Emails (actors, voters, recorders, approvers), token names and member ids (assignees)."""
    emails: set[str] = set()
    tokens: set[str] = set()
    member_ids: set[int] = set()
    for event in events:
        if event.actor.startswith(TOKEN_ACTOR_PREFIX):
            tokens.add(event.actor.removeprefix(TOKEN_ACTOR_PREFIX))
        else:
            emails.add(event.actor)
        for side in (event.before or {}, event.after or {}):
            emails.update(str(side[key]) for key in ("voter", "recorded_by") if side.get(key))
            approvers = side.get("approvers")
            if isinstance(approvers, list):
                emails.update(str(email) for email in approvers)
            if isinstance(side.get("assignee_id"), int):
                member_ids.add(side["assignee_id"])
    return emails, tokens, member_ids


def _person(name: str, role: Any, team: str | None) -> Person:
    told = team or (role.value if isinstance(role, Role) and role in _TOLD_ROLES else None)
    return Person(name=name, team=told)


def _people(session: Session, *, emails: set[str], member_ids: set[int]) -> tuple[dict[str, Person], dict[int, Person]]:
    if not emails and not member_ids:
        return {}, {}
    rows = session.execute(
        select_columns(col(Member.id), col(Member.email), col(Member.name), col(Member.role), col(Team.name))
        .outerjoin(Team, col(Team.id) == col(Member.team_id))
        .where(or_(col(Member.email).in_(sorted(emails)), col(Member.id).in_(sorted(member_ids))))
    ).all()
    by_email = {email: _person(name, role, team) for _id, email, name, role, team in rows}
    by_id = {member_id: _person(name, role, team) for member_id, _email, name, role, team in rows}
    return by_email, by_id


def _token_people(session: Session, names: set[str]) -> dict[str, Person]:
    """An API token acting for a member reads as that member (one member per token name)."""
    if not names:
        return {}
    found: dict[str, set[Person]] = {}
    for token_name, name, role, team in session.execute(
        select_columns(col(ApiToken.name), col(Member.name), col(Member.role), col(Team.name))
        .join(Member, col(Member.id) == col(ApiToken.member_id))
        .outerjoin(Team, col(Team.id) == col(Member.team_id))
        .where(col(ApiToken.name).in_(sorted(names)))
    ):
        found.setdefault(token_name, set()).add(_person(name, role, team))
    return {TOKEN_ACTOR_PREFIX + key: next(iter(people)) for key, people in found.items() if len(people) == 1}


def _items(session: Session, ids: set[int]) -> dict[int, Thing]:
    if not ids:
        return {}
    rows = session.execute(
        select_columns(col(ChecklistItem.id), col(ChecklistItem.title), col(Region.code), col(ChecklistItem.phase))
        .join(RegionRollout, col(RegionRollout.id) == col(ChecklistItem.rollout_id))
        .join(Region, col(Region.id) == col(RegionRollout.region_id))
        .where(col(ChecklistItem.id).in_(sorted(ids)))
    )
    return {item_id: Thing(title, Place(code, phase)) for item_id, title, code, phase in rows}


def _rollouts(session: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = session.execute(
        select_columns(col(RegionRollout.id), col(Region.code))
        .join(Region, col(Region.id) == col(RegionRollout.region_id))
        .where(col(RegionRollout.id).in_(sorted(ids)))
    )
    return {rollout_id: code for rollout_id, code in rows}


def _gates(session: Session, ids: set[int]) -> dict[int, Place]:
    if not ids:
        return {}
    rows = session.execute(
        select_columns(col(Gate.id), col(Region.code), col(Gate.phase))
        .join(RegionRollout, col(RegionRollout.id) == col(Gate.rollout_id))
        .join(Region, col(Region.id) == col(RegionRollout.region_id))
        .where(col(Gate.id).in_(sorted(ids)))
    )
    return {gate_id: Place(code, phase) for gate_id, code, phase in rows}


def _decisions(session: Session, ids: set[int]) -> dict[int, Place]:
    if not ids:
        return {}
    rows = session.execute(
        select_columns(col(Decision.id), col(Region.code), col(Gate.phase))
        .join(Gate, col(Gate.id) == col(Decision.gate_id))
        .join(RegionRollout, col(RegionRollout.id) == col(Gate.rollout_id))
        .join(Region, col(Region.id) == col(RegionRollout.region_id))
        .where(col(Decision.id).in_(sorted(ids)))
    )
    return {decision_id: Place(code, phase) for decision_id, code, phase in rows}


def _phase_dates(session: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = session.execute(
        select_columns(col(PhaseDate.id), col(Region.code))
        .join(RegionRollout, col(RegionRollout.id) == col(PhaseDate.rollout_id))
        .join(Region, col(Region.id) == col(RegionRollout.region_id))
        .where(col(PhaseDate.id).in_(sorted(ids)))
    )
    return {phase_date_id: code for phase_date_id, code in rows}


def _cohorts(session: Session, ids: set[int]) -> dict[int, Place]:
    if not ids:
        return {}
    rows = session.execute(
        select_columns(col(BetaCohort.id), col(Region.code), col(BetaCohort.phase))
        .join(Region, col(Region.id) == col(BetaCohort.region_id))
        .where(col(BetaCohort.id).in_(sorted(ids)))
    )
    return {cohort_id: Place(code, phase) for cohort_id, code, phase in rows}


def _enrollments(session: Session, ids: set[int]) -> dict[int, Thing]:
    if not ids:
        return {}
    rows = session.execute(
        select_columns(col(BetaEnrollment.id), col(BetaEnrollment.account), col(Region.code), col(BetaCohort.phase))
        .join(BetaCohort, col(BetaCohort.id) == col(BetaEnrollment.cohort_id))
        .join(Region, col(Region.id) == col(BetaCohort.region_id))
        .where(col(BetaEnrollment.id).in_(sorted(ids)))
    )
    return {enrollment_id: Thing(account, Place(code, phase)) for enrollment_id, account, code, phase in rows}


def _feedback(session: Session, ids: set[int]) -> dict[int, Thing]:
    if not ids:
        return {}
    rows = session.execute(
        select_columns(col(BetaFeedback.id), col(BetaFeedback.account), col(Region.code), col(BetaFeedback.phase))
        .join(RegionRollout, col(RegionRollout.id) == col(BetaFeedback.rollout_id))
        .join(Region, col(Region.id) == col(RegionRollout.region_id))
        .where(col(BetaFeedback.id).in_(sorted(ids)))
    )
    return {feedback_id: Thing(account, Place(code, phase)) for feedback_id, account, code, phase in rows}
