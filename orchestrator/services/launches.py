"""Creating a launch (its regions, phase dates, gates and items) and kicking it off."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from itertools import pairwise

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from sqlmodel import Session, col, select

from orchestrator.actors import Actor
from orchestrator.clock import as_utc, utcnow
from orchestrator.enums import BETA_PHASES, ExitMetric, GateKind, LaunchStatus, Phase, RolloutState, WaveMode
from orchestrator.errors import AlreadyExists, IllegalTransition, InvalidInput, NotFound
from orchestrator.ledger import enqueue, record, snapshot
from orchestrator.models import (
    BetaExitCriterion,
    ChecklistItem,
    Gate,
    Launch,
    PhaseDate,
    Region,
    RegionRollout,
    Team,
)
from orchestrator.ramp import parse_ramp_plan
from orchestrator.rules import RolloutAction, rollout_target
from orchestrator.services._unit import compare_and_set, expect_version, lock, transaction
from orchestrator.services.gates import evaluate_gates, open_phase_gates
from orchestrator.timing import due_at

SLUG_PATTERN = r"^[a-z0-9][a-z0-9-]{1,78}[a-z0-9]$"


class RegionPlan(BaseModel):
    """A region's phase dates; phases left out are skipped in that region."""

    model_config = ConfigDict(extra="forbid")

    region: str = Field(min_length=1, max_length=40)
    dates: dict[Phase, datetime] = Field(min_length=1)

    @field_validator("dates")
    @classmethod
    def _aware_and_ordered(cls, dates: dict[Phase, datetime]) -> dict[Phase, datetime]:
        ordered = [phase for phase in Phase.ordered() if phase in dates]
        for phase in ordered:
            if dates[phase].tzinfo is None:
                raise ValueError(f"{phase.value} date needs a timezone offset (e.g. 2027-03-01T09:00:00+00:00)")
        for earlier, later in pairwise(ordered):
            if dates[later] < dates[earlier]:
                raise ValueError(f"{later.value} ({dates[later].isoformat()}) is before {earlier.value}")
        return {phase: as_utc(dates[phase]) for phase in ordered}


class LaunchSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    slug: str = Field(pattern=SLUG_PATTERN, description="lowercase letters, digits and dashes, 3-80 characters")
    name: str = Field(min_length=1, max_length=200)
    tier: int = Field(ge=1, le=3)
    owner: str = Field(min_length=1, max_length=254)
    exec_sponsor: str | None = Field(default=None, max_length=254)
    flags: list[str] = Field(default_factory=list)
    regions: list[RegionPlan] = Field(min_length=1)
    approvers: list[str] = Field(default_factory=list)
    template_version: str | None = None
    wave_mode: WaveMode = WaveMode.PARALLEL
    ramp_plan: dict[str, list[dict[str, int | float]]] = Field(
        default_factory=dict, description="Exposure steps per phase; phases left out use the defaults."
    )
    beta_exit_criteria: dict[Phase, dict[ExitMetric, int]] = Field(
        default_factory=dict,
        description="Per beta phase, the thresholds for leaving it, e.g. "
        '{"private_beta": {"open_severity_1": 0, "active_accounts": 20}}; they gate the next phase.',
    )

    @field_validator("beta_exit_criteria")
    @classmethod
    def _beta_phases_only(cls, criteria: dict[Phase, dict[ExitMetric, int]]) -> dict[Phase, dict[ExitMetric, int]]:
        for phase, thresholds in criteria.items():
            if phase not in BETA_PHASES:
                raise ValueError(
                    f"{phase.value} is not a beta phase; exit criteria belong to private_beta or public_beta"
                )
            for metric, threshold in thresholds.items():
                if threshold < 0:
                    raise ValueError(f"{phase.value}.{metric.value}: threshold must be 0 or more, got {threshold}")
        return criteria

    @field_validator("ramp_plan")
    @classmethod
    def _valid_ramp(cls, plan: dict[str, list[dict[str, int | float]]]) -> dict[str, list[dict[str, int | float]]]:
        try:
            parse_ramp_plan(plan)
        except InvalidInput as exc:
            raise ValueError(exc.message) from None
        return plan

    @model_validator(mode="after")
    def _regions_once(self) -> "LaunchSpec":
        codes = [plan.region for plan in self.regions]
        duplicates = sorted({code for code in codes if codes.count(code) > 1})
        if duplicates:
            raise ValueError(f"regions listed more than once: {', '.join(duplicates)}")
        return self


