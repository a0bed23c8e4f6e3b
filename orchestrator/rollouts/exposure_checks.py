"""Exposure verified: after a change reached its target, the share of synthetic users the target
really serves is recorded next to the share launchdeck intended, and a mismatch beyond the
tolerance halts the region.

The halt is the ordinary one (``halt_locked``: the same audit event, the same alert to the region's
channel, resumed the usual way) and lands in the transaction that records the check, so a check
that says "halt" is never stored without the halt, nor the halt without its evidence. A target
that cannot be evaluated (the recorder, a webhook) is recorded as "not verifiable" and never halts;
neither does a check that could not run (the change itself went through: a person reads the note).
The evaluation itself runs before the transaction begins, so no database lock is held while
thousands of synthetic users are evaluated.
"""

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, col, select

from orchestrator.core.actors import Actor
from orchestrator.core.clock import as_utc
from orchestrator.core.models import ExposureCheck, RegionRollout, text_limit
from orchestrator.core.unit import lock, transaction
from orchestrator.rollouts.rules import ROLLOUT_TRANSITIONS, RolloutAction
from orchestrator.rollouts.service import ENTITY, halt_locked
from orchestrator.rollouts.target import ExposureObserver, ExposureRequest, Observation

log = logging.getLogger("launchdeck.exposure_check")

NOTE_LIMIT = text_limit(ExposureCheck.note)


@dataclass(frozen=True)
class CheckView:
    """One recorded check as people read it (the CLI's table, the launch page)."""

    region: str
    target: str
    flag: str
    intended: int
    observed: float | None
    users: int
    ok: bool | None
    note: str | None
    checked_at: datetime
    halted: bool = False  # this check halted the region

    @property
    def verdict(self) -> str:
        if self.ok is None:
            return "not verifiable"
        return "ok" if self.ok else "mismatch"

    @property
    def observed_text(self) -> str:
        return "—" if self.observed is None else f"{self.observed:.1f}%"


def mismatch_reason(*, intended: int, observed: float, users: int) -> str:
    """The halt's reason, in the words the alert and the audit trail show."""
    return f"exposure check: intended {intended}%, observed {observed:.1f}% of {users} synthetic users"


@dataclass(frozen=True)
class ExposureChecker:
    """How a change is checked once its target took it: who evaluates the synthetic users, how
    many percentage points off is still fine, and who halts the region when it is not."""

    observer: ExposureObserver
    tolerance: float
    actor: Actor

    def check(self, session: Session, request: ExposureRequest, *, now: datetime) -> CheckView:
        """Evaluate, then record (and halt on a mismatch) in one transaction."""
        observation = self._observe(request)
        return record_check(
            session=session,
            request=request,
            observation=observation,
            tolerance=self.tolerance,
            actor=self.actor,
            now=now,
        )

    def _observe(self, request: ExposureRequest) -> Observation:
        try:
            return self.observer.observe(request)
        except Exception as exc:
            log.warning("exposure check of %s %s could not run", request.launch_slug, request.region, exc_info=True)
            return Observation(
                target=request.target or "default",
                flag=request.flag,
                users=0,
                observed=None,
                note=f"could not evaluate: {type(exc).__name__}: {exc}",
            )


def record_check(
    *,
    session: Session,
    request: ExposureRequest,
    observation: Observation,
    tolerance: float,
    actor: Actor,
    now: datetime,
) -> CheckView:
    """Store what ``observation`` saw for ``request``; halt the region when it is further than
    ``tolerance`` points from the intended share and the region may still be halted (a region
    already halted or rolled back stays as it is; the check is recorded all the same)."""
    ok = None if observation.observed is None else abs(observation.observed - request.percent) <= tolerance
    note = observation.note
    with transaction(session):
        rollout = lock(session, RegionRollout, request.rollout_id, ENTITY)
        halted = False
        if ok is False:
            assert observation.observed is not None
            reason = mismatch_reason(intended=request.percent, observed=observation.observed, users=observation.users)
            if RolloutAction.HALT in ROLLOUT_TRANSITIONS[rollout.state]:
                halt_locked(session, rollout=rollout, actor=actor, reason=reason)
                halted = True
                note = f"halted: {reason}"
            else:
                note = f"{reason}; not halted: the region is {rollout.state.value}"
        row = ExposureCheck(
            rollout_id=request.rollout_id,
            launch_id=rollout.launch_id,
            region=request.region,
            target=observation.target,
            flag=observation.flag,
            intended=request.percent,
            observed=observation.observed,
            users=observation.users,
            ok=ok,
            note=note[:NOTE_LIMIT] if note else None,
            checked_at=now,
        )
        session.add(row)
        session.flush()
        view = _view(row, halted=halted)
    if ok is False:
        log.warning("%s %s: %s", request.launch_slug, request.region, view.note or "exposure mismatch")
    return view


def latest_checks(session: Session, *, launch_id: int) -> list[CheckView]:
    """The newest check of each region of a launch, by region code. A pure read: the caller
    ends the transaction."""
    newest = (
        select(func.max(ExposureCheck.id))
        .where(col(ExposureCheck.launch_id) == launch_id)
        .group_by(col(ExposureCheck.rollout_id))
    )
    rows = session.exec(
        select(ExposureCheck).where(col(ExposureCheck.id).in_(newest)).order_by(col(ExposureCheck.region))
    ).all()
    return [_view(row) for row in rows]


def _view(row: ExposureCheck, *, halted: bool = False) -> CheckView:
    return CheckView(
        region=row.region,
        target=row.target,
        flag=row.flag,
        intended=row.intended,
        observed=row.observed,
        users=row.users,
        ok=row.ok,
        note=row.note,
        checked_at=as_utc(row.checked_at),
        halted=halted,
    )
