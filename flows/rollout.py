"""The region flow: move one region of a launch as far as its gates and ramp holds allow, then end.

Nothing waits inside a flow: a closed gate, a ramp hold or a phase date simply ends the run, and a
worker starts a new one when the database says something is due. Each step is a compare-and-set
service call, so a replayed run (a retry, a second worker, a restart after SIGKILL) cannot advance
a region twice.
"""

from dataclasses import dataclass

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.context import TagsContext
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, select

from flows.artifacts import artifact_key, readiness_markdown
from flows.resources import FLOW_ACTOR, engine, target
from orchestrator.core.clock import utcnow
from orchestrator.core.db import session_scope
from orchestrator.core.enums import LaunchStatus
from orchestrator.core.errors import IllegalTransition, StaleVersion
from orchestrator.core.models import Launch
from orchestrator.core.settings import get_settings
from orchestrator.retros.markdown import retro_markdown
from orchestrator.retros.retro import launch_retro
from orchestrator.rollouts.exposure import deliver_exposures
from orchestrator.rollouts.steps import StepKind, load_snapshot, next_step, take_step
from orchestrator.rollouts.target import TargetUnavailable

MAX_STEPS_PER_RUN = 25


def transient(_task: object, _run: object, state: object) -> bool:
    """Retry only what may succeed on a second try: a locked or unreachable database, a target
    that is briefly down. Domain errors are answers, not accidents."""
    try:
        state.result()  # type: ignore[attr-defined]
    except (OperationalError, TargetUnavailable):
        return True
    except Exception:  # noqa: BLE001 - any other failure is final; Prefect records it on the run
        return False
    return False


@dataclass(frozen=True)
class StepTaken:
    kind: str
    phase: str
    percent: int | None
    state_after: str
    completed_launch: bool = False  # this step took the launch's last region live in its last phase

    def describe(self) -> str:
        percent = f" {self.percent}%" if self.percent is not None else ""
        return f"{self.kind} {self.phase}{percent} -> {self.state_after}"


@task(name="take-next-step", retries=3, retry_delay_seconds=[0.5, 2, 5], retry_condition_fn=transient)
def take_next_step(rollout_id: int) -> StepTaken | None:
    logger = get_run_logger()
    with session_scope(engine()) as session:
        snapshot = load_snapshot(session, rollout_id=rollout_id)
        session.commit()
        step = next_step(snapshot, now=utcnow())
        if step is None:
            return None
        try:
            rollout = take_step(session, snapshot=snapshot, step=step, actor=FLOW_ACTOR)
        except (IllegalTransition, StaleVersion) as exc:
            # Someone (an operator's halt, another worker) moved the region first: stop here;
            # the next look at the database decides what is due.
            logger.info("region %s changed while stepping (%s); stopping this run", snapshot.region, exc.message)
            return None
        completed = step.kind == StepKind.GO_LIVE and snapshot.in_last_phase and _completed(session, snapshot.launch_id)
        return StepTaken(step.kind.value, step.phase.value, step.percent, rollout.state.value, completed)


def _completed(session: Session, launch_id: int) -> bool:
    """Whether the launch is completed: going live in the last phase completes it (in the same
    transaction, with its LAUNCH_COMPLETED outbox row) when it was the last region to."""
    status = session.exec(select(Launch.status).where(Launch.id == launch_id)).one()
    session.commit()
    return status == LaunchStatus.COMPLETED


@task(name="deliver-exposure", retries=3, retry_delay_seconds=[1, 5, 15], retry_condition_fn=transient)
def deliver_pending_exposures() -> int:
    with session_scope(engine()) as session:
        return deliver_exposures(
            session=session, target=target(), now=utcnow(), claim_seconds=get_settings().worker_lease_seconds
        )


@task(name="publish-readiness")
def publish_readiness(rollout_id: int, slug: str, region: str) -> None:
    with session_scope(engine()) as session:
        snapshot = load_snapshot(session, rollout_id=rollout_id)
        if snapshot.phase is None:
            return
        markdown = readiness_markdown(
            session, rollout_id=rollout_id, title=f"{slug} / {region} / {snapshot.phase.value}", phase=snapshot.phase
        )
    create_markdown_artifact(
        markdown=markdown,
        key=artifact_key(slug, region, snapshot.phase.value, "readiness"),
        description=f"Readiness of {slug} in {region} ({snapshot.phase.value}, {snapshot.state.value})",
    )


@task(name="publish-retro")
def publish_retro(slug: str) -> None:
    """The post-launch retro as a markdown artifact of this flow run: the launch's last."""
    with session_scope(engine()) as session:
        markdown = retro_markdown(launch_retro(session=session, slug=slug, now=utcnow()))
    create_markdown_artifact(
        markdown=markdown, key=artifact_key(slug, "retro"), description=f"Post-launch retro of {slug}"
    )


@flow(name="advance-region", flow_run_name="launch/{slug}/{region}/{phase}", log_prints=False)
async def advance_region(rollout_id: int, slug: str, region: str, phase: str) -> list[str]:
    """Take every step that is due now for one region; stop at the first wait.

    Async only for Prefect's sake: an async flow run costs about 0.3 s of orchestration here
    against about 1.1 s for a sync one (measured on this machine, three-task flows). The steps
    themselves are short synchronous database transactions."""
    taken: list[StepTaken] = []
    # The run keeps its launch/region/phase tags; its task runs carry none. A tagged task run asks
    # the server for tag concurrency slots before it starts (one more round trip and API client
    # per task): profiled as about a third of a region run, and we set no tag limits.
    with TagsContext(current_tags=set()):
        for _ in range(MAX_STEPS_PER_RUN):
            step = take_next_step(rollout_id)
            if step is None:
                break
            taken.append(step)
            if step.kind == StepKind.RAMP:
                deliver_pending_exposures()
            if step.kind in (StepKind.ADVANCE, StepKind.EVALUATE_GATES):
                publish_readiness(rollout_id, slug, region)
            if step.completed_launch:
                publish_retro(slug)
    return [step.describe() for step in taken]