@dataclass(frozen=True)
class ItemSpec:
    """One checklist item to create, as produced by the checklists package."""

    region: str
    phase: Phase
    key: str
    title: str
    owner_team: str
    description: str = ""
    due_offset_days: int | None = None
    blocking: bool = True
    evidence_required: bool = False
    depends_on: tuple[str, ...] = field(default_factory=tuple)


def gate_kinds_for(*, tier: int, phase: Phase) -> list[GateKind]:
    """Every phase waits for its checklist and its date; GA (and public beta of a Tier 1) also
    needs a go/no-go vote, as go/no-go practice scales with tier."""
    kinds = [GateKind.CHECKLIST, GateKind.TIME]
    if phase == Phase.GA or (tier == 1 and phase == Phase.PUBLIC_BETA):
        kinds.append(GateKind.APPROVAL)
    return kinds


def beta_exit_gate_phases(*, planned: Sequence[Phase], criteria: dict[Phase, dict[ExitMetric, int]]) -> list[Phase]:
    """The phases a region enters only through a beta-exit gate: the planned phase right after
    each beta that has criteria (public_beta after private_beta, ga after public_beta)."""
    ordered = [phase for phase in Phase.ordered() if phase in planned]
    return [following for beta, following in pairwise(ordered) if beta in BETA_PHASES and criteria.get(beta)]


def create_launch(*, session: Session, spec: LaunchSpec, items: Sequence[ItemSpec] = (), actor: Actor) -> Launch:
    with transaction(session):
        if session.exec(select(Launch.id).where(Launch.slug == spec.slug)).first() is not None:
            raise AlreadyExists("launch", spec.slug)
        regions = _regions_by_code(session, [plan.region for plan in spec.regions])
        teams = teams_by_key(session, sorted({item.owner_team for item in items}))
        launch = Launch(
            slug=spec.slug,
            name=spec.name,
            tier=spec.tier,
            owner=spec.owner,
            exec_sponsor=spec.exec_sponsor,
            flags=sorted(set(spec.flags)),
            template_version=spec.template_version,
            wave_mode=spec.wave_mode,
            ramp_plan=spec.ramp_plan,
        )
        session.add(launch)
        session.flush()
        assert launch.id is not None
        rollouts: dict[str, RegionRollout] = {}
        phase_dates: dict[tuple[str, Phase], datetime] = {}
        for plan in spec.regions:
            region = regions[plan.region]
            rollout = RegionRollout(launch_id=launch.id, region_id=region.id)  # type: ignore[arg-type]
            session.add(rollout)
            session.flush()
            assert rollout.id is not None
            rollouts[plan.region] = rollout
            for phase, when in plan.dates.items():
                phase_dates[(plan.region, phase)] = when
                session.add(PhaseDate(rollout_id=rollout.id, phase=phase, baseline_at=when, current_at=when))
                for kind in gate_kinds_for(tier=spec.tier, phase=phase):
                    approvers = list(spec.approvers) if kind == GateKind.APPROVAL else []
                    session.add(Gate(rollout_id=rollout.id, phase=phase, kind=kind, approvers=approvers))
            for phase in beta_exit_gate_phases(planned=list(plan.dates), criteria=spec.beta_exit_criteria):
                session.add(Gate(rollout_id=rollout.id, phase=phase, kind=GateKind.BETA_EXIT))
        for beta_phase, thresholds in spec.beta_exit_criteria.items():
            for metric, threshold in thresholds.items():
                session.add(
                    BetaExitCriterion(launch_id=launch.id, phase=beta_phase, metric=metric, threshold=threshold)
                )
        for index, item in enumerate(items):
            where = f"items[{index}] ({item.key})"
            if item.region not in rollouts:
                raise InvalidInput(where, f"region {item.region} is not one of this launch's regions")
            phase_at = phase_dates.get((item.region, item.phase))
            if phase_at is None:
                raise InvalidInput(where, f"region {item.region} has no {item.phase.value} date")
            due = (
                None
                if item.due_offset_days is None
                else due_at(
                    phase_at=phase_at,
                    offset_days=item.due_offset_days,
                    timezone=regions[item.region].timezone,
                )
            )
            session.add(
                ChecklistItem(
                    launch_id=launch.id,
                    rollout_id=rollouts[item.region].id,  # type: ignore[arg-type]
                    phase=item.phase,
                    key=item.key,
                    title=item.title,
                    description=item.description,
                    owner_team_id=teams[item.owner_team].id,  # type: ignore[arg-type]
                    due_at=due,
                    due_offset_days=item.due_offset_days,
                    blocking=item.blocking,
                    evidence_required=item.evidence_required,
                    depends_on=list(item.depends_on),
                )
            )
        record(
            session,
            actor=actor,
            entity="launch",
            entity_id=launch.id,
            action="launch.created",
            launch_id=launch.id,
            after={
                **snapshot(launch, "slug", "name", "tier", "owner", "flags", "template_version"),
                "regions": [plan.region for plan in spec.regions],
                "items": len(items),
                **(
                    {"beta_exit_criteria": spec.model_dump(mode="json")["beta_exit_criteria"]}
                    if spec.beta_exit_criteria
                    else {}
                ),
            },
        )
    return launch


