"""When a readiness forecast misses its phase date, in one rule and one sentence, and the recorded
forecasts the leadership digest reads: the latest per region and phase (the RAG's input) and the
misses of the week.

The forecasts themselves are made and recorded by ``orchestrator.forecasts`` (a domain above this
one, as it builds on the burndown); reporting only reads the ``forecast`` table, so the portfolio
pays one statement for them, however many launches it shows, instead of rebuilding every
region's burndown from the ledger on each request.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, func
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


def latest_projections(session: Session, *, which: ColumnElement[bool]) -> dict[int, dict[Phase, datetime]]:
    """Per region and phase of the chosen launches, the projected date of the latest recorded
    forecast, when that forecast still had blocking items open (a done checklist misses nothing).
    One statement: the latest confirmation per region and phase, joined back to its row."""
    latest = (
        select_columns(
            col(Forecast.rollout_id).label("rollout_id"),
            col(Forecast.phase).label("phase"),
            func.max(col(Forecast.confirmed_at)).label("confirmed_at"),
        )
        .join(Launch, col(Launch.id) == col(Forecast.launch_id))
        .where(which)
        .group_by(col(Forecast.rollout_id), col(Forecast.phase))
        .subquery()
    )
    rows = session.execute(
        select_columns(
            col(Forecast.rollout_id),
            col(Forecast.phase),
            col(Forecast.id),
            col(Forecast.projected_at),
            col(Forecast.open_blocking),
        ).join(
            latest,
            (col(Forecast.rollout_id) == latest.c.rollout_id)
            & (col(Forecast.phase) == latest.c.phase)
            & (col(Forecast.confirmed_at) == latest.c.confirmed_at),
        )
    ).all()
    chosen: dict[tuple[int, Phase], tuple[int, datetime | None, int]] = {}
    for rollout_id, phase, forecast_id, projected_at, open_blocking in rows:
        held = chosen.get((rollout_id, phase))
        if held is None or forecast_id > held[0]:  # two confirmed at the same instant: the newer row
            chosen[(rollout_id, phase)] = (forecast_id, projected_at, open_blocking)
    found: dict[int, dict[Phase, datetime]] = {}
    for (rollout_id, phase), (_id, projected_at, open_blocking) in chosen.items():
        if projected_at is not None and open_blocking > 0:
            found.setdefault(rollout_id, {})[phase] = as_utc(projected_at)
    return found


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
    """The week's forecast misses of the chosen launches, latest per region and phase, most days
    late first (then by launch and region), at most ``limit``: for the leadership digest."""
    rows = session.execute(
        select_columns(
            col(Forecast.id),
            col(Forecast.launch_id),
            col(Launch.slug),
            col(Region.code),
            col(Forecast.rollout_id),
            col(Forecast.phase),
            col(Forecast.phase_at),
            col(Forecast.projected_at),
            col(Forecast.confirmed_at),
        )
        .join(Launch, col(Launch.id) == col(Forecast.launch_id))
        .join(RegionRollout, col(RegionRollout.id) == col(Forecast.rollout_id))
        .join(Region, col(Region.id) == col(RegionRollout.region_id))
        .where(
            which,
            col(Forecast.confirmed_at) >= now - MISSES_LOOKBACK,
            col(Forecast.open_blocking) > 0,
            col(Forecast.projected_at) > col(Forecast.phase_at),
        )
        .order_by(col(Forecast.confirmed_at), col(Forecast.id))
    ).all()
    latest: dict[tuple[int, Phase], ForecastMiss] = {}
    for _id, launch_id, slug, code, rollout_id, phase, phase_at, projected_at, confirmed_at in rows:
        miss = ForecastMiss(launch_id, slug, code, phase, as_utc(phase_at), as_utc(projected_at), as_utc(confirmed_at))
        if miss.days_late > 0:
            latest[(rollout_id, phase)] = miss  # ordered oldest first: the latest wins
    return _worst_first(list(latest.values()))[:limit]


def _worst_first(misses: Sequence[ForecastMiss]) -> tuple[ForecastMiss, ...]:
    return tuple(sorted(misses, key=lambda miss: (-miss.days_late, miss.slug, miss.region, miss.phase.value)))
