"""Shared set-up for tests that run real flows against the suite's Prefect server: launches ready
to run, the worker drained, a region's rollout read fresh, and polling with a deadline."""

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from sqlmodel import Session, col, select

from orchestrator.core.actors import Actor
from orchestrator.core.enums import ExitMetric, Phase, WaveMode
from orchestrator.core.models import Launch, Region, RegionRollout
from orchestrator.launches.service import create_launch, kick_off_launch
from orchestrator.launches.spec import ItemSpec, LaunchSpec
from orchestrator.rollouts.target import TargetName
from tests.support.factories import region_plan

T = TypeVar("T")

FAST_RAMP = {
    phase.value: [{"percent": 10, "hold_minutes": 0}, {"percent": 50, "hold_minutes": 0}, {"percent": 100}]
    for phase in (Phase.PUBLIC_BETA, Phase.GA)
}


def recent_dates(phases: tuple[Phase, ...] = tuple(Phase.ordered())) -> dict[Phase, datetime]:
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(days=10)
    return {phase: start + timedelta(days=index) for index, phase in enumerate(phases)}


def ready_launch(
    session: Session,
    actor: Actor,
    *,
    slug: str,
    regions: tuple[str, ...] = ("EU",),
    items: list[ItemSpec] | None = None,
    phases: tuple[Phase, ...] = tuple(Phase.ordered()),
    tier: int = 3,
    wave_mode: WaveMode = WaveMode.PARALLEL,
    ramp_plan: dict[str, list[dict[str, int | float]]] | None = None,
    approvers: list[str] | None = None,
    beta_exit_criteria: dict[Phase, dict[ExitMetric, int]] | None = None,
    region_target: TargetName | None = None,
) -> Launch:
    """A kicked-off launch whose phase dates have all come; ``region_target`` names the rollout
    target of each of its regions (None: the configured default)."""
    dates = recent_dates(phases)
    plans = [region_plan(code, dates) for code in regions]
    for plan in plans:
        plan.rollout_target = region_target
    spec = LaunchSpec(
        slug=slug,
        name=slug.title(),
        tier=tier,
        owner="owner@example.com",
        regions=plans,
        wave_mode=wave_mode,
        ramp_plan=FAST_RAMP if ramp_plan is None else ramp_plan,
        approvers=approvers or ["vp@example.com"],
        beta_exit_criteria=beta_exit_criteria or {},
    )
    launch = create_launch(session=session, spec=spec, items=items or [], actor=actor)
    kick_off_launch(session=session, launch_id=launch.id, actor=actor)  # type: ignore[arg-type]
    return session.exec(select(Launch).where(Launch.slug == slug)).one()


def drain(worker, session, slug, *, rounds=12):
    """Let ``worker`` run what is due (at most ``rounds`` times); returns the launch as it is now."""
    for _ in range(rounds):
        if not worker.run_once():
            break
    launch = session.exec(select(Launch).where(Launch.slug == slug).execution_options(populate_existing=True)).one()
    session.commit()
    return launch


def rollout_of(session, launch, region="EU"):
    found = session.exec(
        select(RegionRollout)
        .join(Region, col(Region.id) == col(RegionRollout.region_id))
        .where(RegionRollout.launch_id == launch.id, Region.code == region)
        .execution_options(populate_existing=True)
    ).one()
    session.commit()
    return found


def wait_for(condition: Callable[[], T | None], *, timeout: float = 60.0, interval: float = 0.1) -> T:
    """Poll until ``condition`` returns something truthy, or fail at the deadline (never a fixed sleep)."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(interval)
