"""`launchdeck demo`: a sample Tier-1 launch across APAC, EU and NA, walked forward by simulated
GTM owners checking their items, so a newcomer watches a full rollout in a few minutes.

The demo only plays the people: it checks items and votes Go through the same services the API
and Slack use. The worker (started by `launchdeck up`) does everything else: passing gates,
ramping exposure, going live, opening the next phase.
"""

import random
import time
from datetime import timedelta
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn
from sqlmodel import Session, col, select

from checklists.instantiate import create_launch_from_templates
from cli.context import open_session
from cli.errors import friendly_errors
from cli.library import library_for
from orchestrator.core.actors import Actor
from orchestrator.core.clock import utcnow
from orchestrator.core.enums import (
    SATISFYING_STATUSES,
    GateKind,
    GateStatus,
    LaunchStatus,
    Phase,
    Role,
    RolloutState,
    Source,
    Vote,
    WaveMode,
)
from orchestrator.core.models import ChecklistItem, Gate, Member, RegionRollout, Team
from orchestrator.directory.seed import MemberSeed
from orchestrator.directory.service import upsert_member
from orchestrator.gates.approvals import cast_vote
from orchestrator.items.service import check_item
from orchestrator.launches.queries import LaunchActivity, launch_activity, launch_detail
from orchestrator.launches.service import kick_off_launch
from orchestrator.launches.spec import LaunchSpec, RegionPlan

console = Console()
REGIONS = ("APAC", "EU", "NA")
# The demo's go/no-go approver: a member of the directory, who votes as themselves.
DEMO_APPROVER = MemberSeed(email="vp.product@example.com", name="Vic Product (demo approver)", role=Role.APPROVER)
DEMO_RAMP = {
    phase.value: [{"percent": 5, "hold_minutes": 0.05}, {"percent": 25, "hold_minutes": 0.05}, {"percent": 100}]
    for phase in (Phase.PUBLIC_BETA, Phase.GA)
}
STALL_SECONDS = 45


def _demo_spec(slug: str) -> LaunchSpec:
    start = utcnow() - timedelta(days=1)  # every phase date has come: the demo is about readiness
    dates = {phase: start + timedelta(minutes=index) for index, phase in enumerate(Phase.ordered())}
    return LaunchSpec(
        slug=slug,
        name="Acme Assistant",
        tier=1,
        owner="pat.prodops@example.com",
        exec_sponsor="vp.product@example.com",
        flags=["personal_data"],
        regions=[RegionPlan(region=code, dates=dates) for code in REGIONS],
        approvers=[DEMO_APPROVER.email],
        wave_mode=WaveMode.SEQUENTIAL,
        ramp_plan=DEMO_RAMP,
    )


def _owner_actor(team: str, team_id: int) -> Actor:
    """A member of ``team`` checking items off in Slack (the access policy lets them change their
    own team's items only, as it would a real person)."""
    return Actor(name=f"{team}.owner@example.com", source=Source.SLACK, role=Role.MEMBER, team_id=team_id)


def _approver_actor(session: Session, email: str) -> Actor:
    """An approver voting in Slack as themselves (a vote counts for the person who casts it)."""
    member_id = session.exec(select(Member.id).where(Member.email == email)).one()
    return Actor(name=email, source=Source.SLACK, role=Role.APPROVER, member_id=member_id)


def _play_people(session: Session, *, launch_id: int, per_tick: int) -> int:
    """Owners check a few open blocking items of phases that are gated now; approvers vote Go."""
    gated = session.exec(
        select(RegionRollout).where(RegionRollout.launch_id == launch_id, RegionRollout.state == RolloutState.GATED)
    ).all()
    acted = 0
    for rollout in gated:
        items = session.exec(
            select(ChecklistItem, Team.key)
            .join(Team, col(Team.id) == col(ChecklistItem.owner_team_id))
            .where(
                ChecklistItem.rollout_id == rollout.id,
                ChecklistItem.phase == rollout.phase,
                col(ChecklistItem.blocking).is_(True),
                col(ChecklistItem.status).not_in(SATISFYING_STATUSES),
            )
            .order_by(col(ChecklistItem.due_at))
            .limit(per_tick)
        ).all()
        for item, team in items:
            acted += _check_with_dependencies(session, item=item, team=team)
        for gate in session.exec(
            select(Gate).where(
                Gate.rollout_id == rollout.id,
                Gate.phase == rollout.phase,
                Gate.kind == GateKind.APPROVAL,
                Gate.status == GateStatus.OPEN,
            )
        ).all():
            if not items:  # vote once the readiness work is done, as a go/no-go meeting would
                for voter in gate.approvers:
                    cast_vote(
                        session=session,
                        gate_id=gate.id,  # type: ignore[arg-type]
                        vote=Vote.GO,
                        actor=_approver_actor(session, voter),
                        comment="Readiness review done; go.",
                    )
                    acted += 1
    return acted


