"""Creating a launch (its regions, phase dates, gates and items) and kicking it off."""

from collections.abc import Mapping, Sequence
from datetime import datetime

from sqlmodel import Session, col, select

from orchestrator.core.actors import Actor
from orchestrator.core.clock import due_at, utcnow
from orchestrator.core.enums import GateKind, LaunchStatus, Phase, RolloutState
from orchestrator.core.errors import AlreadyExists, IllegalTransition, InvalidInput, NotFound
from orchestrator.core.ledger import record, snapshot
from orchestrator.core.models import (
    BetaExitCriterion,
    ChecklistItem,
    Gate,
    Launch,
    PhaseDate,
    Region,
    RegionRollout,
    Team,
)
from orchestrator.core.outbox import enqueue
from orchestrator.core.policy import LAUNCH_OPERATORS, require_role
from orchestrator.core.settings import get_settings
from orchestrator.core.topics import Topic
from orchestrator.core.unit import compare_and_set, expect_version, lock, transaction
from orchestrator.gates.service import evaluate_gates, open_phase_gates
from orchestrator.launches.spec import ItemSpec, LaunchSpec, RegionPlan, beta_exit_gate_phases, gate_kinds_for
from orchestrator.rollouts.phases import first_phase
from orchestrator.rollouts.rules import RolloutAction, rollout_target


def create_launch(*, session: Session, spec: LaunchSpec, items: Sequence[ItemSpec] = (), actor: Actor) -> Launch:
    _targets_configured(spec)
    with transaction(session):
        if session.exec(select(Launch.id).where(Launch.slug == spec.slug)).first() is not None:
            raise AlreadyExists("launch", spec.slug)
        regions = _regions_by_code(session, [plan.region for plan in spec.regions])
        teams = teams_by_key(session, sorted({item.owner_team for item in items}))
        launch = _new_launch(spec)
        session.add(launch)
        session.flush()
        assert launch.id is not None
        rollouts = {
            plan.region: _add_rollout(session, launch_id=launch.id, spec=spec, plan=plan, region=regions[plan.region])
            for plan in spec.regions
        }
        for beta_phase, thresholds in spec.beta_exit_criteria.items():
            for metric, threshold in thresholds.items():
                session.add(
                    BetaExitCriterion(launch_id=launch.id, phase=beta_phase, metric=metric, threshold=threshold)
                )
        skipped = {plan.region: [phase.value for phase in plan.skip] for plan in spec.regions if plan.skip}
        phase_dates = {(plan.region, phase): when for plan in spec.regions for phase, when in plan.dates.items()}
        for index, item in enumerate(items):
            session.add(
                _new_item(
                    where=f"items[{index}] ({item.key})",
                    item=item,
                    launch_id=launch.id,
                    phase_dates=phase_dates,
                    rollouts=rollouts,
                    regions=regions,
                    teams=teams,
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
                **({"rollout_target": spec.rollout_target} if spec.rollout_target else {}),
                **({"flag_key": spec.flag_key} if spec.flag_key else {}),
                **_region_targets(spec),
                "regions": [plan.region for plan in spec.regions],
                **({"skipped": skipped} if skipped else {}),
                "items": len(items),
                **(
                    {"beta_exit_criteria": spec.model_dump(mode="json")["beta_exit_criteria"]}
                    if spec.beta_exit_criteria
                    else {}
                ),
            },
        )
    return launch


def _region_targets(spec: LaunchSpec) -> dict[str, dict[str, dict[str, str]]]:
    """The regions' own target choices, for the audit record (none: nothing recorded)."""
    chosen: dict[str, dict[str, str]] = {}
    for plan in spec.regions:
        choice = {"rollout_target": plan.rollout_target, "flag_key": plan.flag_key}
        if any(choice.values()):
            chosen[plan.region] = {name: value for name, value in choice.items() if value}
    return {"region_targets": chosen} if chosen else {}


def _targets_configured(spec: LaunchSpec) -> None:
    """A launch may name only a rollout target this installation can reach: one left
    unconfigured would park every exposure change of the launch mid-ramp."""
    settings = get_settings()
    for where, name in spec.named_targets():
        problem = settings.target_problem(name)
        if problem is not None:
            raise InvalidInput(where, problem)


def _new_launch(spec: LaunchSpec) -> Launch:
    return Launch(
        slug=spec.slug,
        name=spec.name,
        tier=spec.tier,
        owner=spec.owner,
        exec_sponsor=spec.exec_sponsor,
        flags=sorted(set(spec.flags)),
        template_version=spec.template_version,
        wave_mode=spec.wave_mode,
        ramp_plan=spec.ramp_plan,
        rollout_target=spec.rollout_target,
        flag_key=spec.flag_key,
    )