def kick_off_launch(*, session: Session, launch_id: int, actor: Actor, expected_version: int | None = None) -> Launch:
    """Start the launch: every planned region opens the gates of its first phase."""
    now = utcnow()
    with transaction(session):
        launch = lock(session, Launch, launch_id, "launch")
        expect_version(launch, expected_version, "launch")
        if launch.status == LaunchStatus.ACTIVE:
            return launch  # a retried kickoff changes nothing
        if launch.status != LaunchStatus.DRAFT:
            raise IllegalTransition("launch", launch.status.value, "kick off", ["kick off (from draft)"])
        compare_and_set(session, launch, "launch", status=LaunchStatus.ACTIVE, updated_at=now)
        record(
            session,
            actor=actor,
            entity="launch",
            entity_id=launch.id,
            action="launch.kicked_off",
            launch_id=launch.id,
            before={"status": LaunchStatus.DRAFT.value},
            after={"status": LaunchStatus.ACTIVE.value},
        )
        enqueue(
            session,
            key=f"launch:{launch.id}:kicked_off",
            topic="launch.kicked_off",
            launch_id=launch.id,
            payload={"launch_id": launch.id},
        )
        rollouts = session.exec(
            select(RegionRollout).where(RegionRollout.launch_id == launch.id).with_for_update(key_share=True)
        )
        for rollout in rollouts:
            first = first_phase(session, rollout_id=rollout.id)  # type: ignore[arg-type]
            target = rollout_target(rollout.state, RolloutAction.KICK_OFF)
            compare_and_set(session, rollout, "region rollout", state=target, phase=first, updated_at=now)
            open_phase_gates(session, rollout=rollout, phase=first, now=now)
            record(
                session,
                actor=actor,
                entity="rollout",
                entity_id=rollout.id,
                action="rollout.gated",
                launch_id=launch.id,
                before={"state": RolloutState.PLANNED.value},
                after={"state": target.value, "phase": first.value},
            )
            enqueue(
                session,
                key=f"rollout:{rollout.id}:{first.value}:gate_opened",
                topic="gate.opened",
                launch_id=launch.id,
                payload={"rollout_id": rollout.id, "phase": first.value},
            )
            evaluate_gates(session, rollout=rollout, now=now, actor=actor)
    return launch


def first_phase(session: Session, *, rollout_id: int) -> Phase:
    phases = planned_phases(session, rollout_id=rollout_id)
    if not phases:
        raise InvalidInput("regions", f"rollout {rollout_id} has no phase dates")
    return phases[0]


def planned_phases(session: Session, *, rollout_id: int) -> list[Phase]:
    present = set(session.exec(select(PhaseDate.phase).where(PhaseDate.rollout_id == rollout_id)))
    return [phase for phase in Phase.ordered() if phase in present]


def _regions_by_code(session: Session, codes: list[str]) -> dict[str, Region]:
    found = {region.code: region for region in session.exec(select(Region).where(col(Region.code).in_(codes)))}
    missing = [code for code in codes if code not in found]
    if missing:
        known = ", ".join(session.exec(select(Region.code).order_by(col(Region.rollout_order)))) or "none"
        raise InvalidInput("regions", f"unknown region(s) {', '.join(missing)}; known regions: {known}")
    return found


def teams_by_key(session: Session, keys: list[str]) -> dict[str, Team]:
    if not keys:
        return {}
    found = {team.key: team for team in session.exec(select(Team).where(col(Team.key).in_(keys)))}
    missing = [key for key in keys if key not in found]
    if missing:
        raise NotFound("team", ", ".join(missing))
    return found
