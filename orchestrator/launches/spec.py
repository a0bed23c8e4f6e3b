"""What a launch is created from: its regions' phase dates, tier, flags, ramp plan and beta exit
criteria (validated as one pydantic model), its items, and the gates each phase gets."""

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from itertools import pairwise
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from orchestrator.core.clock import as_utc, plain_day, region_moment
from orchestrator.core.enums import BETA_PHASES, ExitMetric, GateKind, Phase, WaveMode
from orchestrator.core.errors import InvalidInput
from orchestrator.directory.seed import EMAIL_PATTERN
from orchestrator.rollouts.ramp import parse_ramp_plan
from orchestrator.rollouts.target import FLAG_KEY_PATTERN, TargetName

SLUG_PATTERN = r"^[a-z0-9][a-z0-9-]{1,78}[a-z0-9]$"
SLUG_RULE = (
    "use 3 to 80 lowercase letters, digits and dashes, starting and ending with a letter or a digit "
    f"(e.g. acme-assistant; pattern {SLUG_PATTERN})"
)


def check_slug(value: str) -> str:
    """The slug rule said in words, with the pattern as written: pydantic's own message for a
    pattern ("String should match pattern ...") tells nobody what to type instead."""
    if not re.fullmatch(SLUG_PATTERN, value):
        raise ValueError(f"{value!r} is not a valid slug: {SLUG_RULE}")
    return value


def check_flag_key(value: str | None) -> str | None:
    if value is not None and not re.fullmatch(FLAG_KEY_PATTERN, value):
        raise ValueError(
            f"{value!r} is not a valid flag key: use 1 to 100 letters, digits, dots, dashes and underscores, "
            "starting with a letter or a digit (e.g. new-checkout)"
        )
    return value


# The feature flag a launch (or a region) moves in its rollout target; None: the launch slug.
FlagKey = Annotated[
    str | None,
    AfterValidator(check_flag_key),
    Field(
        default=None,
        description="The feature flag exposure changes move (default: the launch slug).",
        json_schema_extra={"pattern": FLAG_KEY_PATTERN},
    ),
]
TargetChoice = Annotated[
    TargetName | None,
    Field(default=None, description="Where exposure changes go (default: LAUNCHDECK_ROLLOUT_TARGET)."),
]


# A launch slug wherever one comes in (the spec, the API body): checked by ``check_slug``, and
# still published with its pattern in JSON schemas and the OpenAPI document.
Slug = Annotated[
    str,
    AfterValidator(check_slug),
    Field(
        description="lowercase letters, digits and dashes, 3-80 characters", json_schema_extra={"pattern": SLUG_PATTERN}
    ),
]


SKIP_HOW = 'skip it explicitly ("skip": ["{phase}"] in the API, --skip {phase} in the CLI)'


# Validation context key: each region's IANA timezone by code (``launch_spec`` gives it).
TIMEZONES = "timezones"


def _in_region(value: object, *, region: str, timezones: Mapping[str, str] | None) -> object:
    """A phase date as its region reads it: a plain date (text or ``date``) is the start of that
    day in the region's timezone (``clock.region_moment``); anything else is left to pydantic."""
    if isinstance(value, str):
        try:
            value = plain_day(value) or value
        except InvalidInput as exc:
            raise ValueError(exc.problem) from None
    if not isinstance(value, date) or isinstance(value, datetime):
        return value
    if timezones is None:
        raise ValueError("a plain date needs its region's timezone: validate the launch with launch_spec()")
    # A region the directory lacks is refused when the launch is created, naming the known ones;
    # until then its dates are read in UTC.
    try:
        return region_moment(value, timezone=timezones.get(region, "UTC"), field="date")
    except InvalidInput as exc:
        raise ValueError(exc.problem) from None


