"""The directory (teams, regions, members): admins' upsert bodies, validated as the seed file
validates them, and the rows as answered."""

from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, Field, field_validator

from api.schemas.common import CleanText, view_of
from orchestrator.core.enums import Role
from orchestrator.core.models import Region, Team, text_limit
from orchestrator.directory.queries import MemberView
from orchestrator.directory.seed import MemberSeed, RegionSeed, TeamSeed


class TeamIn(TeamSeed, CleanText):
    """A team, validated exactly as the seed file validates it (a number is a JSON number)."""

    capacity_per_week: int | None = Field(
        default=None,
        strict=True,
        ge=1,
        le=10_000,
        description="Open items a week the team can take across all launches (GTM load); "
        "null: LAUNCHDECK_TEAM_CAPACITY_PER_WEEK.",
    )


class RegionIn(RegionSeed, CleanText):
    """A region, validated as the seed file does, plus bounds the database needs."""

    timezone: str = Field(min_length=1, max_length=text_limit(Region.timezone), examples=["Europe/Berlin"])
    rollout_order: int = Field(default=100, strict=True, ge=0, le=100_000)
    parent: str | None = Field(default=None, max_length=text_limit(Region.code))

    @field_validator("timezone")
    @classmethod
    def _iana(cls, value: str) -> str:
        """Replaces the seed's check: ZoneInfo raises OSError (not ValueError) for a directory
        such as "Europe" or an over-long name, which must be a 422, not a server error."""
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            raise ValueError(f"{value!r} is not an IANA timezone (e.g. Europe/Berlin)") from None
        return value


class MemberIn(MemberSeed, CleanText):
    """A member, validated as the seed file does; ``team`` is a team key."""

    team: str | None = Field(default=None, max_length=text_limit(Team.key))


@dataclass(frozen=True)
class RegionRow:
    """A region with its parent's code, as ``list_regions`` reads it and `RegionOut` answers it."""

    region: Region
    parent: str | None


class TeamOut(BaseModel):
    id: int
    key: str
    name: str
    slack_channel: str | None
    lead: str | None
    capacity_per_week: int | None = Field(description="Items a week (GTM load); null: the configured default.")


class RegionOut(BaseModel):
    model_config = view_of(RegionRow, "region")

    id: int
    code: str
    name: str
    timezone: str
    slack_channel: str | None
    rollout_order: int
    parent: str | None
    holiday_countries: list[str] = Field(description="Countries whose public holidays its phase dates should avoid.")


class MemberOut(BaseModel):
    model_config = view_of(MemberView, "member")

    id: int
    email: str
    name: str
    team: str | None
    role: Role
    slack_user_id: str | None
