"""The directory file `launchdeck init` loads: teams, regions and members, validated with the
line of every problem."""

from importlib import resources
from pathlib import Path
from typing import Annotated

import holidays as holiday_data
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from orchestrator.core.clock import zone
from orchestrator.core.enums import Role
from orchestrator.core.errors import ConfigError, InvalidInput
from orchestrator.core.models import Member, Region, Team, text_limit
from orchestrator.core.yaml_source import YamlDocument, load_model, parse_yaml, read_yaml

KEY_PATTERN = r"^[a-z][a-z0-9_]*$"
EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
REGION_PATTERN = r"^[A-Z]{2,10}(:[A-Z]{2}(-[A-Z0-9]{1,3})?)?$"
HOLIDAY_COUNTRY_PATTERN = r"^[A-Z]{2}(-[A-Z0-9]{1,3})?$"


def holiday_country_problem(code: str) -> str | None:
    """Why ``code`` names no public-holiday calendar (None when it does): an ISO 3166-1 alpha-2
    country the ``holidays`` package covers (DE), or one of its subdivisions (CA-QC)."""
    country, _, subdivision = code.partition("-")
    supported = holiday_data.list_supported_countries()
    if len(country) != 2 or country not in supported:
        return f"{code!r} is not a country with a holiday calendar; use ISO 3166-1 alpha-2 codes such as DE, US, JP"
    if subdivision and subdivision not in supported[country]:
        known = ", ".join(supported[country][:12]) or "none"
        return f"{country} has no subdivision {subdivision!r} in the holiday calendars (some it has: {known})"
    return None


class TeamSeed(BaseModel):
    model_config = ConfigDict(extra="forbid")
    key: str = Field(pattern=KEY_PATTERN, max_length=text_limit(Team.key))
    name: str = Field(min_length=1, max_length=text_limit(Team.name))
    slack_channel: str | None = Field(default=None, max_length=text_limit(Team.slack_channel))
    lead: str | None = Field(
        default=None,
        pattern=EMAIL_PATTERN,
        max_length=text_limit(Team.lead),
        description="Email of the member who approves for the team where the templates ask for its lead.",
    )
    capacity_per_week: int | None = Field(
        default=None,
        ge=1,
        le=10_000,
        description="Open items a week the team can take across all launches (GTM load); "
        "none: LAUNCHDECK_TEAM_CAPACITY_PER_WEEK.",
    )


class RegionSeed(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str = Field(
        pattern=REGION_PATTERN,
        max_length=text_limit(Region.code),
        description="e.g. EU, or a sub-region such as NA:CA-QC",
    )
    name: str = Field(min_length=1, max_length=text_limit(Region.name))
    timezone: str = Field(max_length=text_limit(Region.timezone))
    slack_channel: str | None = Field(default=None, max_length=text_limit(Region.slack_channel))
    rollout_order: int = 100
    parent: str | None = None
    holiday_countries: list[Annotated[str, Field(pattern=HOLIDAY_COUNTRY_PATTERN, max_length=6)]] = Field(
        default_factory=list,
        max_length=20,
        description="Countries whose public holidays its phase dates should avoid: ISO 3166-1 alpha-2 "
        "(DE), or a country and subdivision (CA-QC).",
        examples=[["DE", "FR"]],
    )

    @field_validator("timezone")
    @classmethod
    def _iana(cls, value: str) -> str:
        try:
            zone(value)
        except InvalidInput as exc:
            raise ValueError(exc.problem) from None
        return value

    @field_validator("holiday_countries")
    @classmethod
    def _known_countries(cls, codes: list[str]) -> list[str]:
        for code in codes:
            problem = holiday_country_problem(code)
            if problem is not None:
                raise ValueError(problem)
        if len(set(codes)) != len(codes):
            raise ValueError("lists a country twice")
        return codes


class MemberSeed(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: str = Field(pattern=EMAIL_PATTERN, max_length=text_limit(Member.email))
    name: str = Field(min_length=1, max_length=text_limit(Member.name))
    team: str | None = None
    role: Role = Role.MEMBER
    slack_user_id: str | None = Field(
        default=None, pattern=r"^[UW][A-Z0-9]{2,}$", max_length=text_limit(Member.slack_user_id)
    )


class SeedConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    teams: list[TeamSeed] = Field(default_factory=list)
    regions: list[RegionSeed] = Field(default_factory=list)
    members: list[MemberSeed] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique_keys(self) -> "SeedConfig":
        for label, keys in (
            ("teams", [team.key for team in self.teams]),
            ("regions", [region.code for region in self.regions]),
            ("members", [str(member.email) for member in self.members]),
        ):
            repeated = sorted({key for key in keys if keys.count(key) > 1})
            if repeated:
                raise ValueError(f"{label} listed twice: {', '.join(repeated)}")
        return self


def cross_check(config: SeedConfig, document: YamlDocument) -> None:
    """References between sections (parent regions, member teams), reported all at once."""
    problems: list[str] = []
    codes = {region.code for region in config.regions}
    for index, region in enumerate(config.regions):
        if region.parent is not None and region.parent not in codes:
            problems.append(
                f"{document.where(['regions', index, 'parent'])}: regions.{index}.parent: "
                f"unknown region {region.parent!r}; define it in regions first"
            )
        elif region.parent is None and ":" in region.code:
            problems.append(
                f"{document.where(['regions', index, 'code'])}: regions.{index}: sub-region {region.code} "
                f"needs parent: {region.code.split(':')[0]}"
            )
    team_keys = {team.key for team in config.teams}
    for index, member in enumerate(config.members):
        if member.team is not None and member.team not in team_keys:
            problems.append(
                f"{document.where(['members', index, 'team'])}: members.{index}.team: "
                f"unknown team {member.team!r}; "
                f"known: {', '.join(sorted(team_keys))}"
            )
    if problems:
        raise ConfigError(document.source, problems)


def load_seed(path: Path | None) -> SeedConfig:
    """Read a seed file, or launchdeck's built-in directory when ``path`` is None."""
    if path is None:
        text = resources.files("orchestrator").joinpath("defaults/seed.yaml").read_text(encoding="utf-8")
        document = parse_yaml(text, source="built-in seed.yaml")
    else:
        document = read_yaml(path)
    config = load_model(document, SeedConfig)
    cross_check(config, document)
    return config