def _check_with_dependencies(session: Session, *, item: ChecklistItem, team: str) -> int:
    """Owners finish what an item waits for first (even advisory work), then the item itself."""
    checked = 0
    if item.depends_on:
        waiting = session.exec(
            select(ChecklistItem, Team.key)
            .join(Team, col(Team.id) == col(ChecklistItem.owner_team_id))
            .where(
                ChecklistItem.rollout_id == item.rollout_id,
                col(ChecklistItem.key).in_(item.depends_on),
                col(ChecklistItem.status).not_in(SATISFYING_STATUSES),
            )
        ).all()
        for dependency, dependency_team in waiting:
            checked += _check_with_dependencies(session, item=dependency, team=dependency_team)
    evidence = f"https://wiki.example.com/launch/{item.key}" if item.evidence_required else None
    check_item(session=session, item_id=item.id, actor=_owner_actor(team, item.owner_team_id), evidence_url=evidence)  # type: ignore[arg-type]
    return checked + 1


def _progress_value(state: RolloutState, phase: Phase | None, percent: int) -> float:
    if phase is None:
        return 0.0
    index = Phase.ordered().index(phase)
    within = 1.0 if state == RolloutState.LIVE else percent / 100 * 0.9
    return (index + within) * 100


@friendly_errors
def demo(
    slug: Annotated[str | None, typer.Option(help="Slug of the demo launch (default: demo-<time>).")] = None,
    items_per_tick: Annotated[int, typer.Option(min=1, help="Items each region's owners check per tick.")] = 12,
    tick_seconds: Annotated[float, typer.Option(min=0.05, help="Seconds between the owners' rounds.")] = 0.5,
    timeout_minutes: Annotated[float, typer.Option(help="Give up after this long.")] = 15,
) -> None:
    """Create a sample Tier-1 launch (APAC -> EU -> NA, sequential waves) and play its GTM owners
    until every region is live in GA. Needs a running worker: use `launchdeck up --demo`."""
    slug = slug or f"demo-{utcnow():%Y%m%d-%H%M%S}"
    with open_session() as session:
        library = library_for(session)
        upsert_member(session=session, seed=DEMO_APPROVER, actor=Actor("demo", Source.CLI))
        launch = create_launch_from_templates(
            session=session, spec=_demo_spec(slug), library=library, actor=Actor("demo", Source.CLI)
        )
        assert launch.id is not None
        kick_off_launch(session=session, launch_id=launch.id, actor=Actor("demo", Source.CLI))
        launch_id = launch.id
    console.print(f"created [bold]{slug}[/]: Tier 1 in {', '.join(REGIONS)}, sequential waves; owners are working ...")
    deadline = time.monotonic() + timeout_minutes * 60
    last_change = time.monotonic()
    last_seen: LaunchActivity | None = None
    rng = random.Random(7)
    with Progress(
        TextColumn("{task.fields[region]:<5}"), BarColumn(), TextColumn("{task.description}"), console=console
    ) as bars:
        tasks = {code: bars.add_task("planned", total=400, region=code) for code in REGIONS}
        while time.monotonic() < deadline:
            with open_session(check_schema=False) as session:
                _play_people(session, launch_id=launch_id, per_tick=rng.randint(1, items_per_tick))
                detail = launch_detail(session=session, slug=slug)
                # Any ledger event, delivery or lease on the launch is movement, not only a region
                # changing state, phase or percent (a worker between two ramp steps changes none).
                seen = launch_activity(session=session, launch_id=launch_id)
            for rollout in detail.rollouts:
                phase = rollout.phase.value if rollout.phase else "-"
                bars.update(
                    tasks[rollout.region],
                    completed=_progress_value(rollout.state, rollout.phase, rollout.percent),
                    description=f"{phase:<12} {rollout.state.value:<11} {rollout.percent:>3}%  "
                    f"{rollout.phase_open_blocking} blocking open in this phase",
                )
            if detail.launch.status == LaunchStatus.COMPLETED:
                break
            if seen != last_seen:
                last_seen, last_change = seen, time.monotonic()
            elif time.monotonic() - last_change > STALL_SECONDS:
                console.print("[yellow]nothing has moved for a while: is a worker running? (`launchdeck up`)[/]")
                last_change = time.monotonic()
            time.sleep(tick_seconds)
    if detail.launch.status == LaunchStatus.COMPLETED:
        console.print(
            f"[green]{slug} is live in GA everywhere.[/] See `launchdeck launch show {slug}` and the Prefect UI."
        )
    else:
        console.print(f"[yellow]stopped waiting after {timeout_minutes:g} minutes; `launchdeck launch show {slug}`[/]")
