"""What the Block Kit builders are given: frozen, already-loaded snapshots of the domain.

Builders never touch the database (DESIGN.md), so whoever delivers a notification (the Outbox's
composer, ``notifications.delivery.composer``) reads the rows once, fills these in and hands them
over. That keeps the builders pure and testable as data, and makes every message a function of
what was true when the intent was delivered. Times are aware UTC; ``timezone`` names the region's zone, used only to
display due dates the way the region's team reads them.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from orchestrator.core.enums import ItemStatus, Phase
from orchestrator.reporting.digest import Digest


@dataclass(frozen=True)
class ItemLine:
    """One checklist item as a message shows it; ``version`` goes into its buttons' values."""

    id: int
    key: str
    title: str
    team: str
    due_at: datetime | None
    blocking: bool
    status: ItemStatus
    evidence_required: bool
    checked_by: str | None
    checked_at: datetime | None
    version: int
    evidence_url: str | None = None
    blocked_reason: str | None = None
    assignee: str | None = None  # display name, or a Slack user id (U…/W…) to mention

    @property
    def closed(self) -> bool:
        """Done, waived or n/a: shown with who and when instead of buttons."""
        return self.status.satisfies_gate


@dataclass(frozen=True)
class GateOpenedMessage:
    """One owning team's items for one region and phase, posted to that team's channel."""

    launch_slug: str
    launch_name: str
    region_code: str
    region_name: str
    phase: Phase
    team_key: str
    items: Sequence[ItemLine]
    gate_at: datetime | None
    timezone: str = "UTC"
    team_name: str | None = None
    # The phase's beta exit criteria as "metric: value (needs <= threshold)", as of the render.
    exit_criteria: Sequence[str] = ()


@dataclass(frozen=True)
class ItemCheckedMessage:
    """An item changed (done, waived, blocked, evidence added): its line is re-rendered and
    spliced into the message that listed it."""

    launch_slug: str
    launch_name: str
    region_code: str
    region_name: str
    phase: Phase
    team_key: str
    item: ItemLine
    actor: str
    timezone: str = "UTC"


@dataclass(frozen=True)
class OverdueReminderMessage:
    """A nudge for one late item: a DM to its assignee, or the team channel when escalated.
    ``now`` is passed in (not read) so the builder stays pure and the "late by" is testable."""

    launch_slug: str
    launch_name: str
    region_code: str
    region_name: str
    phase: Phase
    team_key: str
    item: ItemLine
    now: datetime
    escalated: bool = False
    timezone: str = "UTC"


class RegionEventKind(StrEnum):
    GATE_PASSED = "gate_passed"
    REGION_ADVANCED = "region_advanced"
    RESUMED = "resumed"
    LIVE = "live"
    HALTED = "halted"
    ROLLED_BACK = "rolled_back"
    NO_GO = "no_go"
    VOTES_VOIDED = "votes_voided"
    CONFIRMATION_NEEDED = "confirmation_needed"

    @property
    def is_failure(self) -> bool:
        """Failure paths are announced as loudly as success: a warning header and the reason."""
        return self in FAILURE_KINDS


FAILURE_KINDS = frozenset(
    {RegionEventKind.HALTED, RegionEventKind.ROLLED_BACK, RegionEventKind.NO_GO, RegionEventKind.VOTES_VOIDED}
)


@dataclass(frozen=True)
class RegionEventMessage:
    """Something happened to a region's rollout that the launch channel should hear about."""

    kind: RegionEventKind
    launch_slug: str
    launch_name: str
    region_code: str
    region_name: str
    phase: Phase | None
    actor: str
    reason: str | None
    percent: int | None = None
    occurred_at: datetime | None = None
    timezone: str = "UTC"
    reevaluate_at: datetime | None = None  # a No-Go: when the region is looked at again


@dataclass(frozen=True)
class DigestMessage:
    """The daily leadership digest, wrapping the orchestrator's ``Digest`` as it was built."""

    digest: Digest
    dashboard_url: str | None = None


@dataclass(frozen=True)
class GuardrailAlert:
    """The beta guardrail halted a region on a severity-1 report: where, at what exposure, and
    what the account reported (from the outbox row's payload)."""

    launch: str
    region: str
    phase: str
    percent: int
    account: str
    text: str
    link: str | None
    feedback_id: int
    owner: str


@dataclass(frozen=True)
class ApprovalRequestMessage:
    """What an approver is asked to decide, and where the vote stands: one DM per approver,
    re-rendered in place after every vote."""

    gate_id: int
    launch_slug: str
    launch_name: str
    region_code: str
    phase: Phase
    phase_at: datetime | None
    timezone: str
    blocking_left: list[str]
    waivers: list[str]  # "item: reason (by who)"
    exit_criteria: list[str]
    needed: int
    distinct_teams: bool
    gos: list[str]
    no_gos: list[str]
    missing: list[str]
    passed: bool
    link: str | None = None


@dataclass(frozen=True)
class VotesMissingMessage:
    """For prod ops, the day before a phase date: which approvers of its gate have not voted and
    how many Gos the quorum still needs (from the outbox row's payload, as queued)."""

    launch_slug: str
    launch_name: str
    region_code: str
    phase: Phase
    phase_at: datetime
    missing: list[str]
    gos_needed: int
    no_gos: list[str]
    link: str | None = None
