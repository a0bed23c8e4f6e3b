"""The post-launch retro (``GET /launches/{slug}/retro``): the read model of
``orchestrator.retros``, durations in whole seconds (the Markdown export says them in words)."""

from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field

from orchestrator.core.enums import GateKind, ItemStatus, LaunchStatus, Phase
from orchestrator.retros.figures import Accuracy, BetaFigures, Bottleneck, PhaseTimes
from orchestrator.retros.retro import Retro


def _seconds(value: timedelta | None) -> int | None:
    return None if value is None else int(value.total_seconds())


class _Read(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class GatePassedOut(BaseModel):
    kind: GateKind
    passed_at: datetime


class PhaseTimesOut(BaseModel):
    region: str
    phase: Phase
    gates_opened_at: datetime | None = Field(description="The region reached the phase's gates.")
    ready_at: datetime | None = Field(description="Every gate passed: the region may ramp.")
    at_gate_seconds: int | None = Field(description="From the gates opening to ready.")
    held_by: GateKind | None = Field(description="The gate that passed last (what the region waited for).")
    gates_passed: list[GatePassedOut] = Field(description="Each passed gate, in the order it passed.")
    ramp_started_at: datetime | None = Field(description="The phase's first exposure step.")
    live_at: datetime | None
    in_ramp_seconds: int | None = Field(description="From the first exposure step to live.")

    @classmethod
    def of(cls, row: PhaseTimes) -> "PhaseTimesOut":
        return cls(
            region=row.region,
            phase=row.phase,
            gates_opened_at=row.gates_opened_at,
            ready_at=row.ready_at,
            at_gate_seconds=_seconds(row.at_gate),
            held_by=row.held_by if row.ready_at is not None else None,
            gates_passed=[GatePassedOut(kind=kind, passed_at=at) for kind, at in row.gate_passed],
            ramp_started_at=row.ramp_started_at,
            live_at=row.live_at,
            in_ramp_seconds=_seconds(row.in_ramp),
        )


class LastClosedOut(_Read):
    title: str
    team: str
    closed_at: datetime
    status: ItemStatus
    by: str


class BottleneckOut(BaseModel):
    region: str
    phase: Phase
    gate_passed_at: datetime = Field(description="When the phase's checklist gate passed.")
    team: str = Field(description="The team whose blocking item was closed last before the gate passed.")
    last_closed: list[LastClosedOut] = Field(description="The last three blocking items closed, newest first.")

    @classmethod
    def of(cls, row: Bottleneck) -> "BottleneckOut":
        return cls(
            region=row.region,
            phase=row.phase,
            gate_passed_at=row.gate_passed_at,
            team=row.team,
            last_closed=[LastClosedOut.model_validate(closed) for closed in row.last],
        )


class SlipOut(_Read):
    region: str
    phase: Phase
    old_at: datetime
    new_at: datetime
    days: int = Field(description="Whole days moved; later is positive.")
    reason: str
    by: str
    changed_at: datetime


class WaiverOut(_Read):
    region: str
    phase: Phase
    item: str
    team: str
    approver: str
    reason: str
    granted_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None


class ConditionalGoOut(_Read):
    region: str
    phase: Phase
    voter: str
    conditions: str
    risk_accepted_by: str | None
    cast_at: datetime
    voided: bool


class TeamOverdueOut(_Read):
    team: str
    items: int = Field(description="Items the team owned (n/a ones left out).")
    overdue: int = Field(description="Closed after their due date, or still open past it.")
    overdue_blocking: int


class ForecastCheckOut(BaseModel):
    made_at: datetime
    projected_at: datetime
    days_off: int = Field(description="Projected day minus the day the checklist passed (positive: too late).")


class AccuracyOut(BaseModel):
    region: str
    phase: Phase
    actual_at: datetime = Field(description="When the phase's checklist gate passed.")
    forecasts: list[ForecastCheckOut] = Field(description="Forecasts made while items were open, oldest first.")
    without_projection: int = Field(description="Forecasts made while nothing had closed in two weeks.")
    mean_abs_days: float | None

    @classmethod
    def of(cls, row: Accuracy) -> "AccuracyOut":
        return cls(
            region=row.region,
            phase=row.phase,
            actual_at=row.actual_at,
            forecasts=[ForecastCheckOut(made_at=m, projected_at=p, days_off=off) for m, p, off in row.errors],
            without_projection=row.without_projection,
            mean_abs_days=row.mean_abs_days,
        )


class BetaOut(BaseModel):
    region: str = Field(description='A region code, or "all".')
    reports: int = Field(description="Reports received, duplicates included.")
    issues: int = Field(description="Distinct issues (duplicates merged away).")
    severity_1: int
    severity_1_open: int
    fix_seconds: list[int] = Field(description="Each resolved severity-1 issue: reported to resolved, shortest first.")
    median_fix_seconds: int | None
    longest_fix_seconds: int | None

    @classmethod
    def of(cls, row: BetaFigures) -> "BetaOut":
        return cls(
            region=row.region,
            reports=row.reports,
            issues=row.issues,
            severity_1=row.severity_1,
            severity_1_open=row.severity_1_open,
            fix_seconds=[int(fix.total_seconds()) for fix in row.fix_times],
            median_fix_seconds=_seconds(row.median_fix),
            longest_fix_seconds=_seconds(row.longest_fix),
        )


class RetroOut(BaseModel):
    slug: str
    name: str
    tier: int
    owner: str
    status: LaunchStatus = Field(description="Not completed: the figures so far.")
    kicked_off_at: datetime | None
    completed_at: datetime | None
    duration_seconds: int | None = Field(description="Kickoff to completion.")
    generated_at: datetime
    phases: list[PhaseTimesOut]
    bottlenecks: list[BottleneckOut]
    slips: list[SlipOut]
    waivers: list[WaiverOut]
    conditional_gos: list[ConditionalGoOut]
    overdue: list[TeamOverdueOut]
    accuracy: list[AccuracyOut]
    accuracy_mean_abs_days: float | None = Field(description="Mean absolute days off over every checked forecast.")
    beta: list[BetaOut]

    @classmethod
    def of(cls, retro: Retro) -> "RetroOut":
        return cls(
            slug=retro.slug,
            name=retro.name,
            tier=retro.tier,
            owner=retro.owner,
            status=retro.status,
            kicked_off_at=retro.kicked_off_at,
            completed_at=retro.completed_at,
            duration_seconds=_seconds(retro.duration),
            generated_at=retro.generated_at,
            phases=[PhaseTimesOut.of(row) for row in retro.phases],
            bottlenecks=[BottleneckOut.of(row) for row in retro.bottlenecks],
            slips=[SlipOut.model_validate(row) for row in retro.slips],
            waivers=[WaiverOut.model_validate(row) for row in retro.waivers],
            conditional_gos=[ConditionalGoOut.model_validate(row) for row in retro.conditional_gos],
            overdue=[TeamOverdueOut.model_validate(row) for row in retro.overdue],
            accuracy=[AccuracyOut.of(row) for row in retro.accuracy],
            accuracy_mean_abs_days=retro.accuracy_mean_abs_days,
            beta=[BetaOut.of(row) for row in retro.beta],
        )
