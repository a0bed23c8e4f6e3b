"""The directory: teams, regions and members. Everyone may read it (items and tokens name
them); only admins change it. A POST upserts one row by its key (team key, region code, member
email) with the same validation as the seed file, and answers 201 when it created the row. The
body is the whole row, as in the seed file: optional fields left out go back to their defaults."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response, status

from api.deps import PrincipalDep, SessionDep, allow
from api.problems import ERROR_RESPONSES
from api.schemas.common import MAX_DB_INT, Page
from api.schemas.directory import MemberIn, MemberOut, RegionIn, RegionOut, RegionRow, TeamIn, TeamOut
from orchestrator.core.models import Region
from orchestrator.core.policy import ADMINS, READERS
from orchestrator.directory import service as directory
from orchestrator.directory.queries import MemberView, list_members, list_regions, list_teams

router = APIRouter(responses=ERROR_RESPONSES, tags=["admin"])
Limit = Annotated[int, Query(ge=1, le=500)]
Offset = Annotated[int, Query(ge=0, le=MAX_DB_INT)]
CREATED: dict[int | str, dict[str, Any]] = {
    status.HTTP_201_CREATED: {"description": "The row did not exist and was created."}
}


def _status(response: Response, outcome: str) -> None:
    response.status_code = status.HTTP_201_CREATED if outcome == "created" else status.HTTP_200_OK


def _region_out(region: Region, parent: str | None) -> RegionOut:
    return RegionOut.model_validate(RegionRow(region, parent), from_attributes=True)


@router.get("/teams", response_model=Page[TeamOut], dependencies=[Depends(allow(READERS))])
def teams(session: SessionDep, limit: Limit = 100, offset: Offset = 0) -> Page[TeamOut]:
    """Teams by key."""
    rows = list_teams(session=session)
    data = [TeamOut.model_validate(team, from_attributes=True) for team in rows[offset : offset + limit]]
    return Page(data=data, count=len(rows), limit=limit, offset=offset)


@router.post("/teams", response_model=TeamOut, responses=CREATED, dependencies=[Depends(allow(ADMINS))])
def upsert_team(body: TeamIn, response: Response, session: SessionDep, principal: PrincipalDep) -> TeamOut:
    """Create the team, or update the one with this key."""
    outcome, team = directory.upsert_team(session=session, seed=body, actor=principal.actor)
    _status(response, outcome)
    return TeamOut.model_validate(team, from_attributes=True)


@router.get("/regions", response_model=Page[RegionOut], dependencies=[Depends(allow(READERS))])
def regions(session: SessionDep, limit: Limit = 100, offset: Offset = 0) -> Page[RegionOut]:
    """Regions in rollout order, each naming its parent region."""
    rows = list_regions(session=session)
    return Page(
        data=[_region_out(region, parent) for region, parent in rows[offset : offset + limit]],
        count=len(rows),
        limit=limit,
        offset=offset,
    )


@router.post("/regions", response_model=RegionOut, responses=CREATED, dependencies=[Depends(allow(ADMINS))])
def upsert_region(body: RegionIn, response: Response, session: SessionDep, principal: PrincipalDep) -> RegionOut:
    """Create the region, or update the one with this code; a parent must exist already."""
    outcome, region = directory.upsert_region(session=session, seed=body, actor=principal.actor)
    _status(response, outcome)
    return _region_out(region, body.parent)


@router.get("/members", response_model=Page[MemberOut], dependencies=[Depends(allow(READERS))])
def members(session: SessionDep, limit: Limit = 100, offset: Offset = 0) -> Page[MemberOut]:
    """Members by email, each with their team's key."""
    rows = list_members(session=session)
    return Page(
        data=[MemberOut.model_validate(view, from_attributes=True) for view in rows[offset : offset + limit]],
        count=len(rows),
        limit=limit,
        offset=offset,
    )


@router.post("/members", response_model=MemberOut, responses=CREATED, dependencies=[Depends(allow(ADMINS))])
def upsert_member(body: MemberIn, response: Response, session: SessionDep, principal: PrincipalDep) -> MemberOut:
    """Create the member, or update the one with this email; the team must exist."""
    outcome, member = directory.upsert_member(session=session, seed=body, actor=principal.actor)
    _status(response, outcome)
    return MemberOut.model_validate(MemberView(member, body.team), from_attributes=True)
