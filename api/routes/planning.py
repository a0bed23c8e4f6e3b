"""Planning through the API: a launch's rollout timeline and the portfolio's, the GTM load with a
drill-down to one team-week's items, and the collisions ahead. Every role reads them; the reads
live in the core (``orchestrator.planning``), a fixed number of statements however many launches.

The dry runs of creating a launch and of moving a phase date (``?dry_run=true``) are on those
routes themselves (api/routes/launches.py)."""

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query

from api.deps import SessionDep, allow
from api.problems import ERROR_RESPONSES
from api.schemas.planning import CollisionsOut, LoadOut, PortfolioTimelineOut, TeamWeekOut, TimelineOut
from orchestrator.core.clock import utcnow
from orchestrator.core.models import Team, text_limit
from orchestrator.core.policy import READERS
from orchestrator.directory.seed import KEY_PATTERN
from orchestrator.launches.spec import SLUG_PATTERN
from orchestrator.planning.conflicts import portfolio_collisions
from orchestrator.planning.load import DEFAULT_WEEKS, MAX_WEEKS, gtm_load, parse_week, team_week_items
from orchestrator.planning.timeline import launch_timeline, portfolio_timeline

router = APIRouter(responses=ERROR_RESPONSES, tags=["planning"])
WEEK_PATTERN = r"^([0-9]{4}-[0-9]{2}-[0-9]{2}|overdue)$"


@router.get("/launches/{slug}/timeline", response_model=TimelineOut, dependencies=[Depends(allow(READERS))])
def launch_timeline_route(
    slug: Annotated[str, Path(max_length=80, pattern=SLUG_PATTERN, examples=["acme-assistant"])],
    session: SessionDep,
) -> TimelineOut:
    """The launch's regions in wave order over dates: each phase's baseline and current date (the
    slip between them) with every reschedule, the region's freezes and rollout window, and the
    collisions each phase date is part of."""
    timeline = launch_timeline(session=session, slug=slug, now=utcnow())
    session.commit()  # end the read (on SQLite an open read pins its snapshot)
    return TimelineOut.of(timeline)


@router.get("/timeline", response_model=PortfolioTimelineOut, dependencies=[Depends(allow(READERS))])
def portfolio_timeline_route(session: SessionDep) -> PortfolioTimelineOut:
    """Every active launch on one time axis, by slug: each region's phases with baseline, current
    date and slip, freezes, rollout window and collisions."""
    timeline = portfolio_timeline(session=session, now=utcnow(), per_page=None)
    session.commit()
    return PortfolioTimelineOut.of(timeline)


@router.get("/load", response_model=LoadOut, dependencies=[Depends(allow(READERS))])
def load_route(
    session: SessionDep,
    weeks: Annotated[int, Query(ge=1, le=MAX_WEEKS, description="Weeks from this one.")] = DEFAULT_WEEKS,
) -> LoadOut:
    """GTM load: each team's open items due per week (Monday to Sunday, UTC) across every draft
    and active launch, against its capacity (the directory's, else the configured default), with
    the overloaded team-weeks listed; open items due before this week are counted as overdue."""
    view = gtm_load(session=session, now=utcnow(), weeks=weeks)
    session.commit()
    return LoadOut.of(view)


@router.get("/load/{team}/{week}", response_model=TeamWeekOut, dependencies=[Depends(allow(READERS))])
def team_week_route(
    team: Annotated[str, Path(max_length=text_limit(Team.key), pattern=KEY_PATTERN, examples=["marketing"])],
    week: Annotated[
        str,
        Path(
            pattern=WEEK_PATTERN,
            description="A day of the week (YYYY-MM-DD; its Monday is meant), or overdue.",
            examples=["2027-03-01"],
        ),
    ],
    session: SessionDep,
) -> TeamWeekOut:
    """The open items ``team`` owes in one week (or overdue ones), soonest due first: the
    drill-down of one cell of the load."""
    found = team_week_items(session=session, team=team, week=parse_week(week), now=utcnow())
    session.commit()
    return TeamWeekOut.of(found)


@router.get("/collisions", response_model=CollisionsOut, dependencies=[Depends(allow(READERS))])
def collisions_route(session: SessionDep) -> CollisionsOut:
    """Collisions ahead among draft and active launches, soonest first: tier 1-2 launches entering
    the same phase in the same region within LAUNCHDECK_COLLISION_WINDOW_DAYS days of each other
    (``overlap``), and phase dates in a region's freeze (``freeze``) or on a public holiday of its
    countries (``holiday``, naming the holiday and the country)."""
    report = portfolio_collisions(session=session, now=utcnow())
    session.commit()
    return CollisionsOut.of(report)
