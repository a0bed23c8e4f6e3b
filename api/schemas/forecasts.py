"""Readiness forecasts (``GET|POST /launches/{slug}/forecast``): the read model of
``orchestrator.forecasts.view``, each region's projection flattened beside what its gate still
waits for, and the forecasts recorded so far."""

from datetime import datetime

from pydantic import BaseModel, Field

from api.schemas.gates import CriterionOut
from orchestrator.core.enums import Phase
from orchestrator.forecasts.service import RecordRun
from orchestrator.forecasts.view import LaunchForecast, RecordedForecast, RegionForecast


class RegionForecastOut(BaseModel):
    region: str
    phase: Phase = Field(description="The region's next gate: the earliest phase with a gate not yet passed.")
    phase_at: datetime | None = Field(description="That phase's current date.")
    open_blocking: int = Field(description="Blocking items of the phase not done, waived or n/a.")
    rate_per_day: float = Field(description="Net blocking items closed per day over the last two weeks.")
    projected_at: datetime | None = Field(
        description="When the open blocking items are done at that rate (the burndown's projection); null when none "
        "is open or none closed over the two weeks."
    )
    days_late: int | None = Field(description="Days (UTC) the projection lands after the phase date; negative: before.")
    misses: bool = Field(description="The projection lands after the phase date: the launch's RAG is amber for it.")
    reason: str | None = Field(description='The RAG\'s words, e.g. "forecast: EU GA checklist done 6 days after ..."')
    summary: str
    approvals_missing: list[str] = Field(description="Approvers without a counting vote, while the gate is open.")
    gos_needed: int = Field(description="Gos the quorum still needs.")
    criteria_unmet: list[CriterionOut] = Field(description="Beta exit criteria not met, while that gate is open.")
    waiting_for: list[str] = Field(description="Earlier regions of a sequential wave not yet live in the phase.")
    conditions: list[str] = Field(description="What the gate waits for besides its checklist, in words.")

    @classmethod
    def of(cls, found: RegionForecast) -> "RegionForecastOut":
        projection = found.projection
        return cls(
            region=projection.region,
            phase=projection.phase,
            phase_at=projection.phase_at,
            open_blocking=projection.open_blocking,
            rate_per_day=round(projection.rate_per_day, 4),
            projected_at=projection.projected_at,
            days_late=projection.days_late,
            misses=projection.misses,
            reason=projection.reason,
            summary=projection.summary,
            approvals_missing=list(found.approvals_missing),
            gos_needed=found.gos_needed,
            criteria_unmet=[CriterionOut.model_validate(c, from_attributes=True) for c in found.criteria_unmet],
            waiting_for=list(found.waiting_for),
            conditions=list(found.conditions),
        )


class RecordedForecastOut(BaseModel):
    region: str
    phase: Phase
    made_at: datetime = Field(description="When this forecast was first made (that UTC day).")
    confirmed_at: datetime = Field(description="When the same forecast was last made again.")
    phase_at: datetime = Field(description="The phase's date at the time.")
    projected_at: datetime | None
    open_blocking: int
    rate_per_day: float
    days_late: int | None
    reason: str | None

    @classmethod
    def of(cls, row: RecordedForecast) -> "RecordedForecastOut":
        return cls(
            region=row.region,
            phase=row.phase,
            made_at=row.made_at,
            confirmed_at=row.confirmed_at,
            phase_at=row.phase_at,
            projected_at=row.projected_at,
            open_blocking=row.open_blocking,
            rate_per_day=round(row.rate_per_day, 4),
            days_late=row.days_late,
            reason=row.reason,
        )


class ForecastOut(BaseModel):
    slug: str
    name: str
    generated_at: datetime
    regions: list[RegionForecastOut] = Field(description="Every region with a gate ahead, in rollout order.")
    misses: list[str] = Field(description="The regions' forecasts that miss their phase dates, in words.")
    history: list[RecordedForecastOut] = Field(description="The newest 50 recorded forecasts, newest first.")

    @classmethod
    def of(cls, found: LaunchForecast) -> "ForecastOut":
        return cls(
            slug=found.slug,
            name=found.name,
            generated_at=found.generated_at,
            regions=[RegionForecastOut.of(region) for region in found.regions],
            misses=list(found.misses),
            history=[RecordedForecastOut.of(row) for row in found.history],
        )


class ForecastRecordedOut(BaseModel):
    made: int = Field(description="Forecasts made now (one per region with a gate ahead).")
    new: int = Field(description="Rows added; the others confirmed a forecast already recorded today.")
    forecast: ForecastOut

    @classmethod
    def of(cls, run: RecordRun, found: LaunchForecast) -> "ForecastRecordedOut":
        return cls(made=run.made, new=run.new, forecast=ForecastOut.of(found))
