"""RAG rules in one pure function, ``rag_for``, with thresholds in one ``RagRules`` (read from
settings), so the dashboard, the API rollup and the digest colour a launch exactly alike."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from orchestrator.core.enums import Phase, RolloutState
from orchestrator.core.settings import get_settings
from orchestrator.gates.beta_exit import CriterionStatus

# RAG thresholds (research/domain.md §6 "Team RAG"): numbers, so every colour means the same.
# Defaults only: deployments set LAUNCHDECK_RAG_DUE_SOON_DAYS / LAUNCHDECK_RAG_SLIP_AMBER_DAYS.
DUE_SOON = timedelta(days=3)


SLIP_AMBER_DAYS = 7


class Rag(StrEnum):
    RED = "red"
    AMBER = "amber"
    GREEN = "green"

    @property
    def severity(self) -> int:
        """Sort key: red first, so the digest opens with what needs a decision."""
        return {Rag.RED: 0, Rag.AMBER: 1, Rag.GREEN: 2}[self]


@dataclass(frozen=True)
class RagRules:
    """The RAG thresholds, in one place: the digest, the API rollup and the dashboard all take
    theirs from ``RagRules.from_settings()``, so a colour means the same on every surface."""

    due_soon: timedelta = DUE_SOON
    slip_amber_days: int = SLIP_AMBER_DAYS

    @classmethod
    def from_settings(cls) -> "RagRules":
        settings = get_settings()
        return cls(due_soon=timedelta(days=settings.rag_due_soon_days), slip_amber_days=settings.rag_slip_amber_days)


@dataclass(frozen=True)
class RagStatus:
    rag: Rag
    reason: str


@dataclass(frozen=True)
class RegionDigest:
    """One region of a launch as leadership reads it. Counts are of items not done/waived/n/a."""

    region: str
    region_name: str
    state: RolloutState
    phase: Phase | None
    percent: int
    open_blocking: int
    overdue_blocking: int
    blocked: int  # items marked blocked, blocking or advisory
    blocked_blocking: int
    next_blocking_due_at: datetime | None  # earliest open blocking item not yet overdue
    slip_days: int  # whole days the current or a later phase is behind its baseline (0 if none)
    slip_phase: Phase | None  # the phase that slipped most
    next_gate_phase: Phase | None  # earliest phase with a gate not yet passed
    next_gate_at: datetime | None  # that phase's current date
    # That gate's beta exit criteria, each with its current value and threshold (none: no beta
    # exit gate there).
    next_gate_criteria: tuple[CriterionStatus, ...] = ()
    # Phases the region skips on purpose: shown as skipped, and never coloured (they have no
    # date, gate or item, so nothing of theirs is counted above).
    skipped_phases: tuple[Phase, ...] = ()
    timezone: str = "UTC"  # the region's: its phase dates are shown as its local days


def rag_for(
    regions: Sequence[RegionDigest],
    *,
    now: datetime,
    rules: RagRules | None = None,
    due_soon: timedelta | None = None,
    slip_amber_days: int | None = None,
) -> RagStatus:
    """A launch's RAG status and the one-line reason for it, from its regions.

    - RED when any region is halted or rolled back, or has a blocking item that is overdue or
      marked blocked: the plan does not hold without a decision.
    - AMBER when a blocking item is due within ``due_soon`` (3 days), or the current or a later
      phase slipped more than ``slip_amber_days`` (7) whole days behind its baseline.
    - GREEN otherwise.

    The reason names every region that earned the colour, so no red or amber comes without its
    evidence (and a green says what was checked). Advisory items never change the colour, and
    neither does a skipped phase: it counts as neither done nor late.
    ``rules`` defaults to the built-in thresholds; ``due_soon`` / ``slip_amber_days`` override one.
    """
    rules = rules or RagRules()
    if due_soon is None:
        due_soon = rules.due_soon
    if slip_amber_days is None:
        slip_amber_days = rules.slip_amber_days
    red: list[str] = []
    amber: list[str] = []
    for region in regions:
        alarms: list[str] = []
        if region.state == RolloutState.HALTED:
            alarms.append("halted")
        elif region.state == RolloutState.ROLLED_BACK:
            alarms.append("rolled back")
        if region.overdue_blocking:
            alarms.append(f"{_items(region.overdue_blocking)} overdue")
        if region.blocked_blocking:
            alarms.append(f"{_items(region.blocked_blocking)} blocked")
        if alarms:
            red.append(f"{region.region}: {', '.join(alarms)}")
            continue
        warnings: list[str] = []
        if region.next_blocking_due_at is not None and region.next_blocking_due_at <= now + due_soon:
            warnings.append(f"blocking item due {region.next_blocking_due_at:%Y-%m-%d %H:%M} UTC")
        if region.slip_days > slip_amber_days and region.slip_phase is not None:
            warnings.append(f"{region.slip_phase.value} slipped {region.slip_days} days")
        if warnings:
            amber.append(f"{region.region}: {', '.join(warnings)}")
    if red:
        return RagStatus(Rag.RED, "; ".join(red))
    if amber:
        return RagStatus(Rag.AMBER, "; ".join(amber))
    window = due_soon / timedelta(days=1)
    return RagStatus(
        Rag.GREEN,
        f"on track: no blocking item overdue, blocked or due within {window:g} days; "
        f"no phase slipped more than {slip_amber_days} days",
    )


def _items(count: int) -> str:
    return f"{count} blocking item{'s' if count != 1 else ''}"