class RegionPlan(BaseModel):
    """A region's phase dates and the phases it skips. Every phase is one or the other, so a
    forgotten date is refused instead of silently skipping the phase."""

    model_config = ConfigDict(extra="forbid")

    region: str = Field(min_length=1, max_length=40)
    dates: dict[Phase, datetime]
    skip: list[Phase] = Field(
        default_factory=list,
        validate_default=True,
        description="Phases this region does not go through; every other phase needs a date.",
    )
    rollout_target: TargetChoice = None
    flag_key: FlagKey = None

    @field_validator("dates", mode="before")
    @classmethod
    def _plain_dates(cls, dates: object, info: ValidationInfo) -> object:
        """A plain date (YYYY-MM-DD) is the start of that day in the region's timezone, as in
        every door (``clock.region_moment``); the timezones come in the validation context."""
        if not isinstance(dates, dict):
            return dates
        region = str(info.data.get("region", ""))
        timezones = (info.context or {}).get(TIMEZONES)
        return {phase: _in_region(value, region=region, timezones=timezones) for phase, value in dates.items()}

    @field_validator("dates")
    @classmethod
    def _aware_and_ordered(cls, dates: dict[Phase, datetime]) -> dict[Phase, datetime]:
        ordered = [phase for phase in Phase.ordered() if phase in dates]
        for phase in ordered:
            if dates[phase].tzinfo is None:
                raise ValueError(f"{phase.value} date needs a timezone offset (e.g. 2027-03-01T09:00:00+00:00)")
        for earlier, later in pairwise(ordered):
            if dates[later] < dates[earlier]:
                raise ValueError(f"{later.value} ({dates[later].isoformat()}) is before {earlier.value}")
        return {phase: as_utc(dates[phase]) for phase in ordered}

    @field_validator("skip")
    @classmethod
    def _every_phase_dated_or_skipped(cls, skip: list[Phase], info: ValidationInfo) -> list[Phase]:
        region = info.data.get("region", "?")
        dates = info.data.get("dates")
        if dates is None:  # the dates were refused already; that error says what to fix
            return skip
        if not dates:
            # Any phase may be skipped, GA included (a region may stop at a beta), but not all of them.
            raise ValueError(f"region {region} has no phase date; give at least one phase a date")
        both = [phase.value for phase in Phase.ordered() if phase in dates and phase in skip]
        if both:
            raise ValueError(f"region {region}: {', '.join(both)} has a date and is skipped; keep one or the other")
        for phase in Phase.ordered():
            if phase not in dates and phase not in skip:
                how = SKIP_HOW.format(phase=phase.value)
                raise ValueError(f"region {region}: {phase.value} has no date; give it a date or {how}")
        return [phase for phase in Phase.ordered() if phase in skip]


class LaunchSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    slug: Slug
    name: str = Field(min_length=1, max_length=200)
    tier: int = Field(ge=1, le=3)
    owner: str = Field(min_length=1, max_length=254, description="the owner's email address")
    exec_sponsor: str | None = Field(default=None, max_length=254, description="the sponsor's email address")
    flags: list[str] = Field(default_factory=list)
    regions: list[RegionPlan] = Field(min_length=1)
    approvers: list[str] = Field(
        default_factory=list, description="Member emails who approve every approval gate (unless phase_approvers says)."
    )
    phase_approvers: dict[Phase, list[str]] = Field(
        default_factory=dict, description="Per phase, the approvers of its approval gates, instead of approvers."
    )
    approval_quorum: int | None = Field(
        default=None, ge=1, le=50, description="How many approvers must say Go (default: all of them)."
    )
    approval_distinct_teams: bool = Field(
        default=False, description="The Gos that make the quorum must come from that many distinct teams."
    )
    template_version: str | None = None
    wave_mode: WaveMode = WaveMode.PARALLEL
    rollout_target: TargetChoice = None
    flag_key: FlagKey = None
    ramp_plan: dict[str, list[dict[str, int | float]]] = Field(
        default_factory=dict, description="Exposure steps per phase; phases left out use the defaults."
    )
    beta_exit_criteria: dict[Phase, dict[ExitMetric, int]] = Field(
        default_factory=dict,
        description="Per beta phase, the thresholds for leaving it, e.g. "
        '{"private_beta": {"open_severity_1": 0, "active_accounts": 20}}; they gate the next phase.',
    )

    @field_validator("owner", "exec_sponsor")
    @classmethod
    def _an_email(cls, value: str | None, info: ValidationInfo) -> str | None:
        """Owners and sponsors are reached by email (the guardrail's DM finds the owner's member
        by it), so a name or a typo is refused here rather than silently never reached."""
        if value is None:
            return None
        value = value.strip()
        if not re.fullmatch(EMAIL_PATTERN, value):
            raise ValueError(
                f"{value!r} is not an email address; give the {info.field_name}'s email, e.g. pat@example.com"
            )
        return value

    @field_validator("beta_exit_criteria")
    @classmethod
    def _beta_phases_only(cls, criteria: dict[Phase, dict[ExitMetric, int]]) -> dict[Phase, dict[ExitMetric, int]]:
        for phase, thresholds in criteria.items():
            if phase not in BETA_PHASES:
                raise ValueError(
                    f"{phase.value} is not a beta phase; exit criteria belong to private_beta or public_beta"
                )
            for metric, threshold in thresholds.items():
                if threshold < 0:
                    raise ValueError(f"{phase.value}.{metric.value}: threshold must be 0 or more, got {threshold}")
        return criteria

    @field_validator("ramp_plan")
    @classmethod
    def _valid_ramp(cls, plan: dict[str, list[dict[str, int | float]]]) -> dict[str, list[dict[str, int | float]]]:
        try:
            parse_ramp_plan(plan)
        except InvalidInput as exc:
            raise ValueError(exc.message) from None
        return plan

    def named_targets(self) -> list[tuple[str, str]]:
        """Every rollout target this launch names, with the field that names it."""
        named = [("rollout_target", self.rollout_target)] + [
            (f"regions.{index}.rollout_target", plan.rollout_target) for index, plan in enumerate(self.regions)
        ]
        return [(where, name) for where, name in named if name is not None]

    def approvers_of(self, phase: Phase) -> list[str]:
        """Who approves ``phase``'s approval gates: the phase's own list, else the launch's."""
        return list(self.phase_approvers.get(phase, self.approvers))

    @model_validator(mode="after")
    def _regions_once(self) -> "LaunchSpec":
        codes = [plan.region for plan in self.regions]
        duplicates = sorted({code for code in codes if codes.count(code) > 1})
        if duplicates:
            raise ValueError(f"regions listed more than once: {', '.join(duplicates)}")
        quorum = self.approval_quorum
        for listed in [self.approvers, *self.phase_approvers.values()]:
            if quorum is not None and listed and quorum > len(set(listed)):
                raise ValueError(f"approval_quorum {quorum} is more than the {len(set(listed))} approvers named")
        return self


def launch_spec(data: Mapping[str, Any], *, timezones: Mapping[str, str]) -> LaunchSpec:
    """The spec a door's data describes, its plain dates read in each region's timezone (by code,
    ``directory.queries.region_timezones``): every door that creates a launch validates through here."""
    return LaunchSpec.model_validate(data, context={TIMEZONES: timezones})


@dataclass(frozen=True)
class ItemSpec:
    """One checklist item to create, as produced by the checklists package."""

    region: str
    phase: Phase
    key: str
    title: str
    owner_team: str
    description: str = ""
    due_offset_days: int | None = None
    blocking: bool = True
    evidence_required: bool = False
    depends_on: tuple[str, ...] = field(default_factory=tuple)


def gate_kinds_for(*, tier: int, phase: Phase) -> list[GateKind]:
    """Every phase waits for its checklist and its date; GA (and public beta of a Tier 1) also
    needs a go/no-go vote, as go/no-go practice scales with tier."""
    kinds = [GateKind.CHECKLIST, GateKind.TIME]
    if phase == Phase.GA or (tier == 1 and phase == Phase.PUBLIC_BETA):
        kinds.append(GateKind.APPROVAL)
    return kinds


def beta_exit_gate_phases(*, planned: Sequence[Phase], criteria: dict[Phase, dict[ExitMetric, int]]) -> list[Phase]:
    """The phases a region enters only through a beta-exit gate: the planned phase right after
    each beta that has criteria (public_beta after private_beta, ga after public_beta)."""
    ordered = [phase for phase in Phase.ordered() if phase in planned]
    return [following for beta, following in pairwise(ordered) if beta in BETA_PHASES and criteria.get(beta)]