def _add_rollout(
    session: Session, *, launch_id: int, spec: LaunchSpec, plan: RegionPlan, region: Region
) -> RegionRollout:
    """One region of a new launch: its rollout (flushed, for its id), phase dates and gates."""
    rollout = RegionRollout(
        launch_id=launch_id,
        region_id=region.id,  # type: ignore[arg-type]
        skipped_phases=[phase.value for phase in plan.skip],
        rollout_target=plan.rollout_target,
        flag_key=plan.flag_key,
    )
    session.add(rollout)
    session.flush()
    assert rollout.id is not None
    for phase, when in plan.dates.items():
        session.add(PhaseDate(rollout_id=rollout.id, phase=phase, baseline_at=when, current_at=when))
        for kind in gate_kinds_for(tier=spec.tier, phase=phase):
            gate = Gate(rollout_id=rollout.id, phase=phase, kind=kind)
            if kind == GateKind.APPROVAL:
                gate.approvers = spec.approvers_of(phase)
                gate.quorum = spec.approval_quorum
                gate.distinct_teams = spec.approval_distinct_teams
            session.add(gate)
    for phase in beta_exit_gate_phases(planned=list(plan.dates), criteria=spec.beta_exit_criteria):
        session.add(Gate(rollout_id=rollout.id, phase=phase, kind=GateKind.BETA_EXIT))
    return rollout


def _new_item(
    *,
    where: str,
    item: ItemSpec,
    launch_id: int,
    phase_dates: Mapping[tuple[str, Phase], datetime],
    rollouts: Mapping[str, RegionRollout],
    regions: Mapping[str, Region],
    teams: Mapping[str, Team],
) -> ChecklistItem:
    """One checklist item of a new launch, due ``due_offset_days`` from its phase's date (09:00
    in its region's timezone); refused when its region or phase is not planned."""
    if item.region not in rollouts:
        raise InvalidInput(where, f"region {item.region} is not one of this launch's regions")
    phase_at = phase_dates.get((item.region, item.phase))
    if phase_at is None:
        raise InvalidInput(where, f"region {item.region} has no {item.phase.value} date")
    due = (
        None
        if item.due_offset_days is None
        else due_at(phase_at=phase_at, offset_days=item.due_offset_days, timezone=regions[item.region].timezone)
    )
    return ChecklistItem(
        launch_id=launch_id,
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


def _refuse_unapprovable(session: Session, *, launch: Launch) -> None:
    """A launch starts only if each of its approval gates names somebody who could pass it (not
    its own owner, while self-approval is forbidden)."""
    barred = {launch.owner} if get_settings().forbid_self_approval else set()
    empty = [
        f"{code} {Phase(phase).value}"
        for code, phase, approvers, quorum in session.exec(
            select(Region.code, Gate.phase, Gate.approvers, Gate.quorum)
            .join(RegionRollout, col(RegionRollout.id) == col(Gate.rollout_id))
            .join(Region, col(Region.id) == col(RegionRollout.region_id))
            .where(RegionRollout.launch_id == launch.id, Gate.kind == GateKind.APPROVAL)
            .order_by(Region.code, Gate.phase)
        )
        if len(set(approvers) - barred) < (quorum or max(len(approvers), 1))
    ]
    if empty:
        raise InvalidInput(
            "approvers",
            f"the approval gates of {', '.join(empty)} name nobody who could pass them (no approvers, fewer than "
            "the quorum, or only the launch's owner, who may not approve it); name the approvers before kicking "
            "off (`launchdeck launch approvers`, or PUT /launches/{slug}/approvers), or give the teams the "
            "templates name a lead (teams[].lead in the directory) before creating the launch",
        )


def check_kickoff(session: Session, *, launch: Launch) -> None:
    """Refuse kicking off ``launch`` as it stands (not a draft; an approval gate nobody could
    pass). Also asked by a door before it offers the kickoff (Slack's confirmation modal)."""
    if launch.status != LaunchStatus.DRAFT:
        raise IllegalTransition("launch", launch.status.value, "kick off", ["kick off (from draft)"])
    _refuse_unapprovable(session, launch=launch)


def kick_off_launch(*, session: Session, launch_id: int, actor: Actor, expected_version: int | None = None) -> Launch:
    """Start the launch: every planned region opens the gates of its first phase. Product ops and
    admins only (and launchdeck's own processes); a person's role is checked here, whatever door
    they came through."""
    require_role(actor, LAUNCH_OPERATORS, doing="kick off a launch")
    now = utcnow()
    with transaction(session):
        launch = lock(session, Launch, launch_id, "launch")
        expect_version(launch, expected_version, "launch")
        if launch.status == LaunchStatus.ACTIVE:
            return launch  # a retried kickoff changes nothing
        check_kickoff(session, launch=launch)
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
            topic=Topic.LAUNCH_KICKED_OFF,
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
                action=Topic.ROLLOUT_GATED,
                launch_id=launch.id,
                before={"state": RolloutState.PLANNED.value},
                after={"state": target.value, "phase": first.value},
            )
            enqueue(
                session,
                key=f"rollout:{rollout.id}:{first.value}:gate_opened",
                topic=Topic.GATE_OPENED,
                launch_id=launch.id,
                payload={"rollout_id": rollout.id, "phase": first.value},
            )
            evaluate_gates(session, rollout=rollout, now=now, actor=actor)
    return launch


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
