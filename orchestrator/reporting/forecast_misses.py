"""When a readiness forecast misses its phase date, in one rule and one sentence, and the recorded
forecasts the leadership digest reads: the latest per region and phase (the RAG's input) and the
misses of the week.

The forecasts themselves are made and recorded by ``orchestrator.forecasts`` (a domain above this
one, as it builds on the burndown); reporting only reads the ``forecast`` table, so the portfolio
pays one statement for them (a seek per region down ``ix_forecast_latest``), however many
launches it shows, instead of rebuilding every region's burndown from the ledger on each request.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement
from sqlalchemy import select as select_columns
from sqlmodel import Session, col

from orchestrator.core.clock import as_utc
from orchestrator.core.enums import Phase
from orchestrator.core.models import Forecast, Launch, Region, RegionRollout
from orchestrator.reporting.audit_words import phase_label

MISSES_LOOKBACK = timedelta(days=7)  # "forecast misses of the week"
MISSES_SHOWN = 10


def days_after(projected_at: datetime, phase_at: datetime) -> int:
    """Whole calendar days (UTC) from the phase date's day to the projected day: a checklist done
    on the evening of the phase date's day is not late, one done the next morning is a day late."""
    return (as_utc(projected_at).date() - as_utc(phase_at).date()).days


def miss_reason(*, region: str, phase: Phase, projected_at: datetime | None, phase_at: datetime | None) -> str | None:
    """ "forecast: EU GA checklist done 6 days after 2027-04-15" when the projection lands on a
    later day than the phase date; None when it does not, or when there is nothing to compare."""
    if projected_at is None or phase_at is None:
        return None
    late = days_after(projected_at, phase_at)
    if late <= 0:
        return None
    return (
        f"forecast: {region} {phase_label(phase)} checklist done {late} day{'s' if late != 1 else ''} "
        f"after {as_utc(phase_at):%Y-%m-%d}"
    )


def _latest(*conditions: ColumnElement[bool]) -> Any:
    """The id of a region's latest recorded forecast meeting ``conditions``, as a subquery
    correlated with the region: one seek down ``ix_forecast_latest`` per region."""
    return (
        select_columns(col(Forecast.id))
        .where(col(Forecast.rollout_id) == col(RegionRollout.id), *conditions)
        .order_by(col(Forecast.confirmed_at).desc(), col(Forecast.id).desc())
        .limit(1)
        .correlate(RegionRollout)
        .scalar_subquery()
    )


def latest_projections(session: Session, *, which: ColumnElement[bool]) -> dict[int, tuple[Phase, datetime]]:
    """Per region of the chosen launches, its latest recorded forecast as (phase, projected date),
    when that forecast still had blocking items open (a done checklist misses nothing). Forecasts
    are made of a region's next gate, so one of another phase than the next gate now is about a
    gate passed since: the caller compares phases. One statement, a seek per region."""
    rows = session.execute(
        select_columns(col(Forecast.rollout_id), col(Forecast.phase), col(Forecast.projected_at))
        .select_from(RegionRollout)
        .join(Launch, col(Launch.id) == col(RegionRollout.launch_id))
        .join(Forecast, col(Forecast.id) == _latest())
        .where(which, col(Forecast.open_blocking) > 0, col(Forecast.projected_at).is_not(None))
    ).all()
    return {rollout_id: (phase, as_utc(projected_at)) for rollout_id, phase, projected_at in rows}


@dataclass(frozen=True)
class ForecastMiss:
    """A region's latest forecast of the week that missed its phase date."""

    launch_id: int
    slug: str
    region: str
    phase: Phase
    phase_at: datetime  # the phase date when the forecast was made
    projected_at: datetime
    made_at: datetime  # when that forecast was last made

    @property
    def days_late(self) -> int:
        return days_after(self.projected_at, self.phase_at)

    @property
    def reason(self) -> str:
        text = miss_reason(region=self.region, phase=self.phase, projected_at=self.projected_at, phase_at=self.phase_at)
        assert text is not None  # a miss by construction
        return text


def forecast_misses(
    session: Session, *, which: ColumnElement[bool], now: datetime, limit: int = MISSES_SHOWN
) -> tuple[ForecastMiss, ...]:
    """The week's forecast misses of the chosen launches: per region, its latest forecast of the
    week that projected its open blocking items done after the phase date; most days late first
    (then by launch and region), at most ``limit``. For the leadership digest."""
    missed = _latest(
        col(Forecast.confirmed_at) >= now - MISSES_LOOKBACK,
        col(Forecast.open_blocking) > 0,
        col(Forecast.projected_at) > col(Forecast.phase_at),
    )
    rows = session.execute(
        select_columns(
            col(Forecast.launch_id),
            col(Launch.slug),
            col(Region.code),
            col(Forecast.phase),
            col(Forecast.phase_at),
            col(Forecast.projected_at),
            col(Forecast.confirmed_at),
        )
        .select_from(RegionRollout)
        .join(Launch, col(Launch.id) == col(RegionRollout.launch_id))
        .join(Region, col(Region.id) == col(RegionRollout.region_id))
        .join(Forecast, col(Forecast.id) == missed)
        .where(which)
    ).all()
    misses = [
        ForecastMiss(launch_id, slug, code, phase, as_utc(phase_at), as_utc(projected_at), as_utc(confirmed_at))
        for launch_id, slug, code, phase, phase_at, projected_at, confirmed_at in rows
    ]
    # Later the same day as the phase date is no day late (the SQL compares instants).
    return _worst_first([miss for miss in misses if miss.days_late > 0])[:limit]


def _worst_first(misses: Sequence[ForecastMiss]) -> tuple[ForecastMiss, ...]:
    return tuple(sorted(misses, key=lambda miss: (-miss.days_late, miss.slug, miss.region, miss.phase.value)))
