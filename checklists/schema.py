"""The shape of a template item and of a library manifest, as read from YAML."""

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from orchestrator.core.enums import GateKind, Phase
from orchestrator.launches.spec import gate_kinds_for

KEY_PATTERN = r"^[a-z0-9][a-z0-9._-]*$"
Gate = Literal["blocking", "advisory"]
Tier = Annotated[int, Field(ge=1, le=3)]


class TemplateItem(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    key: str = Field(pattern=KEY_PATTERN, max_length=120)
    title: str = Field(min_length=1, max_length=300)
    description: str = Field(default="", max_length=4000)
    owner: str = Field(min_length=1)
    phase: Phase
    tiers: list[Tier] = Field(default_factory=lambda: [1, 2, 3], min_length=1)
    regions: list[str] = Field(default_factory=lambda: ["all"], min_length=1)
    applies_if: list[str] = Field(default_factory=list)
    due: int | dict[Tier, int] | None = None
    gate: Gate = "blocking"
    gate_by_tier: dict[Tier, Gate] = Field(default_factory=dict)
    depends_on: list[str] = Field(default_factory=list)
    evidence: bool = False
    basis: list[str] = Field(default_factory=list)
    enabled: Literal[True] = True

    @field_validator("tiers")
    @classmethod
    def _distinct_tiers(cls, tiers: list[int]) -> list[int]:
        if len(set(tiers)) != len(tiers):
            raise ValueError("lists a tier twice")
        return sorted(tiers)

    @field_validator("due")
    @classmethod
    def _sane_offset(cls, due: int | dict[int, int] | None) -> int | dict[int, int] | None:
        offsets = [] if due is None else [due] if isinstance(due, int) else list(due.values())
        if any(abs(offset) > 365 for offset in offsets):
            raise ValueError("offsets are days from the phase date and must lie within a year (-365..365)")
        return due

    @model_validator(mode="after")
    def _tier_maps_match_tiers(self) -> "TemplateItem":
        if isinstance(self.due, dict):
            missing = [tier for tier in self.tiers if tier not in self.due]
            if missing:
                raise ValueError(
                    f"due gives no offset for tier(s) {', '.join(map(str, missing))}; "
                    "add them or use one number for every tier"
                )
        extra = [tier for tier in self.gate_by_tier if tier not in self.tiers]
        if extra:
            raise ValueError(f"gate_by_tier names tier(s) {', '.join(map(str, extra))} that are not in tiers")
        return self

    def due_for(self, tier: int) -> int | None:
        if isinstance(self.due, dict):
            return self.due.get(tier)
        return self.due

    def blocking_for(self, tier: int) -> bool:
        return self.gate_by_tier.get(tier, self.gate) == "blocking"


class DisabledItem(BaseModel):
    """`{key: x, enabled: false}` in a company file removes a default item."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    key: str = Field(pattern=KEY_PATTERN)
    enabled: Literal[False]


class ItemFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    items: list[dict[str, object]] = Field(default_factory=list)


class Manifest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: str = Field(default="unversioned", pattern=r"^[A-Za-z0-9._-]{1,40}$")
    flags: dict[str, str] = Field(default_factory=dict)
    # Per tier and phase, the teams whose leads approve a go/no-go gate when a launch names nobody.
    approvers: dict[Tier, dict[Phase, list[str]]] = Field(default_factory=dict)

    @field_validator("flags")
    @classmethod
    def _flag_names(cls, flags: dict[str, str]) -> dict[str, str]:
        bad = [name for name in flags if not name.replace("_", "").isalnum() or not name.islower()]
        if bad:
            raise ValueError(f"flag names are lowercase words joined by '_': {', '.join(bad)}")
        return flags

    @model_validator(mode="after")
    def _approvers_where_votes_are(self) -> "Manifest":
        """Approvers only for phases that have a go/no-go gate at that tier, each team once."""
        for tier, phases in self.approvers.items():
            for phase, teams in phases.items():
                if GateKind.APPROVAL not in gate_kinds_for(tier=tier, phase=phase):
                    raise ValueError(
                        f"approvers: tier {tier} {phase.value} has no go/no-go gate, so nobody would be asked; "
                        "remove it (go/no-go gates: GA, and public beta of Tier 1)"
                    )
                if not teams or len(set(teams)) != len(teams):
                    raise ValueError(f"approvers: tier {tier} {phase.value}: list each team once, at least one")
        return self
