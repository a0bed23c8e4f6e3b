"""Readiness forecasts of a launch: read (every role) and recorded on demand (product ops and
admins; the hourly and daily flows record them too), so their accuracy can be shown afterwards."""

from fastapi import APIRouter, Depends

from api.deps import PrincipalDep, SessionDep, allow
from api.problems import ERROR_RESPONSES
from api.schemas.forecasts import ForecastOut, ForecastRecordedOut
from orchestrator.core.clock import utcnow
from orchestrator.core.policy import LAUNCH_OPERATORS, READERS
from orchestrator.forecasts.service import record_forecasts
from orchestrator.forecasts.view import launch_forecast
from orchestrator.launches.queries import launch_id_for

router = APIRouter(responses=ERROR_RESPONSES, prefix="/launches", tags=["forecasts"])


@router.get("/{slug}/forecast", response_model=ForecastOut, dependencies=[Depends(allow(READERS))])
def read_forecast(slug: str, session: SessionDep) -> ForecastOut:
    """Per region, its next gate's forecast: when the open blocking items will be done at the last
    two weeks' rate (the burndown's projection), whether that misses the phase date (the RAG turns
    amber, with `reason`), and the approvals and beta exit criteria the gate still waits for; then
    the newest recorded forecasts. Reading records nothing."""
    found = launch_forecast(session=session, slug=slug, now=utcnow())
    session.commit()  # end the read
    return ForecastOut.of(found)


@router.post("/{slug}/forecast", response_model=ForecastRecordedOut, dependencies=[Depends(allow(LAUNCH_OPERATORS))])
def record_forecast(slug: str, session: SessionDep, principal: PrincipalDep) -> ForecastRecordedOut:
    """Make the launch's forecasts now and record them: one row per region, phase, day and outcome
    (asking again the same day with the same result adds nothing), as the hourly flow does."""
    now = utcnow()
    launch_id = launch_id_for(session=session, slug=slug)
    run = record_forecasts(session=session, now=now, actor=principal.actor, launch_ids=[launch_id])
    found = launch_forecast(session=session, slug=slug, now=now)
    session.commit()
    return ForecastRecordedOut.of(run, found)
