"""Launches for the benchmarks, made through the real services (so every invariant holds)."""

from datetime import UTC, datetime, timedelta

from sqlmodel import Session, col, select

from orchestrator.core.actors import Actor
from orchestrator.core.enums import Phase, Role, Source
from orchestrator.core.models import ChecklistItem, Launch
from orchestrator.directory.seed import load_seed
from orchestrator.directory.service import apply_seed
from orchestrator.directory.tokens import create_token
from orchestrator.launches.service import create_launch, kick_off_launch
from orchestrator.launches.spec import ItemSpec, LaunchSpec, RegionPlan

ACTOR = Actor(name="bench@example.com", source=Source.CLI)


def seed_directory(session: Session) -> str:
    """Teams and regions from the built-in seed; returns a prodops API token."""
    apply_seed(session=session, config=load_seed(None), actor=ACTOR)
    _token, secret = create_token(session=session, name="bench", role=Role.PRODOPS, actor=ACTOR)
    return secret


def gated_launch(
    session: Session, *, slug: str, items: int, team: str = "marketing", internal_in_days: float = -1
) -> list[int]:
    """A kicked-off EU launch waiting at its internal checklist gate on ``items`` blocking items;
    returns the item ids. ``internal_in_days`` < 0 puts the phase date in the past (only the
    checklist holds the gate); > 0 also keeps the time gate closed until then."""
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=internal_in_days)
    dates = {phase: start + timedelta(days=30 * index) for index, phase in enumerate(Phase.ordered())}
    spec = LaunchSpec(
        slug=slug,
        name=slug.title(),
        tier=3,
        owner="owner@example.com",
        regions=[RegionPlan(region="EU", dates=dates)],
        ramp_plan={phase.value: [{"percent": 100}] for phase in Phase.ordered()},
        approvers=["vp@example.com"],  # kick-off refuses approval gates that nobody could pass
    )
    specs = [
        ItemSpec(
            region="EU",
            phase=Phase.INTERNAL,
            key=f"task_{n:04d}",
            title=f"Task {n}",
            owner_team=team,
            due_offset_days=30,
        )
        for n in range(items)
    ]
    launch = create_launch(session=session, spec=spec, items=specs, actor=ACTOR)
    kick_off_launch(session=session, launch_id=launch.id, actor=ACTOR)  # type: ignore[arg-type]
    launch_id = session.exec(select(Launch.id).where(Launch.slug == slug)).one()
    ids = session.exec(
        select(ChecklistItem.id).where(ChecklistItem.launch_id == launch_id).order_by(col(ChecklistItem.id))
    ).all()
    session.commit()
    return [item_id for item_id in ids if item_id is not None]
